/**
 * What "S/N" means for `synth --snr` and `inject --snr`, and the amplitude that
 * gives it.
 *
 * Definition: the S/N of the pulsar in the folded, dedispersed time series that
 * PRESTO makes from the file (each channel's samples scaled by DAT_SCL, offset by
 * DAT_OFFS and multiplied by DAT_WTS, then summed at the true DM), measured with
 * the pulse's own shape as the matched filter:
 *
 *     S/N = sqrt( sum_t (s(t) - mean s)^2 ) / sigma
 *
 * where s(t) is the pulsar's contribution to that series over all N samples and
 * sigma the rms of the noise per sample. For a folded profile with fine bins
 * this is sqrt(sum_bins ((p_i - mean p) / sigma_bin)^2), the square root of the
 * profile's chi-square minus its degrees of freedom; a boxcar of the best width
 * gets ~0.94 of it for a Gaussian pulse. It counts the losses the data force
 * (quantisation, clipping, the bandpass weighting, the pulse widened by the
 * sample time and by dispersion inside each channel), not those of a search (an
 * off-grid DM or period, rfifind's mask, red-noise removal, Fourier scalloping,
 * trials).
 *
 * What real PRESTO 6.0.1 reports for it (tests in test/synth, and by hand):
 *   - prepfold -nosearch at the true P and DM: sqrt((reduced chi^2 - 1) * (bins - 1))
 *     is 0.9-1.05 of S/N * sqrt(share of the samples it folded) (it folds whole
 *     parts only, e.g. 192 of 224 rows); its "(~N sigma)" is 0.8-0.9 of that for
 *     S/N 25-65;
 *   - accelsearch (-zmax 0 -numharm 16, after rednoise): sigma ~0.7 of S/N at 25,
 *     ~0.9 at 30-65 (its sigma carries a trials penalty that weighs on faint ones).
 *
 *   SNR_DEFINITION                      the definition in one line, for parameter files
 *   snrPerUnitAmplitude(model, channels, samples)
 *       S/N for amplitude 1 (the pulse peak equal to one noise rms per channel-sample)
 */

import { type PulsarModel } from "./pulsar";

export const SNR_DEFINITION =
  "matched-filter S/N of the pulsar in the dedispersed (true DM), folded (true period) sum of all channels " +
  "as PRESTO forms it (DAT_SCL, DAT_OFFS, DAT_WTS applied): sqrt(sum over samples of (s - mean s)^2) / noise rms per sample; " +
  "for a finely binned profile, sqrt(chi-square - dof)";

export interface SnrChannel {
  /** What PRESTO multiplies the channel's raw samples by: DAT_SCL * DAT_WTS (0 drops it). */
  weight: number;
  /** rms of the channel's raw samples (noise, in raw units). */
  noiseRms: number;
  /** Signal added per unit amplitude, as a fraction of noiseRms (quantisation, clipping). */
  gain: number;
}

export function snrPerUnitAmplitude(model: PulsarModel, channels: readonly SnrChannel[], samples: number): number {
  const n = channels.length;
  if (n !== model.sigmaPhase.length) throw new Error("internal error: channel count differs from the pulsar model's");
  const coef = new Float64Array(n);
  let noiseVar = 0;
  let minSigma = Infinity;
  let maxSigma = 0;
  let meanP = 0;
  for (let c = 0; c < n; c++) {
    const ch = channels[c];
    coef[c] = ch.weight * ch.noiseRms * ch.gain;
    noiseVar += ch.weight * ch.weight * ch.noiseRms * ch.noiseRms;
    if (coef[c] === 0) continue;
    minSigma = Math.min(minSigma, model.sigmaPhase[c]);
    maxSigma = Math.max(maxSigma, model.sigmaPhase[c]);
    // Over a whole period the pulse and its images integrate to the full Gaussian.
    meanP += coef[c] * model.peak[c] * model.sigmaPhase[c] * Math.sqrt(2 * Math.PI);
  }
  if (noiseVar === 0 || maxSigma === 0) return 0;
  // Integrate p(phase)^2 over the phases where the pulse is, on a grid fine enough
  // for the narrowest channel's pulse.
  const half = Math.min(0.5, 9 * maxSigma);
  const points = Math.min(1 << 16, Math.max(256, Math.ceil((2 * half) / (minSigma / 8))));
  const h = (2 * half) / points;
  let sumP2 = 0;
  for (let i = 0; i < points; i++) {
    const phase = -half + (i + 0.5) * h;
    let p = 0;
    for (let c = 0; c < n; c++) if (coef[c] !== 0) p += coef[c] * model.profile(c, phase);
    sumP2 += p * p * h;
  }
  const variance = Math.max(0, sumP2 - meanP * meanP);
  return Math.sqrt(samples * variance) / Math.sqrt(noiseVar);
}
