/**
 * The normal distribution, to double precision, in plain arithmetic (no tables
 * copied from anywhere): the generators build their noise table from it and the
 * S/N arithmetic uses it for quantisation gains.
 *
 *   erf(x), erfc(x)          error function and its complement
 *   normalPdf(z), normalCdf(z), normalQuantile(p)
 *
 * erf comes from its Maclaurin series below |x| = 2.5 and erfc from its continued
 * fraction (evaluated with the modified Lentz method) above; both are accurate to
 * about 1e-14 relative, plenty for quantiles down to p = 1e-10. Everything here
 * uses only +, *, /, Math.exp and Math.sqrt, so a given Node prints the same
 * numbers on every machine (the generated beams are byte-identical per seed).
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

function erfSeries(x: number): number {
  // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
  const x2 = x * x;
  let term = x; // (-1)^n x^(2n+1) / n!
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= -x2 / n;
    const add = term / (2 * n + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return TWO_OVER_SQRT_PI * sum;
}

function erfcContinuedFraction(x: number): number {
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2.5) return erfSeries(x);
  const v = 1 - erfcContinuedFraction(ax);
  return x < 0 ? -v : v;
}

export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 2.5 && x > -2.5) return 1 - erfSeries(x);
  if (x >= 2.5) return erfcContinuedFraction(x);
  return 2 - erfcContinuedFraction(-x);
}

export function normalPdf(z: number): number {
  return INV_SQRT_2PI * Math.exp(-0.5 * z * z);
}

/** P(N(0,1) <= z), accurate in both tails. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** The z with normalCdf(z) = p, for 0 < p < 1 (Newton steps from a bisection bracket). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile needs 0 < p < 1, got ${p}`);
  if (p > 0.5) return -normalQuantile(1 - p);
  // Bracket and bisect to a good start, then polish with Newton (the CDF is smooth).
  let lo = -40;
  let hi = 0;
  for (let i = 0; i < 60; i++) {
    const mid = 0.5 * (lo + hi);
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
    if (hi - lo < 1e-6) break;
  }
  let z = 0.5 * (lo + hi);
  for (let i = 0; i < 8; i++) {
    const step = (normalCdf(z) - p) / normalPdf(z);
    z -= step;
    if (Math.abs(step) < 1e-15 * Math.max(1, Math.abs(z))) break;
  }
  return z;
}
