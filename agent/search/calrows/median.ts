/**
 * numpy.median of float32 data, to the bit.
 *
 * Public API:
 *   medianFloat32(values): number      sorts `values` in place
 *   f32(x): number                     Math.fround
 *
 * PALFA took np.median of a float32 memmap, so every statistic of the cal-row test
 * is float32: the median of an even count is np.mean of the two middle values,
 * i.e. float32(a + b) / 2; the deviations meds - med_of_meds and the scores
 * (meds - med_of_meds) / mad are float32 too. Whether a row sits just above or just
 * below "50 MADs" depends on that rounding, so we reproduce it rather than work
 * in doubles. A row holding a NaN has a NaN median, as with numpy.
 */

export const f32 = Math.fround;

export function medianFloat32(values: Float32Array): number {
  const n = values.length;
  if (n === 0) return NaN;
  values.sort(); // numeric for typed arrays; NaNs sort last
  if (Number.isNaN(values[n - 1])) return NaN;
  const mid = n >> 1;
  if (n % 2 === 1) return values[mid];
  return f32(f32(values[mid - 1] + values[mid]) / 2);
}
