/**
 * Seeded random numbers for synthetic beams: the same seed gives the same bytes,
 * on any machine, whatever else the program did before.
 *
 *   new Rng(seed, stream)       xoshiro128** on 32-bit integers, seeded through
 *                               splitmix32 from the seed and a stream label, so
 *                               the noise, the RFI and the injection dithers are
 *                               independent streams of one seed (a beam made with
 *                               and without a pulsar has the same noise)
 *   rng.u32(), rng.uniform()    [0, 2^32) and [0, 1)
 *   rng.fillNormal(out, n)      n standard normal deviates into out[0..n)
 *   normalTable()               the 65536 quantiles behind fillNormal
 *
 * Normal deviates come from a table of the normal distribution's quantiles at
 * (i + 1/2) / 65536, indexed by 16 random bits: two deviates per 32-bit draw,
 * no logarithms or cosines in the inner loop. The table's extremes are ±4.33
 * sigma, so the noise has no rarer single-sample outliers than 1 in 65536; once
 * summed over channels and samples it is Gaussian. The table is built once from
 * special.ts's quantile function.
 */

import { normalCdf, normalPdf, normalQuantile } from "./special";

const TABLE_BITS = 16;
const TABLE_SIZE = 1 << TABLE_BITS;
let table: Float32Array | null = null;

export function normalTable(): Float32Array {
  if (table !== null) return table;
  const t = new Float32Array(TABLE_SIZE);
  const half = TABLE_SIZE / 2;
  // Lower half from the smallest quantile up, each Newton-polished from the one before.
  let z = normalQuantile(0.5 / TABLE_SIZE);
  for (let i = 0; i < half; i++) {
    const p = (i + 0.5) / TABLE_SIZE;
    for (let k = 0; k < 6; k++) {
      const step = (normalCdf(z) - p) / normalPdf(z);
      z -= step;
      if (Math.abs(step) < 1e-13) break;
    }
    t[i] = z;
    t[TABLE_SIZE - 1 - i] = -z;
  }
  table = t;
  return t;
}

/** Mixes a 32-bit state (splitmix32's finaliser). */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** FNV-1a of a label, for deriving one stream per purpose from one seed. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** seed: any safe integer (both 32-bit halves are used); stream: a label for the purpose. */
  constructor(seed: number, stream = "") {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    let x = (lo ^ mix32(hi ^ 0x9e3779b9) ^ hashLabel(stream)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      return mix32(x);
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** xoshiro128**: a uniformly distributed 32-bit unsigned integer. */
  u32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  uniform(): number {
    return this.u32() / 4294967296;
  }

  /** out[offset .. offset+n) = standard normal deviates (table-based, two per draw). */
  fillNormal(out: Float32Array | Float64Array, n: number, offset = 0): void {
    const t = normalTable();
    // The generator's state is kept in locals for the loop (this is the hot path).
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    const end = offset + n;
    let i = offset;
    while (i < end) {
      const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
      const tt = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= tt;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i++] = t[r & 0xffff];
      if (i < end) out[i++] = t[(r >>> 16) & 0xffff];
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
