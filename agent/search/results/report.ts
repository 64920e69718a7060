/**
 * The "<base>.report" text PALFA wrote at the end of every job (obs_info.write_report
 * in PALFA2_presto_search.py): where and when it ran, the total wall time, the
 * masked percentage, the number folded, then the wall time of each stage and its
 * share of the total. People compare these across beams to spot slow nodes, so we
 * keep PALFA's layout line for line.
 *
 * Public API:
 *   type ReportStage, interface StageTime, ReportInput
 *   REPORT_STAGES                          the stages, in the report's order
 *   formatReport(input): string
 *   reportFileName(base): string           "<base>.report"
 *   writeReport(dir, base, input): string  path written
 *   pyAsctime(date): string                time.asctime(time.gmtime(t))
 *
 * Stage records are summed per stage (PALFA added every prepsubband, realfft, ...
 * call into one timer). The total is the job's wall time when given (PALFA's was
 * start-to-end, so more than the sum of the stages), else the sum of the records.
 * PALFA divided by the total unguarded; with a zero total we print 0.00 %.
 */

import fs from "node:fs";
import path from "node:path";
import { formatFixed } from "../parsers";
import { assertPlainName } from "./names";

/** "subbanding" is reported with subbands, "downsampling" without (PALFA printed one of the two). */
export const REPORT_STAGES = [
  "rfifind",
  "subbanding",
  "downsampling",
  "dedispersing",
  "single-pulse",
  "FFT",
  "lo-accelsearch",
  "hi-accelsearch",
  "sifting",
  "folding",
] as const;
export type ReportStage = (typeof REPORT_STAGES)[number];

export interface StageTime {
  stage: ReportStage;
  seconds: number;
}

export interface ReportInput {
  /** The data files searched (PALFA listed job.filenms). */
  files: readonly string[];
  hostname: string;
  /** When the job ended (UTC is printed). */
  endTime: Date;
  /** Job wall time, s; defaults to the sum of the stage records. */
  totalSeconds?: number;
  /** rfifind's masked percentage (the "bad intervals" percent). */
  maskedPercent: number;
  numCandsFolded: number;
  /** config use_subbands: print "subbanding" (true, default) or "downsampling". */
  useSubbands?: boolean;
  stages: readonly StageTime[];
}

const RULE = "---------------------------------------------------------\n";

/** The label column exactly as PALFA padded it (right-aligned to 22 characters). */
const LABELS: Record<ReportStage, string> = {
  rfifind: "rfifind time",
  subbanding: "subbanding time",
  downsampling: "downsampling time",
  dedispersing: "dedispersing time",
  "single-pulse": "single-pulse time",
  FFT: "FFT time",
  "lo-accelsearch": "lo-accelsearch time",
  "hi-accelsearch": "hi-accelsearch time",
  sifting: "sifting time",
  folding: "folding time",
};

export function formatReport(input: ReportInput): string {
  const sums = new Map<ReportStage, number>(REPORT_STAGES.map((s) => [s, 0]));
  for (const r of input.stages) {
    if (!sums.has(r.stage)) throw new RangeError(`unknown report stage ${JSON.stringify(r.stage)}`);
    if (!Number.isFinite(r.seconds) || r.seconds < 0) {
      throw new RangeError(`stage ${r.stage}: ${r.seconds} is not a wall time in seconds`);
    }
    sums.set(r.stage, sums.get(r.stage)! + r.seconds);
  }
  let total = input.totalSeconds;
  if (total === undefined) total = [...sums.values()].reduce((a, b) => a + b, 0);
  if (!Number.isFinite(total) || total < 0) throw new RangeError(`total ${total} is not a wall time in seconds`);
  if (!Number.isSafeInteger(input.numCandsFolded) || input.numCandsFolded < 0) {
    throw new RangeError(`numCandsFolded ${input.numCandsFolded} is not a count`);
  }

  const useSubbands = input.useSubbands ?? true;
  const shown = REPORT_STAGES.filter((s) => (useSubbands ? s !== "downsampling" : s !== "subbanding"));
  const pct = (t: number): number => (total > 0 ? (t / total) * 100.0 : 0);

  let out = RULE;
  out += `Data (${input.files.join(", ")}) were processed on ${input.hostname}\n`;
  out += `Ending UTC time:  ${pyAsctime(input.endTime)}\n`;
  out += `Total wall time:  ${formatFixed(total, 1)} s (${formatFixed(total / 3600.0, 2)} hrs)\n`;
  out += `Fraction of data masked:  ${formatFixed(input.maskedPercent, 2)}%\n`;
  out += `Number of candidates folded: ${input.numCandsFolded}\n`;
  out += RULE;
  for (const s of shown) {
    const t = sums.get(s)!;
    out += `${LABELS[s].padStart(22)} = ${formatFixed(t, 1, 7)} sec (${formatFixed(pct(t), 2, 5)}%)\n`;
  }
  out += RULE;
  return out;
}

export function reportFileName(base: string): string {
  return `${assertPlainName(base, "beam base name")}.report`;
}

export function writeReport(dir: string, base: string, input: ReportInput): string {
  const file = path.join(dir, reportFileName(base));
  fs.writeFileSync(file, formatReport(input));
  return file;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Python's time.asctime of a UTC struct_time: "Thu Sep  5 07:04:09 2013". */
export function pyAsctime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`
  );
}
