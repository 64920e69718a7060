/**
 * Interference for synthetic beams, all in units of the per-channel noise rms
 * and undispersed (DM 0):
 *
 *   broadband bursts   `count` boxcars of `widthS` seconds in every channel, at
 *                      times drawn from the seed (the same for every row layout)
 *   narrow-band RFI    in chosen channels, a tone of `toneHz` (0: a steady level)
 *                      between 0 and `amp`, switched on and off in stretches of
 *                      0.2-2 s drawn from the seed
 *   mains birdie       amp * sin(2 pi freqHz t) in every channel (e.g. 60 Hz)
 *
 *   planInterference(options, durationS, seed): InterferencePlan   (times drawn once)
 *   plan.common(firstSample, n, tsamp, out): boolean       bursts + birdie, the same in every channel
 *   plan.narrowband(c, firstSample, n, tsamp, out)         adds channel c's RFI (file channel c)
 */

import { Rng } from "./random";

export interface BurstOptions {
  count: number;
  ampSigma: number;
  widthS: number;
}

export interface NarrowbandOptions {
  /** Channels in PRESTO's numbering: 0 is the lowest frequency. */
  channels: number[];
  ampSigma: number;
  toneHz: number;
}

export interface BirdieOptions {
  freqHz: number;
  ampSigma: number;
}

export interface InterferenceOptions {
  bursts?: BurstOptions;
  narrowband?: NarrowbandOptions;
  birdie?: BirdieOptions;
}

export interface InterferencePlan {
  /** Burst centre times, s from the start. */
  burstTimesS: number[];
  /** Stretches [start, end) s when the narrow-band RFI is on. */
  narrowbandOnS: Array<[number, number]>;
  /** File-order channel indices carrying narrow-band RFI. */
  narrowbandFileChannels: Set<number>;
  /** Adds bursts and birdie for samples firstSample.. into out (overwriting); false when there are none. */
  common(firstSample: number, n: number, tsampS: number, out: Float32Array): boolean;
  narrowband(fileChannel: number, firstSample: number, n: number, tsampS: number, out: Float32Array): void;
}

export function validateInterference(o: InterferenceOptions, totalChannels: number): void {
  if (o.bursts) {
    const b = o.bursts;
    if (!(Number.isInteger(b.count) && b.count >= 0 && b.count <= 100000)) throw new Error(`RFI burst count must be an integer 0-100000, got ${b.count}`);
    if (!(b.widthS > 0 && Number.isFinite(b.widthS))) throw new Error(`RFI burst width must be positive seconds, got ${b.widthS}`);
    if (!Number.isFinite(b.ampSigma)) throw new Error(`RFI burst amplitude must be a number, got ${b.ampSigma}`);
  }
  if (o.narrowband) {
    const nb = o.narrowband;
    for (const c of nb.channels) {
      if (!(Number.isInteger(c) && c >= 0 && c < totalChannels)) {
        throw new Error(`RFI channel ${c} is not a channel of this beam (0-${totalChannels - 1}, 0 = lowest frequency)`);
      }
    }
    if (!Number.isFinite(nb.ampSigma)) throw new Error(`narrow-band RFI amplitude must be a number, got ${nb.ampSigma}`);
    if (!(nb.toneHz >= 0 && Number.isFinite(nb.toneHz))) throw new Error(`narrow-band RFI tone must be zero or positive Hz, got ${nb.toneHz}`);
  }
  if (o.birdie) {
    if (!(o.birdie.freqHz > 0 && Number.isFinite(o.birdie.freqHz))) throw new Error(`birdie frequency must be positive Hz, got ${o.birdie.freqHz}`);
    if (!Number.isFinite(o.birdie.ampSigma)) throw new Error(`birdie amplitude must be a number, got ${o.birdie.ampSigma}`);
  }
}

export function planInterference(o: InterferenceOptions, durationS: number, totalChannels: number, seed: number): InterferencePlan {
  validateInterference(o, totalChannels);
  const burstTimesS: number[] = [];
  if (o.bursts && o.bursts.count > 0) {
    const rng = new Rng(seed, "rfi-bursts");
    for (let i = 0; i < o.bursts.count; i++) burstTimesS.push(rng.uniform() * durationS);
    burstTimesS.sort((a, b) => a - b);
  }
  const narrowbandOnS: Array<[number, number]> = [];
  const narrowbandFileChannels = new Set<number>();
  if (o.narrowband && o.narrowband.channels.length > 0) {
    const rng = new Rng(seed, "rfi-narrowband");
    let t = 0;
    let on = rng.uniform() < 0.5;
    while (t < durationS) {
      const len = 0.2 + 1.8 * rng.uniform();
      if (on) narrowbandOnS.push([t, Math.min(durationS, t + len)]);
      t += len;
      on = !on;
    }
    for (const c of o.narrowband.channels) narrowbandFileChannels.add(totalChannels - 1 - c);
  }

  const bursts = o.bursts && o.bursts.count > 0 && o.bursts.ampSigma !== 0 ? o.bursts : null;
  const birdie = o.birdie && o.birdie.ampSigma !== 0 ? o.birdie : null;
  const nb = o.narrowband && o.narrowband.ampSigma !== 0 ? o.narrowband : null;

  return {
    burstTimesS,
    narrowbandOnS,
    narrowbandFileChannels,
    common(firstSample, n, tsampS, out) {
      if (!bursts && !birdie) return false;
      out.fill(0, 0, n);
      const t0 = firstSample * tsampS;
      if (birdie) {
        const w = 2 * Math.PI * birdie.freqHz;
        for (let i = 0; i < n; i++) out[i] += birdie.ampSigma * Math.sin(w * (firstSample + i) * tsampS);
      }
      if (bursts) {
        const t1 = (firstSample + n) * tsampS;
        const halfW = bursts.widthS / 2;
        for (const tb of burstTimesS) {
          if (tb + halfW < t0 || tb - halfW >= t1) continue;
          const i0 = Math.max(0, Math.ceil((tb - halfW) / tsampS) - firstSample);
          const i1 = Math.min(n, Math.ceil((tb + halfW) / tsampS) - firstSample);
          for (let i = i0; i < i1; i++) out[i] += bursts.ampSigma;
        }
      }
      return true;
    },
    narrowband(fileChannel, firstSample, n, tsampS, out) {
      if (!nb || !narrowbandFileChannels.has(fileChannel)) return;
      const t0 = firstSample * tsampS;
      const t1 = (firstSample + n) * tsampS;
      const w = 2 * Math.PI * nb.toneHz;
      for (const [a, b] of narrowbandOnS) {
        if (b <= t0 || a >= t1) continue;
        const i0 = Math.max(0, Math.ceil(a / tsampS) - firstSample);
        const i1 = Math.min(n, Math.ceil(b / tsampS) - firstSample);
        for (let i = i0; i < i1; i++) {
          const level = nb.toneHz === 0 ? 1 : 0.5 + 0.5 * Math.sin(w * (firstSample + i) * tsampS);
          out[i] += nb.ampSigma * level;
        }
      }
    },
  };
}
