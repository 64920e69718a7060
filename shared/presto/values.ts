/**
 * Numbers as PRESTO prints them.
 *
 * Public API:
 *   interface Measurement { value; uncertainty; text; truncated }
 *   parseNumber(text): number | null
 *   parseMeasurement(text): Measurement | null
 *
 * PRESTO writes a value with its uncertainty in one of these forms:
 *   "89.304(6)"         nice_output_1/2: digits in parentheses count units of the
 *                       value's last printed decimal place (89.304 +/- 0.006)
 *   "33.1(8.1)"         an uncertainty with its own decimal point is literal
 *   "1.23(45)x10^-5"    scientific: both parts scale by the exponent
 *   "0.0(2.1)x10^3"     value 0 +/- 2100
 *   "89.29524 +/- 0.00146"  prepfold's .bestprof
 * accelsearch centres each value in a fixed-width column and cuts anything longer
 * (center_string uses strncpy), so the tail of a field can be missing: "0.0(9.4)x10^",
 * " 0.0(1.2)x10", "0.5(1.2)x". For those the exponent is unknown; we keep the text,
 * set truncated=true and report NaN for whatever can no longer be known (a zero
 * mantissa is still exactly zero).
 *
 * Every value is the correctly rounded double of its decimal text (the same double
 * Python's float() gives), so sifting sees exactly the numbers sifting.py sees.
 */

export interface Measurement {
  /** The value; NaN if it cannot be recovered from a truncated field. */
  value: number;
  /** The 1-sigma uncertainty; NaN if the field was cut before it was complete. */
  uncertainty: number;
  /** The field exactly as printed (trimmed). */
  text: string;
  /** True when PRESTO cut the printed field to its column width. */
  truncated: boolean;
}

// C printf can print inf/nan (glibc: "inf", "-inf", "nan", "-nan").
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL = /^[+-]?(?:inf(?:inity)?|nan)$/i;

/** A plain printf-style number ("1674.0", "2.5e-07", "76800", "nan"); null if not one. */
export function parseNumber(text: string): number | null {
  const t = text.trim();
  if (DECIMAL.test(t)) return t.indexOf("e") < 0 && t.indexOf("E") < 0 ? decimal(t, 0, t.length, 0) : Number(t);
  if (!SPECIAL.test(t)) return null;
  const lower = t.toLowerCase();
  if (lower.endsWith("nan")) return Number.NaN;
  return lower.startsWith("-") ? -Infinity : Infinity;
}

const PLUS_MINUS = /^(\S+)\s+\+\/-\s+(\S+)$/;
const CUT_EXPONENT = /^x(?:1(?:0(?:\^[+-]?)?)?)?$/;
const SIGNED_INT = /^[+-]?\d+$/;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Parse a value printed with its uncertainty (any of the forms above).
 * Returns null if the text is not such a value at all.
 *
 * Hand-scanned rather than one big regex: an ACCEL file has ~10 of these per row and
 * a beam has ~30k rows, and sifting a beam should take well under a second.
 */
export function parseMeasurement(text: string): Measurement | null {
  const t = text.trim();
  if (t.indexOf("+/-") >= 0) {
    const pm = PLUS_MINUS.exec(t);
    if (!pm) return null;
    const value = parseNumber(pm[1]!);
    const uncertainty = parseNumber(pm[2]!);
    if (value === null || uncertainty === null) return null;
    return { value, uncertainty, text: t, truncated: false };
  }

  // Mantissa: [sign] digits [. digits]
  const n = t.length;
  let i = 0;
  const c0 = t.charCodeAt(0);
  if (c0 === 43 /* + */ || c0 === 45 /* - */) i++;
  const intStart = i;
  while (i < n && isDigit(t.charCodeAt(i))) i++;
  if (i === intStart) return null;
  let fracLen = 0;
  if (i < n && t.charCodeAt(i) === 46 /* . */) {
    i++;
    const fracStart = i;
    while (i < n && isDigit(t.charCodeAt(i))) i++;
    fracLen = i - fracStart;
  }
  const mantissaEnd = i;

  // A bare number in a value(err) column: the column ended before the "(", and an
  // exponent may have followed, so only a zero mantissa is still a known value.
  if (i === n) return cut(t.slice(0, mantissaEnd), t);
  if (t.charCodeAt(i) !== 40 /* ( */) return null;
  const close = t.indexOf(")", i);
  if (close < 0) {
    // Cut inside the parentheses; an exponent may have followed.
    return /^\d*\.?\d*$/.test(t.slice(i + 1)) ? cut(t.slice(0, mantissaEnd), t) : null;
  }

  // Uncertainty: digits [. digits]
  let j = i + 1;
  while (j < close && isDigit(t.charCodeAt(j))) j++;
  if (j === i + 1) return null;
  let errHasPoint = false;
  if (j < close && t.charCodeAt(j) === 46) {
    errHasPoint = true;
    const afterPoint = ++j;
    while (j < close && isDigit(t.charCodeAt(j))) j++;
    if (j === afterPoint) return null;
  }
  if (j !== close) return null;

  // Optional exponent "x10^n", possibly cut short by the column width.
  let exponent = 0;
  if (close + 1 < n) {
    const rest = t.slice(close + 1);
    if (rest.startsWith("x10^") && SIGNED_INT.test(rest.slice(4))) {
      exponent = Number(rest.slice(4));
    } else if (CUT_EXPONENT.test(rest)) {
      return cut(t.slice(0, mantissaEnd), t);
    } else {
      return null;
    }
  }

  const value = decimal(t, 0, mantissaEnd, exponent);
  // "(2.1)" is literal; "(31)" counts units of the mantissa's last decimal place.
  const uncertainty = decimal(t, i + 1, close, errHasPoint ? exponent : exponent - fracLen);
  return { value, uncertainty, text: t, truncated: false };
}

/** A field cut before its exponent: zero times any power of ten is still zero. */
function cut(mantissaText: string, text: string): Measurement {
  const mantissa = Number(mantissaText);
  return { value: mantissa === 0 ? mantissa : Number.NaN, uncertainty: Number.NaN, text, truncated: true };
}

/** Exact powers of ten representable in a double. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/**
 * The double nearest to the decimal t[start:end] ([sign] digits [. digits], already
 * validated) times 10^exponent. With at most 15 digits and |scale| <= 22 one IEEE
 * multiply or divide of two exact values is correctly rounded (Clinger's fast path),
 * so this equals Number("...e...") and Python's float() without building strings;
 * other cases fall back to Number().
 */
function decimal(t: string, start: number, end: number, exponent: number): number {
  let k = start;
  const negative = t.charCodeAt(k) === 45;
  if (negative || t.charCodeAt(k) === 43) k++;
  let m = 0;
  let digits = 0;
  let fracLen = 0;
  let seenPoint = false;
  for (; k < end; k++) {
    const c = t.charCodeAt(k);
    if (c === 46) {
      seenPoint = true;
      continue;
    }
    m = m * 10 + (c - 48);
    digits++;
    if (seenPoint) fracLen++;
  }
  const scale = exponent - fracLen;
  if (digits > 15 || scale > 22 || scale < -22) return Number(`${t.slice(start, end)}e${exponent}`);
  const magnitude = scale >= 0 ? m * POW10[scale]! : m / POW10[-scale]!;
  return negative ? -magnitude : magnitude;
}
