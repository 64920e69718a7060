/**
 * PRESTO's candidate significance: candidate_sigma() from src/characteristics.c.
 *
 * Public API:
 *   candidateSigma(power, numsum, numtrials = 1): number
 *   equivalentGaussianSigma(logp): number
 *   chi2Logp(chi2, dof): number       (even dof only; all candidate_sigma needs)
 *
 * sifting.py replaces accelsearch's sigma with candidate_sigma(sum of harmonic
 * powers, numharm, 1), then thresholds, sorts and prints it (%6.2f), so our value
 * must agree with PRESTO's to far better than 0.005. We follow the C code branch
 * for branch, because two of its branches are deliberately approximate and the
 * answer depends on which one is taken:
 *   - chi2_logp: if chi2/dof > 15 (or dof > 150 and chi2/dof > 6) it uses the
 *     asymptotic series A&S 6.5.32 / 6.1.41; otherwise log(Q) from DCDFLIB's cdfchi.
 *   - equivalent_gaussian_sigma: if ln p < -600 it uses the rational approximation
 *     A&S 26.2.23 (good to ~1e-3 only); otherwise DCDFLIB's cdfnor inverse (Newton
 *     iterations from Kennedy & Gentle's starting value on Cody's ANORM).
 * For Q we use the finite sum e^-x sum_{k<a} x^k/k!, exact in form for integer
 * a = numsum (DCDFLIB's gratio uses that same sum for small integer a and agrees
 * to ~1e-15 elsewhere). The normal-distribution pieces reproduce DCDFLIB's
 * algorithms with Cody's published coefficients.
 */

/** DCDFLIB spmpar(1)/2 and spmpar(2): half the machine epsilon; the smallest normal double. */
const HALF_EPS = 2.220446049250313e-16 * 0.5;
const TINY = 2.2250738585072014e-308;

/**
 * Approximate Gaussian significance of `numsum` summed normalised powers totalling
 * `power`, corrected for `numtrials` independent trials (candidate_sigma).
 */
export function candidateSigma(power: number, numsum: number, numtrials = 1): number {
  if (power <= 0.0) return 0.0;
  const chi2 = 2.0 * power;
  const dof = 2 * Math.trunc(numsum);
  const logp = chi2Logp(chi2, dof) + Math.log(numtrials);
  return equivalentGaussianSigma(logp);
}

/** Natural log of the chi-squared tail probability Q(chi2 | dof), for even dof. */
export function chi2Logp(chi2: number, dof: number): number {
  if (chi2 <= 0.0) return -Infinity;
  if (!Number.isInteger(dof) || dof <= 0 || dof % 2 !== 0) {
    throw new RangeError(`chi2Logp: dof must be a positive even integer (got ${dof})`);
  }
  if (chi2 / dof > 15.0 || (dof > 150 && chi2 / dof > 6.0)) {
    return logAsymptoticIncompleteGamma(0.5 * dof, 0.5 * chi2) - logAsymptoticGamma(0.5 * dof);
  }
  return logGammaTailInteger(0.5 * dof, 0.5 * chi2);
}

/** Sigma of a Gaussian whose upper tail has natural-log probability logp (>= 0). */
export function equivalentGaussianSigma(logp: number): number {
  let x: number;
  if (logp < -600.0) {
    x = extendedEquivalentGaussianSigma(logp);
  } else {
    const q = Math.exp(logp);
    const p = 1.0 - q;
    // cdfnor(which=2) argument checks, in its order, and equivalent_gaussian_sigma's
    // handling of them: p out of (0,1] -> 0 sigma, q out of (0,1] -> 38.5 sigma.
    if (p <= 0.0 || p > 1.0) {
      x = 0.0;
    } else if (q <= 0.0 || q > 1.0) {
      x = 38.5;
    } else {
      if (Math.abs(p + q - 0.5 - 0.5) > 3.0 * 2 * HALF_EPS) {
        // PRESTO prints an error and exits here; it cannot happen for q = exp(logp), p = 1 - q.
        throw new RangeError(`equivalentGaussianSigma: p + q != 1 (p=${p}, q=${q})`);
      }
      x = inverseNormal(p, q);
    }
  }
  return x < 0.0 ? 0.0 : x;
}

/** A&S 26.2.23 on log p (extended_equiv_gaussian_sigma). */
function extendedEquivalentGaussianSigma(logp: number): number {
  const t = Math.sqrt(-2.0 * logp);
  const num = 2.515517 + t * (0.802853 + t * 0.010328);
  const denom = 1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308));
  return t - num / denom;
}

/** ln Gamma(a, z)-type asymptotic series, A&S 6.5.32 (log_asymtotic_incomplete_gamma). */
function logAsymptoticIncompleteGamma(a: number, z: number): number {
  let x = 1.0;
  let newxpart = 1.0;
  let term = 1.0;
  let ii = 1;
  while (Math.abs(newxpart) > 1e-15) {
    term *= a - ii;
    newxpart = term / Math.pow(z, ii);
    x += newxpart;
    ii += 1;
  }
  return (a - 1.0) * Math.log(z) - z + Math.log(x);
}

/** Stirling series for ln Gamma(z), A&S 6.1.41 (log_asymtotic_gamma). */
function logAsymptoticGamma(z: number): number {
  let x = (z - 0.5) * Math.log(z) - z + 0.91893853320467267;
  const y = 1.0 / (z * z);
  x += (((-5.9523809523809529e-4 * y + 7.9365079365079365079365e-4) * y - 2.7777777777777777777778e-3) * y + 8.3333333333333333333333e-2) / z;
  return x;
}

/**
 * ln Q(a, x), the regularised upper incomplete gamma function, for integer a >= 1:
 * Q = e^-x * sum_{k=0}^{a-1} x^k / k!, summed in that order (as gratio does for
 * small integer a). For x beyond exp()'s range the e^-x factor is taken in logs.
 */
function logGammaTailInteger(a: number, x: number): number {
  if (x < 700) {
    let t = Math.exp(-x);
    let sum = t;
    for (let n = 1; n < a; n++) {
      t = (x * t) / n;
      sum += t;
    }
    return Math.log(sum);
  }
  let t = 1.0;
  let sum = 1.0;
  for (let n = 1; n < a; n++) {
    t = (x * t) / n;
    sum += t;
  }
  return -x + Math.log(sum);
}

/** DCDFLIB dinvnr: x with Phi(x) = p (given q = 1 - p), by Newton steps on cumnor. */
function inverseNormal(p: number, q: number): number {
  const lowerTail = p <= q;
  const pp = lowerTail ? p : q;
  const start = startingValue(pp);
  let x = start;
  for (let i = 1; i <= 100; i++) {
    const cum = cumulativeNormal(x)[0];
    const dx = (cum - pp) / (0.3989422804014326 * Math.exp(-0.5 * x * x));
    x -= dx;
    if (Math.abs(dx / x) < 1.0e-13) return lowerTail ? x : -x;
  }
  // DCDFLIB falls back to the starting value if Newton does not converge.
  return lowerTail ? start : -start;
}

/** DCDFLIB stvaln: Kennedy & Gentle's rational starting value for the normal inverse. */
function startingValue(p: number): number {
  const xnum = [-0.322232431088, -1.0, -0.342242088547, -0.204231210245e-1, -0.453642210148e-4];
  const xden = [0.99348462606e-1, 0.588581570495, 0.531103462366, 0.10353775285, 0.38560700634e-2];
  const sign = p <= 0.5 ? -1.0 : 1.0;
  const z = p <= 0.5 ? p : 1.0 - p;
  const y = Math.sqrt(-(2.0 * Math.log(z)));
  return sign * (y + horner(xnum, y) / horner(xden, y));
}

/** DCDFLIB devlpl: a[0] + a[1] x + ... evaluated by Horner's rule. */
function horner(a: readonly number[], x: number): number {
  let term = a[a.length - 1]!;
  for (let i = a.length - 2; i >= 0; i--) term = a[i]! + term * x;
  return term;
}

// Cody's ANORM (ACM TOMS 715) coefficients, as in DCDFLIB's cumnor.
const A = [2.2352520354606839287, 1.6102823106855587881e2, 1.0676894854603709582e3, 1.8154981253343561249e4, 6.5682337918207449113e-2];
const B = [4.720258190468824187e1, 9.7609855173777669322e2, 1.0260932208618978205e4, 4.5507789335026729956e4];
const C = [
  3.9894151208813466764e-1, 8.8831497943883759412, 9.3506656132177855979e1, 5.9727027639480026226e2, 2.4945375852903726711e3, 6.8481904505362823326e3,
  1.1602651437647350124e4, 9.8427148383839780218e3, 1.0765576773720192317e-8,
];
const D = [
  2.2266688044328115691e1, 2.3538790178262499861e2, 1.519377599407554805e3, 6.485558298266760755e3, 1.8615571640885098091e4, 3.4900952721145977266e4,
  3.8912003286093271411e4, 1.9685429676859990727e4,
];
const P = [2.1589853405795699e-1, 1.274011611602473639e-1, 2.2235277870649807e-2, 1.421619193227893466e-3, 2.9112874951168792e-5, 2.307344176494017303e-2];
const Q = [1.28426009614491121, 4.68238212480865118e-1, 6.59881378689285515e-2, 3.78239633202758244e-3, 7.29751555083966205e-5];
const SQRPI = 3.9894228040143267794e-1;
const THRESHOLD = 0.66291;
const ROOT32 = 5.656854248;

/** [Phi(x), 1 - Phi(x)], each accurate in its own tail (DCDFLIB cumnor). */
function cumulativeNormal(x: number): [number, number] {
  const y = Math.abs(x);
  let result: number;
  let ccum: number;
  if (y <= THRESHOLD) {
    const xsq = y > HALF_EPS ? x * x : 0.0;
    let xnum = A[4]! * xsq;
    let xden = xsq;
    for (let i = 0; i < 3; i++) {
      xnum = (xnum + A[i]!) * xsq;
      xden = (xden + B[i]!) * xsq;
    }
    const temp = (x * (xnum + A[3]!)) / (xden + B[3]!);
    result = 0.5 + temp;
    ccum = 0.5 - temp;
  } else {
    if (y <= ROOT32) {
      let xnum = C[8]! * y;
      let xden = y;
      for (let i = 0; i < 7; i++) {
        xnum = (xnum + C[i]!) * y;
        xden = (xden + D[i]!) * y;
      }
      result = (xnum + C[7]!) / (xden + D[7]!);
    } else {
      const xsq = 1.0 / (x * x);
      let xnum = P[5]! * xsq;
      let xden = xsq;
      for (let i = 0; i < 4; i++) {
        xnum = (xnum + P[i]!) * xsq;
        xden = (xden + Q[i]!) * xsq;
      }
      result = (xsq * (xnum + P[4]!)) / (xden + Q[4]!);
      result = (SQRPI - result) / y;
    }
    // exp(-x^2/2) split in two so that the large part is exact (Cody's trick).
    const xsq = Math.trunc((y <= ROOT32 ? y : x) * 1.6) / 1.6;
    const del = ((y <= ROOT32 ? y : x) - xsq) * ((y <= ROOT32 ? y : x) + xsq);
    result = Math.exp(-(xsq * xsq * 0.5)) * Math.exp(-(del * 0.5)) * result;
    ccum = 1.0 - result;
    if (x > 0.0) {
      const temp = result;
      result = ccum;
      ccum = temp;
    }
  }
  if (result < TINY) result = 0.0;
  if (ccum < TINY) ccum = 0.0;
  return [result, ccum];
}
