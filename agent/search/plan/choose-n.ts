/**
 * PRESTO's psr_utils.choose_N: the -numout PALFA gives prepsubband.
 *
 * Public API:
 *   chooseN(origN): number
 *
 * prepsubband writes exactly -numout samples (padding the end), and realfft and
 * accelsearch are much faster on lengths with only small prime factors. choose_N
 * picks the smaller of (a) the next "good" 4-digit factor times a power of ten and
 * (b) the next power of two, both >= origN; below 10000 samples it returns 0
 * (callers then leave -numout out). Ported from PRESTO v6 (python/presto/
 * psr_utils.py, the version that made the fixtures: 76544 -> 76800 for the 40 s
 * beam downsampled by 8). The older copy PALFA's pipeline bundled lacks 1000 and
 * 10000 in the table and the "already good" early exit, so for some lengths
 * (e.g. exactly 1008*10^k, or first digits >= 9857) it returns a larger N;
 * we follow PRESTO v6, which the agent runs.
 */

// Highly factorable 4-digit numbers (small primes only), from psr_utils.py.
const GOOD_FACTORS: readonly number[] = [
  1000, 1008, 1024, 1056, 1120, 1152, 1200, 1232, 1280, 1296, 1344, 1408, 1440, 1536, 1568, 1584, 1600, 1680, 1728, 1760, 1792, 1920, 1936, 2000, 2016, 2048,
  2112, 2160, 2240, 2304, 2352, 2400, 2464, 2560, 2592, 2640, 2688, 2800, 2816, 2880, 3024, 3072, 3136, 3168, 3200, 3360, 3456, 3520, 3584, 3600, 3696, 3840,
  3872, 3888, 3920, 4000, 4032, 4096, 4224, 4320, 4400, 4480, 4608, 4704, 4752, 4800, 4928, 5040, 5120, 5184, 5280, 5376, 5488, 5600, 5632, 5760, 5808, 6000,
  6048, 6144, 6160, 6272, 6336, 6400, 6480, 6720, 6912, 7040, 7056, 7168, 7200, 7392, 7680, 7744, 7776, 7840, 7920, 8000, 8064, 8192, 8400, 8448, 8624, 8640,
  8800, 8960, 9072, 9216, 9408, 9504, 9600, 9680, 9856, 10000,
];

function isPowerOf10(n: number): boolean {
  let x = Math.trunc(n);
  while (x > 9 && x % 10 === 0) x = x / 10;
  return x === 1;
}

export function chooseN(origN: number): number {
  if (!Number.isSafeInteger(origN) || origN < 0) throw new Error(`chooseN needs a non-negative integer, got ${origN}`);
  if (origN < 10000) return 0;
  // The number formed by the first four digits of origN.
  const first4 = Number(String(origN).slice(0, 4));
  let factor = GOOD_FACTORS[GOOD_FACTORS.length - 1];
  for (const f of GOOD_FACTORS) {
    factor = f;
    if (f === first4 && origN % f === 0 && isPowerOf10(Math.floor(origN / f))) break;
    if (f > first4) break;
  }
  let newN = factor;
  while (newN < origN) newN *= 10;
  if (newN === origN) return origN;
  // The closest power of two that is >= origN; take whichever is smaller.
  let twoN = 2;
  while (twoN < origN) twoN *= 2;
  return Math.min(twoN, newN);
}
