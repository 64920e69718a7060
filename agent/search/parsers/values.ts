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
 * Values are built by handing decimal strings to Number(), which rounds correctly,
 * so a parsed value is the same double Python's float() gives for the same digits.
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
const PLAIN_NUMBER = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)$/i;

/** A plain printf-style number ("1674.0", "2.5e-07", "76800", "nan"); null if not one. */
export function parseNumber(text: string): number | null {
  const t = text.trim();
  if (!PLAIN_NUMBER.test(t)) return null;
  const lower = t.toLowerCase();
  if (lower.endsWith("nan")) return Number.NaN;
  if (lower.includes("inf")) return lower.startsWith("-") ? -Infinity : Infinity;
  return Number(t);
}

const PLUS_MINUS = /^(\S+)\s+\+\/-\s+(\S+)$/;
// mantissa: sign, integer digits, optional fraction. The rest is parsed by hand so
// that each way a column can be cut short is recognised explicitly.
const MANTISSA = /^([+-]?)(\d+)(?:\.(\d*))?/;
const UNCERTAINTY = /^(\d+)(?:\.(\d+))?$/;
const FULL_EXPONENT = /^x10\^([+-]?\d+)$/;
const CUT_EXPONENT = /^x(?:1(?:0(?:\^[+-]?)?)?)?$/;

/**
 * Parse a value printed with its uncertainty (any of the forms above).
 * Returns null if the text is not such a value at all.
 */
export function parseMeasurement(text: string): Measurement | null {
  const t = text.trim();
  const pm = PLUS_MINUS.exec(t);
  if (pm) {
    const value = parseNumber(pm[1]!);
    const uncertainty = parseNumber(pm[2]!);
    if (value === null || uncertainty === null) return null;
    return { value, uncertainty, text: t, truncated: false };
  }

  const m = MANTISSA.exec(t);
  if (!m) return null;
  const sign = m[1]!;
  const intDigits = m[2]!;
  const fracDigits = m[3] ?? "";
  const mantissaText = `${sign}${intDigits}.${fracDigits}`;
  let rest = t.slice(m[0].length);

  if (rest.length === 0) {
    // A bare number in a value(err) column: the column ended before the "(", and an
    // exponent may have followed, so only a zero mantissa is still a known value.
    return cut(mantissaText, t);
  }
  if (!rest.startsWith("(")) return null;
  const close = rest.indexOf(")");
  if (close < 0) {
    // Cut inside the parentheses; an exponent may have followed.
    const inside = rest.slice(1);
    if (!/^\d*\.?\d*$/.test(inside)) return null;
    return cut(mantissaText, t);
  }
  const errMatch = UNCERTAINTY.exec(rest.slice(1, close));
  if (!errMatch) return null;
  rest = rest.slice(close + 1);

  let exponent = 0;
  if (rest.length > 0) {
    const full = FULL_EXPONENT.exec(rest);
    if (full) {
      exponent = Number(full[1]);
    } else if (CUT_EXPONENT.test(rest)) {
      return cut(mantissaText, t);
    } else {
      return null;
    }
  }

  const value = Number(`${mantissaText}e${exponent}`);
  // "(2.1)" is literal; "(31)" counts units of the mantissa's last decimal place.
  const uncertainty =
    errMatch[2] !== undefined
      ? Number(`${errMatch[1]}.${errMatch[2]}e${exponent}`)
      : Number(`${errMatch[1]}e${exponent - fracDigits.length}`);
  return { value, uncertainty, text: t, truncated: false };
}

/** A field cut before its exponent: zero times any power of ten is still zero. */
function cut(mantissaText: string, text: string): Measurement {
  const mantissa = Number(mantissaText);
  return { value: mantissa === 0 ? mantissa : Number.NaN, uncertainty: Number.NaN, text, truncated: true };
}
