/**
 * accelsearch candidate files ("<base>_ACCEL_<zmax>", text).
 *
 * Public API:
 *   interface AccelFile, AccelCandidate, AccelHarmonic
 *   parseAccel(text, file, separateInf?): AccelFile
 *   readAccelFile(path): AccelFile     (falls back to "<base>.inf" for files without the block)
 *
 * Layout (src/accel_utils.c, output_fundamentals/output_harmonics): a table of
 * fundamentals, two blank lines, a table with one row per harmonic of every
 * candidate, two blank lines, then a copy of the searched series' .inf file. Every
 * column has a fixed width and is followed by two spaces; accelsearch centres each
 * value in its column and cuts what does not fit, so we slice columns by position
 * (as the writer laid them out) and check the two-space separators; a row that does
 * not fit that layout is split on whitespace instead (as sifting.py always does),
 * and every numeric field is validated either way, so damage is reported, not
 * misread. Jerk searches (-wmax) add the FFT 'w' columns; we detect them from the
 * header.
 *
 * Each value-with-uncertainty column becomes a Measurement and keeps its printed
 * text: sifting.py re-reads some fields its own way (e.g. power "x10^" handling),
 * and our sifting must see exactly the same characters.
 */

import fs from "node:fs";
import { ParseError } from "./errors";
import { type InfFile, observationLength, parseInfLines, readInfFile } from "./inf";
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
  /** The .inf block accelsearch appended (or the separate .inf, for files without one). */
  inf: InfFile;
  /** Where `inf` came from. */
  infSource: "appended" | "separate";
  /** Length of the searched series in seconds, N*dt from that .inf (what sifting divides r by). */
  T: number;
  /** Whether the search had a jerk (w) dimension. */
  hasJerk: boolean;
}

/**
 * Read an ACCEL file. Current accelsearch appends the series' .inf to it; for files
 * written without one (older PRESTO), the sibling "<base>.inf" is read instead.
 */
export function readAccelFile(path: string): AccelFile {
  const text = fs.readFileSync(path, "utf8");
  const infPath = path.replace(/_ACCEL_\d+$/, ".inf");
  const sibling = infPath !== path && fs.existsSync(infPath) ? () => readInfFile(infPath) : undefined;
  return parseAccel(text, path, sibling);
}

// Column widths from accel_utils.c. The w columns (fundamentals index 10, harmonics
// 9 and 10) are only printed for jerk searches.
const FUND_WIDTHS = [4, 5, 6, 8, 4, 16, 15, 15, 15, 11, 11, 15] as const;
const FUND_W_COLUMN = 10;
const HARM_WIDTHS = [5, 4, 5, 15, 11, 18, 13, 12, 9, 12, 9, 12, 10, 10] as const;
const HARM_W_COLUMNS = [9, 10];
const NOTES_WIDTH = 20;

/**
 * Parse ACCEL text. `separateInf` supplies the .inf when the text has no appended
 * block (it is not consulted otherwise); without it such text is a ParseError.
 */
export function parseAccel(text: string, file: string, separateInf?: () => InfFile): AccelFile {
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
        if (line === undefined || line.trim() === "") {
          fail(i, `harmonic ${h} of ${cand.numHarmonics} of candidate ${cand.candnum}`);
        }
        cand.harmonics.push(parseHarmonic(line!, i, h, cand, harmWidths, hasJerk, file));
      }
    }
    if (at(i) !== undefined && at(i)!.trim() !== "") fail(i, "a blank line after the harmonics table");
    i = skipBlank(lines, i);
  }

  // --- the appended .inf
  if (at(i) === undefined) {
    if (separateInf === undefined) fail(i, "the .inf block accelsearch appends (or a separate .inf)");
    const inf = separateInf!();
    return { file, candidates, inf, infSource: "separate", T: observationLength(inf), hasJerk };
  }
  const inf = parseInfLines(lines.slice(i), file, i + 1);
  return { file, candidates, inf, infSource: "appended", T: observationLength(inf), hasJerk };
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
    const separated = line.charCodeAt(end) === 32 && line.charCodeAt(end + 1) === 32;
    // Only the last column may end the line early (a copy with trailing blanks stripped).
    if (!separated && !(k === widths.length - 1 && /^ {0,2}$/.test(line.slice(end)))) return null;
    fields.push(trimmedSlice(line, pos, Math.min(end, line.length)));
    pos = end + 2;
  }
  return { fields, rest: line.slice(pos) };
}

/** line.slice(start, end).trim() with one allocation instead of two (~300k fields per beam). */
function trimmedSlice(line: string, start: number, end: number): string {
  while (start < end && line.charCodeAt(start) === 32) start++;
  while (end > start && line.charCodeAt(end - 1) === 32) end--;
  return line.slice(start, end);
}

/** Notes are printed as "  %.20s"; a row may be shorter if trailing spaces were stripped. */
function notesOf(rest: string): string | null {
  if (rest.length > 0 && !rest.startsWith("  ")) return null;
  return rest.slice(2, 2 + NOTES_WIDTH).trim();
}

/**
 * One table row cut into fields, with typed accessors that report the row's line.
 * (A class, not per-row closures: this runs ~30k times per beam.)
 */
class Row {
  readonly fields: string[];
  readonly notes: string;

  constructor(
    private readonly file: string,
    private readonly index: number,
    private readonly line: string,
    private readonly what: string,
    widths: readonly number[],
    blankFirstColumn = false,
  ) {
    const cols = columns(line, widths);
    const notes = cols ? notesOf(cols.rest) : null;
    if (cols && notes !== null) {
      this.fields = cols.fields;
      this.notes = notes;
    } else {
      // Not laid out as current accelsearch does (another PRESTO version, or a
      // damaged row): split on whitespace as sifting.py does; the numeric columns
      // then get checked one by one, so damage is still reported.
      const tokens = line.trim().split(/\s+/);
      // Harmonic rows after the first leave the candidate column blank.
      if (blankFirstColumn) tokens.unshift("");
      if (tokens.length < widths.length) this.fail(`a row with ${widths.length} columns`);
      this.fields = tokens.slice(0, widths.length);
      this.notes = tokens.slice(widths.length).join(" ");
    }
  }

  fail(expected: string): never {
    throw new ParseError(this.file, this.index + 1, `${this.what}: ${expected}`, this.line);
  }

  num(k: number, column: string): number {
    const v = parseNumber(this.fields[k]!);
    if (v === null) this.fail(`a number in the ${column} column`);
    return v;
  }

  meas(k: number, column: string): Measurement {
    const v = parseMeasurement(this.fields[k]!);
    if (v === null) this.fail(`a value(uncertainty) in the ${column} column`);
    return v;
  }
}

function parseFundamental(
  line: string,
  i: number,
  widths: readonly number[],
  hasJerk: boolean,
  previous: readonly AccelCandidate[],
  file: string,
): AccelCandidate {
  const row = new Row(file, i, line, "candidate row", widths);
  const f = row.fields;
  if (!/^\d+$/.test(f[0]!)) row.fail("a candidate number");
  let candnum = Number(f[0]);
  // accelsearch prints "%-4d" into a 4-wide column, so 10000 shows as "1000";
  // sifting.py then numbers on from the previous candidate. Do the same.
  const last = previous[previous.length - 1];
  if (last !== undefined && f[0]!.length === 4 && last.candnum >= 9999) candnum = last.candnum + 1;

  const numHarmonics = row.num(4, "Num Harm");
  if (!Number.isInteger(numHarmonics) || numHarmonics < 1) row.fail("a positive harmonic count");
  let k = 5;
  const periodMs = row.meas(k++, "Period");
  const frequencyHz = row.meas(k++, "Frequency");
  const r = row.meas(k++, "FFT 'r'");
  const fdot = row.meas(k++, "Freq Deriv");
  const z = row.meas(k++, "FFT 'z'");
  const w = hasJerk ? row.meas(k++, "FFT 'w'") : null;
  const accelMs2 = row.meas(k++, "Accel");
  return {
    candnum,
    sigma: row.num(1, "Sigma"),
    summedPower: row.num(2, "Summed Power"),
    coherentPower: row.num(3, "Coherent Power"),
    numHarmonics,
    periodMs,
    frequencyHz,
    r,
    fdot,
    z,
    w,
    accelMs2,
    notes: row.notes,
    harmonics: [],
    line: i + 1,
  };
}

function parseHarmonic(
  line: string,
  i: number,
  harmonic: number,
  cand: AccelCandidate,
  widths: readonly number[],
  hasJerk: boolean,
  file: string,
): AccelHarmonic {
  const what = `harmonic ${harmonic} of ${cand.numHarmonics} of candidate ${cand.candnum}`;
  const row = new Row(file, i, line, what, widths, harmonic > 1);
  const f = row.fields;
  // The first row of a candidate repeats its number (4 printed digits at most);
  // the others leave the column blank.
  const expectedNumber = harmonic === 1 ? String(cand.candnum).slice(0, 4) : "";
  if (f[0] !== expectedNumber) row.fail(`candidate number "${expectedNumber}" in the first column`);
  if (f[1] !== String(harmonic)) row.fail(`harmonic number ${harmonic} in the second column`);

  let k = 3;
  const power = row.meas(k++, "Power / Loc Pow");
  const rawPower = row.num(k++, "Raw Power");
  const r = row.meas(k++, "FFT 'r'");
  const predictedR = row.num(k++, "Pred 'r'");
  const z = row.meas(k++, "FFT 'z'");
  const predictedZ = row.num(k++, "Pred 'z'");
  const w = hasJerk ? row.meas(k++, "FFT 'w'") : null;
  const predictedW = hasJerk ? row.num(k++, "Pred 'w'") : null;
  const phaseRad = row.meas(k++, "Phase");
  const centroid = row.meas(k++, "Centroid");
  const purity = row.meas(k++, "Purity");
  return {
    harmonic,
    sigma: row.num(2, "Sigma"),
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
    notes: row.notes,
    line: i + 1,
  };
}
