/**
 * accelsearch candidate files ("<base>_ACCEL_<zmax>", text).
 *
 * Public API:
 *   interface AccelFile, AccelCandidate, AccelHarmonic
 *   parseAccel(text, file): AccelFile
 *   readAccelFile(path): AccelFile
 *
 * Layout (src/accel_utils.c, output_fundamentals/output_harmonics): a table of
 * fundamentals, two blank lines, a table with one row per harmonic of every
 * candidate, two blank lines, then a copy of the searched series' .inf file. Every
 * column has a fixed width and is followed by two spaces; accelsearch centres each
 * value in its column and cuts what does not fit, so we slice columns by position
 * (as the writer laid them out) rather than split on whitespace, and we check the
 * two-space separators so that a damaged row is reported, not misread. Jerk
 * searches (-wmax) add the FFT 'w' columns; we detect them from the header.
 *
 * Each value-with-uncertainty column becomes a Measurement and keeps its printed
 * text: sifting.py re-reads some fields its own way (e.g. power "x10^" handling),
 * and our sifting must see exactly the same characters.
 */

import fs from "node:fs";
import { ParseError } from "./errors";
import { type InfFile, observationLength, parseInfLines } from "./inf";
import { splitLines } from "./text";
import { type Measurement, parseMeasurement, parseNumber } from "./values";

export interface AccelCandidate {
  /** Candidate number (accelsearch prints only 4 digits; >= 10000 are reconstructed as sifting.py does). */
  candnum: number;
  /** Sigma as printed by accelsearch (includes its trials correction; sifting recomputes its own). */
  sigma: number;
  /** Summed (incoherent) power as printed; the 6-character column can cut digits. */
  summedPower: number;
  coherentPower: number;
  numHarmonics: number;
  periodMs: Measurement;
  frequencyHz: Measurement;
  /** Fourier frequency in bins. */
  r: Measurement;
  /** Frequency derivative, Hz/s. */
  fdot: Measurement;
  /** Fourier frequency derivative in bins. */
  z: Measurement;
  /** Fourier second derivative in bins; null unless the search used -wmax. */
  w: Measurement | null;
  accelMs2: Measurement;
  /** accelsearch's note: known-pulsar matches ("SL H9 J1901+0315_P") or harmonic relations; "" if none. */
  notes: string;
  harmonics: AccelHarmonic[];
  /** 1-based line of this candidate in the file. */
  line: number;
}

export interface AccelHarmonic {
  /** 1-based harmonic number. */
  harmonic: number;
  /** Single-harmonic sigma as printed. */
  sigma: number;
  /** "Power / Loc Pow" (or "NumPhot" normalised) with uncertainty; sifting's harmonic power. */
  power: Measurement;
  rawPower: number;
  r: Measurement;
  predictedR: number;
  z: Measurement;
  predictedZ: number;
  /** Null unless the search used -wmax. */
  w: Measurement | null;
  predictedW: number | null;
  phaseRad: Measurement;
  centroid: Measurement;
  purity: Measurement;
  notes: string;
  line: number;
}

export interface AccelFile {
  file: string;
  candidates: AccelCandidate[];
  /** The .inf block accelsearch appended. */
  inf: InfFile;
  /** Length of the searched series in seconds, N*dt from that .inf (what sifting divides r by). */
  T: number;
  /** Whether the search had a jerk (w) dimension. */
  hasJerk: boolean;
}

export function readAccelFile(path: string): AccelFile {
  return parseAccel(fs.readFileSync(path, "utf8"), path);
}

// Column widths from accel_utils.c. The w columns (fundamentals index 10, harmonics
// 9 and 10) are only printed for jerk searches.
const FUND_WIDTHS = [4, 5, 6, 8, 4, 16, 15, 15, 15, 11, 11, 15] as const;
const FUND_W_COLUMN = 10;
const HARM_WIDTHS = [5, 4, 5, 15, 11, 18, 13, 12, 9, 12, 9, 12, 10, 10] as const;
const HARM_W_COLUMNS = [9, 10];
const NOTES_WIDTH = 20;

export function parseAccel(text: string, file: string): AccelFile {
  const lines = splitLines(text, file, true);
  const at = (i: number): string | undefined => lines[i];
  const fail = (i: number, expected: string): never => {
    throw new ParseError(file, i + 1, expected, at(i));
  };

  // --- fundamentals table header
  const title1 = at(0);
  if (title1 === undefined) fail(0, "the ACCEL candidate table header");
  const hasJerk = title1!.includes("FFT 'w'");
  if (!/^\s*Cand\s+Sigma\b/.test(at(1) ?? "")) fail(1, 'the "Cand  Sigma ..." header line');
  if (!/^-+$/.test(at(2) ?? "")) fail(2, "the dashed line under the candidate header");
  const fundWidths = FUND_WIDTHS.filter((_, k) => hasJerk || k !== FUND_W_COLUMN);
  const harmWidths = HARM_WIDTHS.filter((_, k) => hasJerk || !HARM_W_COLUMNS.includes(k));

  const candidates: AccelCandidate[] = [];
  let i = 3;
  for (; at(i) !== undefined && at(i)!.trim() !== ""; i++) {
    candidates.push(parseFundamental(at(i)!, i, fundWidths, hasJerk, candidates, file));
  }
  i = skipBlank(lines, i);

  // --- harmonics table
  if (candidates.length > 0) {
    if (at(i) === undefined) fail(i, "the harmonics table header");
    if (!/^\s*Cand\s+Harm\b/.test(at(i + 1) ?? "")) fail(i + 1, 'the "Cand  Harm ..." header line');
    if (!/^-+$/.test(at(i + 2) ?? "")) fail(i + 2, "the dashed line under the harmonics header");
    i += 3;
    for (const cand of candidates) {
      for (let h = 1; h <= cand.numHarmonics; h++, i++) {
        const line = at(i);
        const what = `harmonic ${h} of ${cand.numHarmonics} of candidate ${cand.candnum}`;
        if (line === undefined || line.trim() === "") fail(i, what);
        cand.harmonics.push(parseHarmonic(line!, i, h, cand.candnum, harmWidths, hasJerk, file, what));
      }
    }
    if (at(i) !== undefined && at(i)!.trim() !== "") fail(i, "a blank line after the harmonics table");
    i = skipBlank(lines, i);
  }

  // --- the appended .inf
  if (at(i) === undefined) fail(i, "the .inf block accelsearch appends");
  const inf = parseInfLines(lines.slice(i), file, i + 1);
  return { file, candidates, inf, T: observationLength(inf), hasJerk };
}

function skipBlank(lines: readonly string[], i: number): number {
  while (lines[i] !== undefined && lines[i]!.trim() === "") i++;
  return i;
}

/**
 * Cut a row into its fixed-width fields. Returns the fields and the remaining text
 * (the notes), or null if a two-space separator is missing.
 */
function columns(line: string, widths: readonly number[]): { fields: string[]; rest: string } | null {
  const fields: string[] = [];
  let pos = 0;
  for (let k = 0; k < widths.length; k++) {
    const end = pos + widths[k]!;
    const separator = line.slice(end, end + 2);
    // Only the last column may end the line early (a copy with trailing blanks stripped).
    const lastAndShort = k === widths.length - 1 && line.length <= end + 2 && /^ *$/.test(separator);
    if (separator !== "  " && !lastAndShort) return null;
    fields.push(line.slice(pos, end).trim());
    pos = end + 2;
  }
  return { fields, rest: line.slice(pos) };
}

/** Notes are printed as "  %.20s"; a row may be shorter if trailing spaces were stripped. */
function notesOf(rest: string): string | null {
  if (rest.length > 0 && !rest.startsWith("  ")) return null;
  return rest.slice(2, 2 + NOTES_WIDTH).trim();
}

function parseFundamental(
  line: string,
  i: number,
  widths: readonly number[],
  hasJerk: boolean,
  previous: readonly AccelCandidate[],
  file: string,
): AccelCandidate {
  const bad = (expected: string): never => {
    throw new ParseError(file, i + 1, expected, line);
  };
  const cols = columns(line, widths);
  if (!cols) bad(`a candidate row with ${widths.length} fixed-width columns`);
  const f = cols!.fields;
  const notes = notesOf(cols!.rest);
  if (notes === null) bad("the notes column after two spaces");
  const num = (k: number, what: string): number => {
    const v = parseNumber(f[k]!);
    if (v === null) bad(`a number in the ${what} column`);
    return v!;
  };
  const meas = (k: number, what: string): Measurement => {
    const v = parseMeasurement(f[k]!);
    if (v === null) bad(`a value(uncertainty) in the ${what} column`);
    return v!;
  };

  if (!/^\d+$/.test(f[0]!)) bad("a candidate number");
  let candnum = Number(f[0]);
  // accelsearch prints "%-4d" into a 4-wide column, so 10000 shows as "1000";
  // sifting.py then numbers on from the previous candidate. Do the same.
  const last = previous[previous.length - 1];
  if (last !== undefined && f[0]!.length === 4 && last.candnum >= 9999) candnum = last.candnum + 1;

  const numHarmonics = num(4, "Num Harm");
  if (!Number.isInteger(numHarmonics) || numHarmonics < 1) bad("a positive harmonic count");
  let k = 5;
  const periodMs = meas(k++, "Period");
  const frequencyHz = meas(k++, "Frequency");
  const r = meas(k++, "FFT 'r'");
  const fdot = meas(k++, "Freq Deriv");
  const z = meas(k++, "FFT 'z'");
  const w = hasJerk ? meas(k++, "FFT 'w'") : null;
  const accelMs2 = meas(k++, "Accel");
  return {
    candnum,
    sigma: num(1, "Sigma"),
    summedPower: num(2, "Summed Power"),
    coherentPower: num(3, "Coherent Power"),
    numHarmonics,
    periodMs,
    frequencyHz,
    r,
    fdot,
    z,
    w,
    accelMs2,
    notes: notes!,
    harmonics: [],
    line: i + 1,
  };
}

function parseHarmonic(
  line: string,
  i: number,
  harmonic: number,
  candnum: number,
  widths: readonly number[],
  hasJerk: boolean,
  file: string,
  what: string,
): AccelHarmonic {
  const bad = (expected: string): never => {
    throw new ParseError(file, i + 1, expected, line);
  };
  const cols = columns(line, widths);
  if (!cols) bad(`${what}: a row with ${widths.length} fixed-width columns`);
  const f = cols!.fields;
  const notes = notesOf(cols!.rest);
  if (notes === null) bad(`${what}: the notes column after two spaces`);
  const num = (k: number, col: string): number => {
    const v = parseNumber(f[k]!);
    if (v === null) bad(`${what}: a number in the ${col} column`);
    return v!;
  };
  const meas = (k: number, col: string): Measurement => {
    const v = parseMeasurement(f[k]!);
    if (v === null) bad(`${what}: a value(uncertainty) in the ${col} column`);
    return v!;
  };

  // The first row of a candidate repeats its number (4 printed digits at most);
  // the others leave the column blank.
  const printed = f[0]!;
  const expectedNumber = harmonic === 1 ? String(candnum).slice(0, 4) : "";
  if (printed !== expectedNumber) bad(`${what}: candidate number "${expectedNumber}" in the first column`);
  if (f[1] !== String(harmonic)) bad(`${what}: harmonic number ${harmonic}`);

  let k = 3;
  const power = meas(k++, "Power / Loc Pow");
  const rawPower = num(k++, "Raw Power");
  const r = meas(k++, "FFT 'r'");
  const predictedR = num(k++, "Pred 'r'");
  const z = meas(k++, "FFT 'z'");
  const predictedZ = num(k++, "Pred 'z'");
  const w = hasJerk ? meas(k++, "FFT 'w'") : null;
  const predictedW = hasJerk ? num(k++, "Pred 'w'") : null;
  const phaseRad = meas(k++, "Phase");
  const centroid = meas(k++, "Centroid");
  const purity = meas(k++, "Purity");
  return {
    harmonic,
    sigma: num(2, "Sigma"),
    power,
    rawPower,
    r,
    predictedR,
    z,
    predictedZ,
    w,
    predictedW,
    phaseRad,
    centroid,
    purity,
    notes: notes!,
    line: i + 1,
  };
}
