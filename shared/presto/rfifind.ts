/**
 * rfifind's standard output ("<base>_rfifind.out", which the pipeline captures).
 *
 * Public API:
 *   interface RfifindSummary, RfifindIntervals, RfifindBirdie
 *   parseRfifindOutput(text, file): RfifindSummary
 *   readRfifindOutput(path): RfifindSummary
 *
 * PALFA's "RFI mask percentage" diagnostic and the search's masked fraction both
 * come from one line (src/rfifind.c):
 *   "  Number of  bad   intervals:  %7d  (%6.3f%%)"
 * That line is required; a missing one means rfifind did not finish, and we throw a
 * ParseError rather than PALFA's silent fallbacks (100 % in find_masked_fraction, an
 * unset value in the uploader). The other numbers rfifind prints (the data summary
 * "key = value" block, the interval length, the interval counts and the two
 * "Ten most ..." birdie tables) are returned when present: which header lines appear
 * depends on the input format (e.g. "Num of polns" is PSRFITS-only).
 */

import fs from "node:fs";
import { ParseError } from "./errors";
import { splitLines } from "./text";
import { parseMeasurement, parseNumber } from "./values";

export interface RfifindIntervals {
  count: number;
  /** Percent of all channel-intervals, as printed (3 decimals). */
  percent: number;
}

export interface RfifindBirdie {
  sigma: number;
  periodMs: number;
  freqHz: number;
  number: number;
}

export interface RfifindSummary {
  file: string;
  /** Percentage of channel-intervals masked as bad (the "bad intervals" percent). */
  maskedPercent: number;
  bad: RfifindIntervals;
  good: RfifindIntervals | null;
  padded: RfifindIntervals | null;
  /** numint * numchan, from "Total number of intervals in the data". */
  totalIntervals: number | null;
  /** From the header block, when printed. */
  numChannels: number | null;
  sampleTimeS: number | null;
  totalPoints: number | null;
  totalTimeS: number | null;
  centerFreqMHz: number | null;
  spectraPerSubint: number | null;
  clippingSigma: number | null;
  numFiles: number | null;
  /** Length of one rfifind interval ("Analyzing data sections of length N points (T sec)"). */
  pointsPerInterval: number | null;
  secondsPerInterval: number | null;
  /** Number of time intervals: totalIntervals / numChannels, when both are known. */
  numIntervals: number | null;
  /** "There are N RFI instances." */
  rfiInstances: number | null;
  mostSignificantBirdies: RfifindBirdie[];
  mostNumerousBirdies: RfifindBirdie[];
}

export function readRfifindOutput(path: string): RfifindSummary {
  return parseRfifindOutput(fs.readFileSync(path, "utf8"), path);
}

const BAD = /Number of\s+bad\s+intervals:\s*(\d+)\s*\(\s*([-+0-9.eE]+|nan|-?inf)%\)/;
const GOOD = /Number of\s+good\s+intervals:\s*(\d+)\s*\(\s*([-+0-9.eE]+|nan|-?inf)%\)/;
const PADDED = /Number of\s+padded\s+intervals:\s*(\d+)\s*\(\s*([-+0-9.eE]+|nan|-?inf)%\)/;
const TOTAL = /Total number of intervals in the data:\s*(\d+)/;
const SECTIONS = /Analyzing data sections of length (\d+) points \(([^ ]+) sec\)/;
const INSTANCES = /There are (\d+) RFI instances/;

/** Header "key = value" lines we expose, by their label. */
const HEADER_KEYS: Record<string, keyof RfifindSummary> = {
  "Number of files": "numFiles",
  "Center freq (MHz)": "centerFreqMHz",
  "Num of channels": "numChannels",
  "Sample time (s)": "sampleTimeS",
  "Spectra/subint": "spectraPerSubint",
  "Total points (N)": "totalPoints",
  "Total time (s)": "totalTimeS",
  "Clipping sigma": "clippingSigma",
};

export function parseRfifindOutput(text: string, file: string): RfifindSummary {
  // rfifind's progress meter rewrites one line with bare "\r"s; we leave those inside
  // the line so that our line numbers are the file's.
  const lines = splitLines(text, file, false);
  const header: Partial<Record<keyof RfifindSummary, number>> = {};
  let bad: RfifindIntervals | null = null;
  let good: RfifindIntervals | null = null;
  let padded: RfifindIntervals | null = null;
  let totalIntervals: number | null = null;
  let pointsPerInterval: number | null = null;
  let secondsPerInterval: number | null = null;
  let rfiInstances: number | null = null;
  let mostSignificantBirdies: RfifindBirdie[] = [];
  let mostNumerousBirdies: RfifindBirdie[] = [];

  const intervals = (m: RegExpExecArray, i: number): RfifindIntervals => {
    const percent = parseNumber(m[2]!);
    if (percent === null) throw new ParseError(file, i + 1, "an interval percentage", lines[i]);
    return { count: Number(m[1]), percent };
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let m: RegExpExecArray | null;
    if ((m = BAD.exec(line))) bad = intervals(m, i);
    else if ((m = GOOD.exec(line))) good = intervals(m, i);
    else if ((m = PADDED.exec(line))) padded = intervals(m, i);
    else if ((m = TOTAL.exec(line))) totalIntervals = Number(m[1]);
    else if ((m = SECTIONS.exec(line))) {
      pointsPerInterval = Number(m[1]);
      secondsPerInterval = parseNumber(m[2]!);
    } else if ((m = INSTANCES.exec(line))) rfiInstances = Number(m[1]);
    else if (/^\s*Ten most significant birdies:/.test(line)) {
      mostSignificantBirdies = birdieTable(lines, i + 1, file, "sigma");
    } else if (/^\s*Ten most numerous birdies:/.test(line)) {
      mostNumerousBirdies = birdieTable(lines, i + 1, file, "number");
    } else {
      const kv = /^\s*([^=]+?)\s*=\s*(\S+)/.exec(line);
      const key = kv ? HEADER_KEYS[kv[1]!] : undefined;
      if (kv && key !== undefined) {
        const v = parseNumber(kv[2]!);
        if (v !== null) header[key] = v;
      }
    }
  }

  if (bad === null) {
    throw new ParseError(file, lines.length + 1, 'the "Number of  bad   intervals:  N  (x%)" line (did rfifind finish?)');
  }
  const numChannels = header.numChannels ?? null;
  return {
    file,
    maskedPercent: bad.percent,
    bad,
    good,
    padded,
    totalIntervals,
    numChannels,
    sampleTimeS: header.sampleTimeS ?? null,
    totalPoints: header.totalPoints ?? null,
    totalTimeS: header.totalTimeS ?? null,
    centerFreqMHz: header.centerFreqMHz ?? null,
    spectraPerSubint: header.spectraPerSubint ?? null,
    clippingSigma: header.clippingSigma ?? null,
    numFiles: header.numFiles ?? null,
    pointsPerInterval,
    secondsPerInterval,
    numIntervals: totalIntervals !== null && numChannels ? totalIntervals / numChannels : null,
    rfiInstances,
    mostSignificantBirdies,
    mostNumerousBirdies,
  };
}

/**
 * A "Ten most ..." table: a "#  ..." title row, a dashed row, then up to ten rows
 * "%-2d %-8.2f %13s %13s %-8d" (significant: rank sigma period freq number;
 * numerous: rank number period freq sigma). Period and frequency may carry an
 * uncertainty ("57.99(2)"); we keep the value.
 */
function birdieTable(lines: readonly string[], start: number, file: string, order: "sigma" | "number"): RfifindBirdie[] {
  let i = start;
  if (!/^#/.test(lines[i] ?? "")) throw new ParseError(file, i + 1, "the birdie table title row", lines[i]);
  i++;
  if (!/^-+$/.test(lines[i] ?? "")) throw new ParseError(file, i + 1, "the dashed line of the birdie table", lines[i]);
  i++;
  const rows: RfifindBirdie[] = [];
  for (; lines[i] !== undefined && lines[i]!.trim() !== ""; i++) {
    const parts = lines[i]!.trim().split(/\s+/);
    const a = parts.length === 5 ? parseNumber(parts[1]!) : null;
    const period = parts.length === 5 ? valueOf(parts[2]!) : null;
    const freq = parts.length === 5 ? valueOf(parts[3]!) : null;
    const b = parts.length === 5 ? parseNumber(parts[4]!) : null;
    if (a === null || period === null || freq === null || b === null) {
      throw new ParseError(file, i + 1, "a birdie row: rank, sigma/number, period(ms), freq(Hz), number/sigma", lines[i]);
    }
    rows.push(order === "sigma" ? { sigma: a, periodMs: period, freqHz: freq, number: b } : { number: a, periodMs: period, freqHz: freq, sigma: b });
  }
  return rows;
}

/** A plain number, or the value part of "value(err)". */
function valueOf(text: string): number | null {
  const plain = parseNumber(text);
  if (plain !== null) return plain;
  const m = parseMeasurement(text);
  return m === null || m.truncated ? null : m.value;
}
