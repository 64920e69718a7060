/**
 * PRESTO's sifted candidate list (".accelcands"), read and written.
 *
 * Public API:
 *   interface AccelcandsEntry, AccelcandsHit
 *   parseAccelcands(text, file): AccelcandsEntry[]
 *   readAccelcandsFile(path): AccelcandsEntry[]
 *   formatAccelcands(entries): string        exactly what sifting.py's Candlist.to_file writes
 *
 * Format (python/presto/sifting.py, Candidate.__str__ and Candlist.to_file):
 *   "#" + centred column titles
 *   "%-65s   %7.2f  %6.2f  %6.2f  %s   %7.1f  %7.1f  %12.6f  %10.2f  %8.2f  (%d)"
 *      file:candnum, DM, SNR, sigma, "%2d" centred in 7 (numharm), ipow, cpow,
 *      P (ms), r, z, number of DM hits
 *   and, only when there is more than one hit, one line per hit sorted by DM:
 *   "  DM=%6.2f SNR=%5.2f Sigma=%5.2f   " + int(sigma/3) "*"
 * The writer formats with pycompat (C/Python rounding), so for the same doubles it
 * produces the same bytes as sifting.py.
 */

import fs from "node:fs";
import { ParseError } from "./errors";
import { formatFixed, pyCenter } from "./pycompat";
import { splitLines } from "./text";
import { parseNumber } from "./values";

export interface AccelcandsHit {
  dm: number;
  snr: number;
  sigma: number;
}

export interface AccelcandsEntry {
  /** Base name of the ACCEL file ("beam_J1903_DM57.00_ACCEL_0"). */
  accelFile: string;
  /** Candidate number within that file. */
  candnum: number;
  dm: number;
  snr: number;
  sigma: number;
  numharm: number;
  ipow: number;
  cpow: number;
  periodMs: number;
  r: number;
  z: number;
  /**
   * Every DM detection of this candidate (the count is the "(N)" column). The file
   * lists hit lines only for N > 1; for N == 1 the single hit is the candidate itself
   * and the reader fills it in from the candidate's own DM, SNR and sigma.
   */
  hits: AccelcandsHit[];
}

/** The header line exactly as sifting.py builds it from centred titles. */
const HEADER =
  "#" +
  pyCenter("file:candnum", 66) +
  pyCenter("DM", 9) +
  pyCenter("SNR", 8) +
  pyCenter("sigma", 8) +
  pyCenter("numharm", 9) +
  pyCenter("ipow", 9) +
  pyCenter("cpow", 9) +
  pyCenter("P(ms)", 14) +
  pyCenter("r", 12) +
  pyCenter("z", 8) +
  pyCenter("numhits", 9);

export function formatAccelcands(entries: readonly AccelcandsEntry[]): string {
  const out: string[] = [HEADER, "\n"];
  for (const c of entries) {
    out.push(
      `${c.accelFile}:${c.candnum}`.padEnd(65),
      "   ",
      formatFixed(c.dm, 2, 7),
      "  ",
      formatFixed(c.snr, 2, 6),
      "  ",
      formatFixed(c.sigma, 2, 6),
      "  ",
      pyCenter("%2d", 7).replace("%2d", String(Math.trunc(c.numharm)).padStart(2)),
      "   ",
      formatFixed(c.ipow, 1, 7),
      "  ",
      formatFixed(c.cpow, 1, 7),
      "  ",
      formatFixed(c.periodMs, 6, 12),
      "  ",
      formatFixed(c.r, 2, 10),
      "  ",
      formatFixed(c.z, 2, 8),
      " ",
      ` (${c.hits.length})\n`,
    );
    if (c.hits.length > 1) {
      // to_file sorts the hits by DM (a stable sort: equal DMs keep their order).
      const hits = [...c.hits].sort((a, b) => a.dm - b.dm);
      for (const h of hits) {
        out.push(
          `  DM=${formatFixed(h.dm, 2, 6)} SNR=${formatFixed(h.snr, 2, 5)} Sigma=${formatFixed(h.sigma, 2, 5)}   `,
          "*".repeat(Math.max(0, Math.trunc(h.sigma / 3.0))),
          "\n",
        );
      }
    }
  }
  return out.join("");
}

export function readAccelcandsFile(path: string): AccelcandsEntry[] {
  return parseAccelcands(fs.readFileSync(path, "utf8"), path);
}

const NUM = String.raw`(-?(?:\d+\.?\d*|inf|nan))`;
// file:candnum, then DM SNR sigma numharm ipow cpow P(ms) r z, then "(numhits)".
const CAND_LINE = new RegExp(String.raw`^(\S+):(\d+)\s+` + Array(9).fill(NUM).join(String.raw`\s+`) + String.raw`\s+\((\d+)\)$`);
const HIT_LINE = new RegExp(String.raw`^  DM=\s*${NUM} SNR=\s*${NUM} Sigma=\s*${NUM}\s+\**$`);

export function parseAccelcands(text: string, file: string): AccelcandsEntry[] {
  const lines = splitLines(text, file, true);
  const entries: AccelcandsEntry[] = [];
  let i = 0;
  if (lines.length === 0) return entries; // sifting left nothing: PALFA writes an empty file
  if (!lines[0]!.startsWith("#")) throw new ParseError(file, 1, 'the "#  file:candnum  DM ..." header', lines[0]);
  i = 1;
  while (i < lines.length) {
    const line = lines[i]!;
    const m = CAND_LINE.exec(line);
    if (!m) throw new ParseError(file, i + 1, 'a candidate line "file:candnum DM SNR sigma numharm ipow cpow P(ms) r z (numhits)"', line);
    const v = m.slice(3, 12).map((t) => parseNumber(t)!);
    const numHits = Number(m[12]);
    const entry: AccelcandsEntry = {
      accelFile: m[1]!,
      candnum: Number(m[2]),
      dm: v[0]!,
      snr: v[1]!,
      sigma: v[2]!,
      numharm: v[3]!,
      ipow: v[4]!,
      cpow: v[5]!,
      periodMs: v[6]!,
      r: v[7]!,
      z: v[8]!,
      hits: [],
    };
    i++;
    if (numHits === 1) {
      entry.hits.push({ dm: entry.dm, snr: entry.snr, sigma: entry.sigma });
    } else if (numHits > 1) {
      for (let h = 0; h < numHits; h++, i++) {
        const hm = HIT_LINE.exec(lines[i] ?? "");
        if (!hm) {
          throw new ParseError(file, i + 1, `hit line ${h + 1} of ${numHits} ("  DM= x SNR= y Sigma= z ***")`, lines[i]);
        }
        entry.hits.push({ dm: parseNumber(hm[1]!)!, snr: parseNumber(hm[2]!)!, sigma: parseNumber(hm[3]!)! });
      }
    }
    entries.push(entry);
  }
  return entries;
}
