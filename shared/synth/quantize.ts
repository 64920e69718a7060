/**
 * From continuous noise + signal to the integers a Mock file holds, and back to
 * what that costs in S/N.
 *
 *   LEVELS[bits]                     the noise's mean and rms in raw units for 4- and 8-bit data
 *   quantiseInto(vals, n, out, outStart, stride, bits)
 *                                    out[outStart + i*stride] = clamp(round(mean + rms*vals[i]))
 *   quantisationGain(bits)           { signalGain, noiseRms, efficiency } for a weak signal
 *   quantisePairInto(a, b, n, out, outStart, stride)
 *                                    4-bit: channels a and b quantised and packed into one byte each
 *   packSamples(q, totalChans, first, nchan, nsblk, bits, out)
 *                                    a file's channel range of an unpacked row, packed as PSRFITS
 *
 * 4-bit samples have mean 7.5 and rms 3 (levels 0-15 reach ±2.5 sigma); 8-bit
 * samples mean 127.5 and rms 24 (±5.3 sigma). Values beyond the range are clipped,
 * never wrapped. 4-bit samples are packed two per byte, the first channel in the
 * high nibble (PRESTO's psrfits.c and psrfits_utils read them that way).
 */

import { normalCdf, normalPdf } from "./special";

export type Bits = 4 | 8;

export const LEVELS: Record<Bits, { count: number; mean: number; rms: number }> = {
  4: { count: 16, mean: 7.5, rms: 3 },
  8: { count: 256, mean: 127.5, rms: 24 },
};

export function quantiseInto(vals: Float32Array, n: number, out: Uint8Array, outStart: number, stride: number, bits: Bits): void {
  const { count, mean, rms } = LEVELS[bits];
  const top = count - 1;
  const base = mean + 0.5;
  let o = outStart;
  for (let i = 0; i < n; i++, o += stride) {
    const x = base + rms * vals[i];
    out[o] = x < 1 ? 0 : x >= top ? top : x | 0;
  }
}

/** 4-bit: out[outStart + i*stride] = q(a[i]) << 4 | q(b[i]) (a is the even, first channel). */
export function quantisePairInto(a: Float32Array, b: Float32Array, n: number, out: Uint8Array, outStart: number, stride: number): void {
  const { mean, rms } = LEVELS[4];
  const base = mean + 0.5;
  let o = outStart;
  for (let i = 0; i < n; i++, o += stride) {
    const x = base + rms * a[i];
    const y = base + rms * b[i];
    const hi = x < 1 ? 0 : x >= 15 ? 15 : x | 0;
    const lo = y < 1 ? 0 : y >= 15 ? 15 : y | 0;
    out[o] = (hi << 4) | lo;
  }
}

/**
 * For noise N(mean, rms) quantised to the levels: how much a small added signal
 * (in units of the noise rms) moves the mean output (signalGain, raw units per
 * sigma), the output's rms, and their ratio relative to no quantisation at all
 * (efficiency: 1 would be lossless; 4-bit with ±2.5 sigma gives ~0.99).
 */
export function quantisationGain(bits: Bits): { signalGain: number; noiseRms: number; efficiency: number } {
  const { count, mean, rms } = LEVELS[bits];
  let gain = 0;
  let m1 = 0;
  let m2 = 0;
  let prevCdf = 0;
  for (let k = 0; k < count; k++) {
    const upper = k === count - 1 ? 1 : normalCdf((k + 0.5 - mean) / rms);
    const p = upper - prevCdf;
    prevCdf = upper;
    m1 += p * k;
    m2 += p * k * k;
    if (k < count - 1) gain += normalPdf((k + 0.5 - mean) / rms);
  }
  const noiseRms = Math.sqrt(m2 - m1 * m1);
  return { signalGain: gain, noiseRms, efficiency: gain / noiseRms };
}

/**
 * Pack channels [first, first+nchan) of an unpacked row q (nsblk spectra of
 * totalChans one-byte samples, file channel order) into out as PSRFITS DATA.
 */
export function packSamples(q: Uint8Array, totalChans: number, first: number, nchan: number, nsblk: number, bits: Bits, out: Uint8Array): void {
  if (bits === 8) {
    if (first === 0 && nchan === totalChans) {
      out.set(q.subarray(0, nsblk * nchan));
      return;
    }
    for (let t = 0; t < nsblk; t++) out.set(q.subarray(t * totalChans + first, t * totalChans + first + nchan), t * nchan);
    return;
  }
  if (nchan % 2 !== 0) throw new Error("internal error: 4-bit packing needs an even channel count");
  let o = 0;
  for (let t = 0; t < nsblk; t++) {
    let i = t * totalChans + first;
    const end = i + nchan;
    for (; i < end; i += 2) out[o++] = (q[i] << 4) | q[i + 1];
  }
}

/** Unpack a PSRFITS DATA row into one byte per sample (for readers and tests). */
export function unpackSamples(data: Uint8Array, count: number, bits: Bits, out: Uint8Array = new Uint8Array(count)): Uint8Array {
  if (bits === 8) {
    out.set(data.subarray(0, count));
    return out;
  }
  for (let i = 0, o = 0; o < count; i++) {
    const b = data[i];
    out[o++] = b >> 4;
    if (o < count) out[o++] = b & 0x0f;
  }
  return out;
}
