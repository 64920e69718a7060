/**
 * Python's repr() of plain values, as PALFA's clean_up wrote them into
 * search_params.txt ("%-25s = %r"). The uploader exec()s that file as Python, so
 * what we write must both read back as the same values and look the same as the
 * files already in the survey's results (people diff them across versions).
 *
 * Public API:
 *   pyFloatRepr(x): string     repr(float): shortest round-trip digits, "2.097152",
 *                              "6.0", "0.0005", "1e-05", "1e+16", "inf", "nan"
 *   pyIntRepr(x): string       repr(int)
 *   pyStrRepr(s): string       repr(str), Python 3 quoting/escaping rules
 *   pyRepr(value, schema?): string
 *
 * JavaScript has one number type; Python tells 6 (int) from 6.0 (float). pyRepr
 * takes the zod schema the value was parsed with and prints a number as an int
 * only where the schema says `.int()`; every other number is a float, which is
 * what PALFA's config held (to_prepfold_sigma = 6.0, max_cands_to_fold = 100).
 */

import { z } from "zod";

/**
 * repr(float) since Python 2.7/3.1 ("short" float_repr_style): the shortest digit
 * string that round-trips (JavaScript produces the same digits), written in
 * scientific notation when the decimal exponent is < -4 or >= 16, and otherwise
 * in positional notation with at least one digit after the point.
 */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  // toExponential() without an argument gives the shortest round-trip digits.
  const [mant, expText] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mant.replace(".", "");
  const exp = Number(expText);
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = String(Math.abs(exp)).padStart(2, "0");
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${intPart}.${frac === "" ? "0" : frac}`;
}

export function pyIntRepr(x: number): string {
  if (!Number.isSafeInteger(x)) throw new RangeError(`not an integer Python could have held exactly: ${x}`);
  return Object.is(x, -0) ? "0" : String(x);
}

/**
 * repr(str) (Python 3): single quotes unless the text has a ' and no ", backslash
 * escapes for \\, the quote, \t \n \r and other control characters (\xNN); other
 * characters are printed as they are.
 */
export function pyStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return out + quote;
}

/** The schema under .default()/.optional()/.nullable() wrappers. */
function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) {
    s = s.unwrap() as z.ZodType;
  }
  return s;
}

/**
 * repr() of a JSON-like value: None, True/False, int or float (see the module
 * comment), str, list, dict (insertion order, as Python 3.7+ prints it).
 */
export function pyRepr(value: unknown, schema?: z.ZodType): string {
  const s = unwrap(schema);
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "number") {
    return s instanceof z.ZodNumber && s.isInt ? pyIntRepr(value) : pyFloatRepr(value);
  }
  if (typeof value === "string") return pyStrRepr(value);
  if (Array.isArray(value)) {
    const element = s instanceof z.ZodArray ? (s.element as z.ZodType) : undefined;
    return `[${value.map((v) => pyRepr(v, element)).join(", ")}]`;
  }
  if (typeof value === "object") {
    const shape = s instanceof z.ZodObject ? (s.shape as Record<string, z.ZodType>) : {};
    const items = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${pyStrRepr(k)}: ${pyRepr(v, shape[k])}`);
    return `{${items.join(", ")}}`;
  }
  throw new TypeError(`no Python repr for a ${typeof value}`);
}
