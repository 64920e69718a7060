/**
 * Axis scales, limits and tick positions for linear and log10 axes.
 *
 * Public API:
 *   interface Scale, Ticks
 *   dataLimits(values, log, pad): [min, max]
 *   toFraction(scale, v): number          0 at scale.min, 1 at scale.max
 *   linearTicks(min, max, maxCount): Ticks
 *   logTicks(min, max, maxCount): Ticks
 *   formatTick(v): string
 *   niceStep(rough): number               the smallest 1, 2 or 5 x 10^k >= rough
 *   histogram(values, maxBins): { edges, counts }
 *
 * Linear ticks are multiples of 1, 2 or 5 x 10^k, the smallest such step that gives
 * at most maxCount ticks (the caller derives maxCount from the axis length and the
 * label width, so labels never collide). Log ticks are labelled at powers of ten
 * (every n-th decade if there are too many), with unlabelled minor ticks at 2-9 x
 * 10^k; when fewer than three decades are in view, 2x and 5x are labelled too, and
 * within a decade linear steps are used, so there are always a few numbers to read
 * positions against.
 */

export interface Scale {
  log: boolean;
  min: number;
  max: number;
}

export interface Ticks {
  /** Labelled tick positions, in data units. */
  major: number[];
  /** Short unlabelled ticks (log axes). */
  minor: number[];
}

/**
 * Limits covering `values` with `pad` (a fraction of the span, in log10 units on log
 * axes) either side. Non-finite values (and non-positive ones on a log axis) are
 * ignored; with no usable values the range is [0, 1] (linear) or [1, 10] (log); a
 * single value gets a span of its own size.
 */
export function dataLimits(values: Iterable<number>, log: boolean, pad = 0.05): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const raw of values) {
    if (!Number.isFinite(raw) || (log && raw <= 0)) continue;
    const v = log ? Math.log10(raw) : raw;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return log ? [1, 10] : [0, 1];
  if (lo === hi) {
    const half = log ? 0.5 : Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 0.5;
    lo -= half;
    hi += half;
  }
  const span = hi - lo;
  lo -= span * pad;
  hi += span * pad;
  return log ? [10 ** lo, 10 ** hi] : [lo, hi];
}

export function toFraction(s: Scale, v: number): number {
  if (s.log) return (Math.log10(v) - Math.log10(s.min)) / (Math.log10(s.max) - Math.log10(s.min));
  return (v - s.min) / (s.max - s.min);
}

export function linearTicks(min: number, max: number, maxCount: number): Ticks {
  const span = max - min;
  if (!(span > 0)) return { major: [min], minor: [] };
  const count = Math.max(2, maxCount);
  let mag = 10 ** Math.floor(Math.log10(span / count));
  for (;;) {
    for (const m of [1, 2, 5]) {
      const step = m * mag;
      const first = Math.ceil(min / step - 1e-9);
      const last = Math.floor(max / step + 1e-9);
      if (last - first + 1 <= count) {
        const major: number[] = [];
        // Multiply rather than accumulate so that 0.1-steps do not drift (0.30000000000000004).
        for (let k = first; k <= last; k++) major.push(clean(k * step));
        return { major, minor: [] };
      }
    }
    mag *= 10;
  }
}

export function logTicks(min: number, max: number, maxCount: number): Ticks {
  const lo = Math.log10(min);
  const hi = Math.log10(max);
  const inRange = (v: number) => v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9);
  const all: number[] = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (let m = 1; m <= 9; m++) {
      const v = clean(m * 10 ** k);
      if (inRange(v)) all.push(v);
    }
  }
  const isDecade = (v: number) => Number.isInteger(clean(Math.log10(v)));
  const decades = all.filter(isDecade);

  // Under three decades in view, label 1, 2 and 5 x 10^k too (if there is room), so
  // that the axis has enough numbers to read positions against; otherwise label
  // every n-th decade.
  let major: number[];
  const dense = all.filter((v) => [1, 2, 5].includes(Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9))));
  if ((decades.length < 3 && dense.length <= Math.max(2, maxCount)) || decades.length === 0) {
    major = dense;
  } else {
    const every = Math.max(1, Math.ceil(decades.length / Math.max(1, maxCount)));
    major = decades.filter((v) => Math.round(Math.log10(v)) % every === 0);
  }
  // Well inside one decade (3..4, say) none of those may be in view: use linear steps.
  if (major.length < 2) major = linearTicks(min, max, maxCount).major.filter((v) => v > 0);
  return { major, minor: all.filter((v) => !major.includes(v)) };
}

/** 12 significant digits removes binary noise (1e-3 stays "0.001", 0.1*3 becomes "0.3"). */
function clean(v: number): number {
  return Number(v.toPrecision(12));
}

/** A short label: "0.001", "250", "1e-5", "1e+6" (JavaScript's shortest form; no "-0"). */
export function formatTick(v: number): string {
  const c = clean(v);
  if (c === 0) return "0";
  const abs = Math.abs(c);
  if (abs >= 1e-4 && abs < 1e6) return String(c);
  return c.toExponential();
}

export function niceStep(rough: number): number {
  if (!(rough > 0) || !Number.isFinite(rough)) return 1;
  const mag = 10 ** Math.floor(Math.log10(rough));
  for (const m of [1, 2, 5, 10]) if (m * mag >= rough * (1 - 1e-9)) return clean(m * mag);
  return clean(10 * mag);
}

/**
 * Counts of `values` (non-finite ones ignored) in at most about maxBins bins of a
 * nice width starting at a multiple of it, so bin edges are round numbers; bin k
 * holds edges[k] <= v < edges[k+1]. No values: no bins.
 */
export function histogram(values: readonly number[], maxBins = 20): { edges: number[]; counts: number[] } {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return { edges: [], counts: [] };
  // Loops, not Math.min(...values): spreading a huge array overflows the stack.
  let min = Infinity;
  let max = -Infinity;
  for (const v of finite) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const step = niceStep((max - min || Math.max(Math.abs(max), 1)) / maxBins);
  const start = Math.floor(min / step) * step;
  const bins = Math.floor((max - start) / step + 1e-9) + 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of finite) counts[Math.min(bins - 1, Math.max(0, Math.floor((v - start) / step + 1e-9)))]!++;
  const edges = Array.from({ length: bins + 1 }, (_, k) => clean(start + k * step));
  return { edges, counts };
}
