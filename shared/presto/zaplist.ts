/**
 * Zaplists (the birdie lists zapbirds -zapfile reads) and PALFA's "percent zapped"
 * diagnostics.
 *
 * Public API:
 *   interface ZapEntry, PercentZapped, PercentZappedOptions
 *   parseZaplist(text, file): ZapEntry[]
 *   readZaplist(path): ZapEntry[]
 *   percentZapped(entries, options?): PercentZapped
 *
 * Line forms, as PRESTO's get_birdies() (src/zapping.c) reads them:
 *   "# ..."              comment
 *   "B <freq> <width>"   barycentric frequency (Hz) and full width (Hz); zapbirds
 *                        maps it onto the topocentric FFT using -baryv
 *   "<freq> <width>"     topocentric frequency and width (what makezaplist.py writes
 *                        for ordinary birdies: "  %20.15g  %20.15g")
 * We also skip blank lines and "# ..." tails (np.loadtxt, which PALFA's diagnostics
 * use, strips those too); anything else is a ParseError.
 */

import fs from "node:fs";
import { ParseError } from "./errors";
import { numpySum } from "./pycompat";
import { splitLines } from "./text";
import { parseNumber } from "./values";

export interface ZapEntry {
  /** Centre frequency, Hz. */
  freq: number;
  /** Full width, Hz. */
  width: number;
  /** True for "B" lines (barycentric); false for topocentric ones. */
  barycentric: boolean;
  /** 1-based line number in the zaplist. */
  line: number;
}

export function readZaplist(path: string): ZapEntry[] {
  return parseZaplist(fs.readFileSync(path, "utf8"), path);
}

export function parseZaplist(text: string, file: string): ZapEntry[] {
  const lines = splitLines(text, file, false);
  const entries: ZapEntry[] = [];
  for (let i = 0; i < lines.length; i++) {
    const body = lines[i]!.replace(/#.*$/, "").trim();
    if (body === "") continue;
    const m = /^(B\s*)?(\S+)\s+(\S+)$/.exec(body);
    const freq = m ? parseNumber(m[2]!) : null;
    const width = m ? parseNumber(m[3]!) : null;
    if (!m || freq === null || width === null) {
      throw new ParseError(file, i + 1, '"[B] <freq Hz> <width Hz>"', lines[i]);
    }
    entries.push({ freq, width, barycentric: m[1] !== undefined, line: i + 1 });
  }
  return entries;
}

export interface PercentZappedOptions {
  /** sifting_long_period, s (PALFA: 15.0); its inverse is the lowest frequency searched. */
  longPeriod?: number;
  /** sifting_short_period, s (PALFA: 0.0005); its inverse is the highest frequency searched. */
  shortPeriod?: number;
}

export interface PercentZapped {
  /** "Percent zapped total". */
  total: number;
  /** "Percent zapped below 10 Hz". */
  below10Hz: number;
  /** "Percent zapped below 1 Hz". */
  below1Hz: number;
}

/**
 * PALFA's three "Percent zapped" diagnostics (pipeline2.0 diagnostics.py), computed
 * the same way so the values match what the common DB holds: each birdie's
 * [freq - width/2, freq + width/2] is clipped to [1/longPeriod, upper] and the
 * clipped widths are summed (numpy order) and divided by a band, times 100.
 *
 * Note PALFA's denominators: "total" divides by the searched band
 * (1/shortPeriod - 1/longPeriod), but "below 10 Hz" and "below 1 Hz" divide by
 * (1/shortPeriod - 10) and (1/shortPeriod - 1), i.e. by the band ABOVE the cut,
 * not by the clipped band [1/longPeriod, 10] or [1/longPeriod, 1]. We keep that so the
 * numbers stay comparable with the survey's history; a "fraction of the low band"
 * would be sum / (cut - 1/longPeriod) instead. Overlapping birdies are counted twice,
 * as in PALFA.
 */
export function percentZapped(entries: readonly ZapEntry[], options: PercentZappedOptions = {}): PercentZapped {
  const longPeriod = options.longPeriod ?? 15.0;
  const shortPeriod = options.shortPeriod ?? 0.0005;
  const flo = 1.0 / longPeriod;
  const fhi = 1.0 / shortPeriod;
  const zapped = (upper: number): number =>
    numpySum(
      entries.map((e) => {
        const lo = clip(e.freq - 0.5 * e.width, flo, upper);
        const hi = clip(e.freq + 0.5 * e.width, flo, upper);
        return hi - lo;
      }),
    );
  return {
    total: (zapped(fhi) / (fhi - flo)) * 100,
    below10Hz: (zapped(10.0) / (fhi - 10.0)) * 100,
    below1Hz: (zapped(1.0) / (fhi - 1.0)) * 100,
  };
}

/** np.clip(x, lo, hi) for lo <= hi. */
function clip(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
