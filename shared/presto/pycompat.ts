/**
 * Python/C number formatting and numpy summation, reproduced bit for bit.
 *
 * Public API:
 *   formatFixed(x, precision, width?, leftAlign?): string   printf "%W.Pf" / Python "%W.Pf"
 *   formatG(x, precision?): string                           printf/Python "%g"
 *   pyCenter(text, width): string                            Python str.center
 *   numpySum(values): number                                 numpy.sum of a float64 vector
 *
 * We must write files that are byte-identical to what PRESTO's Python writes, and
 * JavaScript's toFixed/toExponential round exact ties upwards while C and Python
 * round the exact binary value half-to-even (e.g. 3720.125 -> "3720.12", not
 * "3720.13"; r values like that are common since accelsearch works in 1/8 bins).
 * So we round the double's exact decimal expansion ourselves with BigInt.
 * numpy.sum adds float64 vectors pairwise (8 partial sums), not left to right, so
 * a plain loop can differ in the last bit; numpySum follows numpy's order.
 */

interface ExactDecimal {
  negative: boolean;
  /** |x| = digits / 10^scale exactly. */
  digits: bigint;
  scale: number;
}

const view = new DataView(new ArrayBuffer(8));

/** The exact decimal value of a finite double (every double is a finite decimal). */
function exactDecimal(x: number): ExactDecimal {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const negative = hi >>> 31 === 1;
  const biased = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exp2: number;
  if (biased === 0) {
    exp2 = -1074;
  } else {
    mantissa |= 1n << 52n;
    exp2 = biased - 1075;
  }
  if (mantissa === 0n) return { negative, digits: 0n, scale: 0 };
  // Drop factors of two so that the powers of five below stay small.
  while ((mantissa & 1n) === 0n) {
    mantissa >>= 1n;
    exp2++;
  }
  if (exp2 >= 0) return { negative, digits: mantissa << BigInt(exp2), scale: 0 };
  // m / 2^k = m * 5^k / 10^k
  return { negative, digits: mantissa * 5n ** BigInt(-exp2), scale: -exp2 };
}

/** digits/10^scale rounded half-to-even to a multiple of 10^-decimals; returns the multiple. */
function roundHalfEven(digits: bigint, scale: number, decimals: number): bigint {
  if (decimals >= scale) return digits * 10n ** BigInt(decimals - scale);
  const divisor = 10n ** BigInt(scale - decimals);
  let q = digits / divisor;
  const twice = (digits % divisor) * 2n;
  if (twice > divisor || (twice === divisor && (q & 1n) === 1n)) q += 1n;
  return q;
}

function nonFinite(x: number): string {
  if (Number.isNaN(x)) return "nan";
  return x > 0 ? "inf" : "-inf";
}

function pad(text: string, width: number, leftAlign: boolean): string {
  return leftAlign ? text.padEnd(width) : text.padStart(width);
}

/** "%{width}.{precision}f" (right-aligned unless leftAlign, as "%-W.Pf"). */
export function formatFixed(x: number, precision: number, width = 0, leftAlign = false): string {
  if (!Number.isFinite(x)) return pad(nonFinite(x), width, leftAlign);
  return pad(fastFixed(x, precision) ?? exactFixed(x, precision), width, leftAlign);
}

/** The exact (BigInt) route; always right. */
function exactFixed(x: number, precision: number): string {
  const { negative, digits, scale } = exactDecimal(x);
  let s = roundHalfEven(digits, scale, precision).toString();
  if (precision > 0) {
    s = s.padStart(precision + 1, "0");
    s = `${s.slice(0, -precision)}.${s.slice(-precision)}`;
  }
  // C and Python keep the sign of negative values that round to zero ("-0.00").
  return negative ? `-${s}` : s;
}

/**
 * The fast route: toFixed with four extra digits (exactly rounded by the engine),
 * then round those off ourselves. Only an extra "5000" can hide an exact tie, where
 * JavaScript and C round differently; then (and for -0 and huge values) return null.
 */
function fastFixed(x: number, precision: number): string | null {
  if (Object.is(x, -0) || Math.abs(x) >= 1e21 || precision > 96) return null;
  const s = x.toFixed(precision + 4);
  const tail = s.slice(-4);
  if (tail === "5000") return null;
  let head = s.slice(0, -4);
  if (tail > "5000") head = incrementDecimal(head);
  return head.endsWith(".") ? head.slice(0, -1) : head;
}

/** Add one unit in the last place to a decimal string like "-12.34" or "99." (sign kept). */
function incrementDecimal(s: string): string {
  const chars = s.split("");
  let i = chars.length - 1;
  for (; i >= 0; i--) {
    const c = chars[i]!;
    if (c === "." || c === "-") continue;
    if (c === "9") {
      chars[i] = "0";
    } else {
      chars[i] = String.fromCharCode(c.charCodeAt(0) + 1);
      return chars.join("");
    }
  }
  // Carried past the first digit: "99.9" -> "100.0", "-9.9" -> "-10.0".
  const first = chars[0] === "-" ? 1 : 0;
  chars.splice(first, 0, "1");
  return chars.join("");
}

/** "%.{precision}g" as C and Python print it (trailing zeros removed, 2+ exponent digits). */
export function formatG(x: number, precision = 6): string {
  if (!Number.isFinite(x)) return nonFinite(x);
  const p = precision === 0 ? 1 : precision;
  const sign = x < 0 || Object.is(x, -0) ? "-" : "";
  if (x === 0) return `${sign}0`;
  // p significant digits and the decimal exponent of the first one.
  const sig = fastSignificant(Math.abs(x), p) ?? exactSignificant(x, p);
  const exponent = sig.exponent;
  if (exponent >= -4 && exponent < p) {
    return sign + stripZeros(formatFixed(Math.abs(x), p - 1 - exponent));
  }
  const m = sig.digits;
  const mantissa = stripZeros(m.length > 1 ? `${m[0]}.${m.slice(1)}` : m);
  const expText = String(Math.abs(exponent)).padStart(2, "0");
  return `${sign}${mantissa}e${exponent < 0 ? "-" : "+"}${expText}`;
}

interface Significant {
  digits: string;
  exponent: number;
}

function exactSignificant(x: number, p: number): Significant {
  const { digits, scale } = exactDecimal(x);
  let exponent = digits.toString().length - 1 - scale;
  let rounded = roundHalfEven(digits, scale, p - 1 - exponent);
  if (rounded.toString().length > p) {
    // Rounding carried into a new digit (9.9999995 -> 10.0000).
    exponent++;
    rounded /= 10n;
  }
  return { digits: rounded.toString(), exponent };
}

/** As fastFixed, with toExponential: null when the four extra digits are "5000". */
function fastSignificant(ax: number, p: number): Significant | null {
  if (p > 96) return null;
  const s = ax.toExponential(p + 3);
  const e = s.indexOf("e");
  let exponent = Number(s.slice(e + 1));
  const all = s.slice(0, e).replace(".", "");
  const tail = all.slice(p);
  if (tail === "5000") return null;
  let digits = all.slice(0, p);
  if (tail > "5000") {
    digits = incrementDecimal(digits);
    if (digits.length > p) {
      exponent++;
      digits = digits.slice(0, p);
    }
  }
  return { digits, exponent };
}

function stripZeros(s: string): string {
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

/** Python's str.center, including its choice of side for the odd space. */
export function pyCenter(text: string, width: number): string {
  const margin = width - text.length;
  if (margin <= 0) return text;
  const left = (margin >> 1) + (margin & width & 1);
  return " ".repeat(left) + text + " ".repeat(margin - left);
}

/**
 * numpy.sum / np.add.reduce over a contiguous float64 vector: the result starts at
 * the identity 0.0 and adds numpy's pairwise sum (blocks of 128, eight running
 * partial sums inside a block, a plain loop below 8 elements).
 */
export function numpySum(values: readonly number[]): number {
  return 0.0 + pairwise(values, 0, values.length);
}

function pairwise(a: readonly number[], start: number, n: number): number {
  if (n < 8) {
    let res = 0.0;
    for (let i = 0; i < n; i++) res += a[start + i]!;
    return res;
  }
  if (n <= 128) {
    const r = a.slice(start, start + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = r[j]! + a[start + i + j]!;
    }
    let res = r[0]! + r[1]! + (r[2]! + r[3]!) + (r[4]! + r[5]! + (r[6]! + r[7]!));
    for (; i < n; i++) res += a[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwise(a, start, n2) + pairwise(a, start + n2, n - n2);
}
