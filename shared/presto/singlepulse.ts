/**
 * single_pulse_search.py event lists (".singlepulse").
 *
 * Public API:
 *   interface SinglePulseEvent, SinglePulseFile
 *   parseSinglePulse(text, file): SinglePulseFile
 *   readSinglePulseFile(path): SinglePulseFile
 *
 * A file is a header "# DM      Sigma      Time (s)     Sample    Downfact" and one
 * whitespace-separated row per event. A DM trial without events gives an empty
 * file (PRESTO v6 writes nothing at all: 114 of the 156 trials in our fixture beam
 * are 0 bytes) or, with other versions, the header alone; both mean "no events".
 */

import fs from "node:fs";
import { ParseError } from "./errors";
import { splitLines } from "./text";
import { parseNumber } from "./values";

export interface SinglePulseEvent {
  dm: number;
  sigma: number;
  /** Seconds from the start of the series. */
  time: number;
  /** Sample index in the (downsampled) series. */
  sample: number;
  /** Boxcar width in samples. */
  downfact: number;
}

export interface SinglePulseFile {
  file: string;
  /** False only for an empty file. */
  hasHeader: boolean;
  events: SinglePulseEvent[];
}

const HEADER_WORDS = ["#", "DM", "Sigma", "Time", "(s)", "Sample", "Downfact"];

export function readSinglePulseFile(path: string): SinglePulseFile {
  return parseSinglePulse(fs.readFileSync(path, "utf8"), path);
}

export function parseSinglePulse(text: string, file: string): SinglePulseFile {
  const lines = splitLines(text, file, true);
  if (lines.length === 0) return { file, hasHeader: false, events: [] };

  const header = lines[0]!.trim().split(/\s+/);
  if (header.length !== HEADER_WORDS.length || header.some((w, k) => w !== HEADER_WORDS[k])) {
    throw new ParseError(file, 1, 'the header "# DM Sigma Time (s) Sample Downfact"', lines[0]);
  }

  const events: SinglePulseEvent[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "") continue;
    const parts = line.trim().split(/\s+/);
    const nums = parts.map((p) => parseNumber(p));
    const [dm, sigma, time, sample, downfact] = nums;
    if (
      parts.length !== 5 ||
      dm == null ||
      sigma == null ||
      time == null ||
      sample == null ||
      downfact == null ||
      !Number.isInteger(sample) ||
      !Number.isInteger(downfact)
    ) {
      throw new ParseError(file, i + 1, "an event row: DM sigma time(s) sample(integer) downfact(integer)", line);
    }
    events.push({ dm, sigma, time, sample, downfact });
  }
  return { file, hasHeader: true, events };
}
