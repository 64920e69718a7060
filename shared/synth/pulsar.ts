/**
 * A dispersed periodic pulsar as seen by a filterbank: per channel, a train of
 * Gaussian pulses delayed by dispersion and widened by the sample time and the
 * dispersion sweep inside the channel.
 *
 *   interface PulsarParams { periodS, dm, duty, phase }
 *   class PulsarModel(params, freqsMhz, chanBwMhz, tsampS)
 *     delayS[c], sigmaPhase[c], peak[c]     per-channel delay, width (phase units), peak factor
 *     add(c, firstSample, n, out, amplitude) out[i] += amplitude * pulse(c, firstSample + i)
 *     profile(c, phase)                      the same pulse shape at one phase (exact exp)
 *
 * The intrinsic pulse is a Gaussian of full width at half maximum duty * P whose
 * peak arrives at infinite frequency at t = (phase + k) * P after the first
 * sample; channel c sees it DM_CONSTANT * DM / f_c^2 later. Its width in channel
 * c adds in quadrature the sample time and the channel's dispersion sweep (each
 * a boxcar, variance width^2 / 12), keeping the pulse's area: `amplitude` is the
 * peak of the unsmeared pulse, and a smeared one peaks lower (peak[c] < 1).
 * Pulses one period away overlap for wide profiles and are added as well.
 */

import { channelSmearing, dispersionDelay } from "./sky";

export interface PulsarParams {
  /** Topocentric period, s. */
  periodS: number;
  /** Dispersion measure, pc cm^-3. */
  dm: number;
  /** FWHM of the pulse as a fraction of the period. */
  duty: number;
  /** Phase (0-1) of the pulse peak at infinite frequency at the first sample. */
  phase: number;
}

const FWHM_PER_SIGMA = 2 * Math.sqrt(2 * Math.LN2);
/** exp(-x^2/2) tabulated on [0, X_MAX] with STEPS points per unit, interpolated linearly. */
const X_MAX = 7;
const STEPS = 256;
const GAUSS = (() => {
  const n = X_MAX * STEPS + 2;
  const t = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = i / STEPS;
    t[i] = Math.exp(-0.5 * x * x);
  }
  return t;
})();
const LIMIT = X_MAX * STEPS;

export function validatePulsar(p: PulsarParams): void {
  if (!(p.periodS > 0 && Number.isFinite(p.periodS))) throw new Error(`pulsar period must be a positive number of seconds, got ${p.periodS}`);
  if (!(p.dm >= 0 && Number.isFinite(p.dm))) throw new Error(`DM must be zero or positive, got ${p.dm}`);
  if (!(p.duty > 0 && p.duty <= 0.5)) throw new Error(`duty cycle (FWHM / period) must be in (0, 0.5], got ${p.duty}`);
  if (!(p.phase >= 0 && p.phase < 1)) throw new Error(`pulse phase must be in [0, 1), got ${p.phase}`);
}

export class PulsarModel {
  readonly params: PulsarParams;
  readonly tsampS: number;
  readonly delayS: Float64Array;
  /** Gaussian sigma of the pulse in channel c, in units of phase. */
  readonly sigmaPhase: Float64Array;
  /** Peak of the smeared pulse relative to the unsmeared one (area kept). */
  readonly peak: Float64Array;

  constructor(params: PulsarParams, freqsMhz: ArrayLike<number>, chanBwMhz: number, tsampS: number) {
    validatePulsar(params);
    this.params = { ...params };
    this.tsampS = tsampS;
    const n = freqsMhz.length;
    this.delayS = new Float64Array(n);
    this.sigmaPhase = new Float64Array(n);
    this.peak = new Float64Array(n);
    const p = params.periodS;
    const sigmaInt = (params.duty * p) / FWHM_PER_SIGMA;
    for (let c = 0; c < n; c++) {
      const f = freqsMhz[c];
      this.delayS[c] = dispersionDelay(params.dm, f);
      const smear = channelSmearing(params.dm, f, chanBwMhz);
      const sigma = Math.sqrt(sigmaInt * sigmaInt + (tsampS * tsampS) / 12 + (smear * smear) / 12);
      this.sigmaPhase[c] = sigma / p;
      this.peak[c] = sigmaInt / sigma;
    }
  }

  /**
   * out[outStart + i] += amplitude * pulse(c, firstSample + i) for i < n. Works
   * pulse by pulse over the samples within X_MAX sigma of each peak, so every
   * overlapping neighbour of a wide pulse is added too.
   */
  add(c: number, firstSample: number, n: number, out: Float32Array | Float64Array, amplitude: number, outStart = 0): void {
    const a = amplitude * this.peak[c];
    if (a === 0 || n <= 0) return;
    const perS = this.params.periodS / this.tsampS; // samples per period
    const sigS = this.sigmaPhase[c] * perS; // pulse sigma, samples
    const halfWin = X_MAX * sigS;
    const scale = STEPS / sigS;
    // Peak k sits at sample base + k * perS (k may be negative).
    const base = (this.delayS[c] + this.params.phase * this.params.periodS) / this.tsampS;
    const kMin = Math.ceil((firstSample - halfWin - base) / perS);
    const kMax = Math.floor((firstSample + n - 1 + halfWin - base) / perS);
    const g = GAUSS;
    for (let k = kMin; k <= kMax; k++) {
      const centre = base + k * perS - firstSample;
      const i0 = Math.max(0, Math.ceil(centre - halfWin));
      const i1 = Math.min(n - 1, Math.floor(centre + halfWin));
      for (let i = i0; i <= i1; i++) {
        const x = Math.abs(i - centre) * scale;
        if (x < LIMIT) {
          const j = x | 0;
          const f = x - j;
          out[outStart + i] += a * (g[j] + f * (g[j + 1] - g[j]));
        }
      }
    }
  }

  /** The pulse in channel c at pulse phase `phase` (0 = peak), relative to the unsmeared peak. */
  profile(c: number, phase: number): number {
    const s = this.sigmaPhase[c];
    let d = phase - Math.floor(phase);
    d = d < 0.5 ? d : 1 - d;
    let v = 0;
    for (const dd of [d, 1 - d, 1 + d]) v += Math.exp(-0.5 * (dd / s) * (dd / s));
    return this.peak[c] * v;
  }
}
