/**
 * The "<base>.report" text PALFA wrote at the end of every job (obs_info.write_report
 * in PALFA2_presto_search.py): where and when it ran, the total wall time, the
 * masked percentage, the number folded, then the wall time of each stage and its
 * share of the total. People compare these across beams to spot slow nodes, so we
 * keep PALFA's layout line for line.
 *
 * Public API:
 *   type PalfaStage, interface StageTime, ReportInfo
 *   REPORT_STAGES                                 PALFA's stages, in the report's order
 *   formatReport(stages, info): string
 *   writeReport(file, stages, info): string       writes `file`, returns it
 *   reportFileName(base): string                  "<base>.report"
 *   pyAsctime(date): string                       time.asctime(time.gmtime(t))
 *
 * Stage records are summed per stage (PALFA added every prepsubband, realfft, ...
 * call into one timer). Records for stages PALFA did not have (the agent may time
 * other steps) are not dropped: they get lines of the same form after PALFA's, in
 * the order first seen. The total is the job's wall time when given (PALFA's was
 * start-to-end, so more than the sum of the stages), else the sum of the records.
 * PALFA divided by the total unguarded; with a zero total we print 0.00 %.
 */

import fs from "node:fs";
import os from "node:os";
import { formatFixed } from "../../../shared/presto";
import { plainName } from "../../../shared/files/safe-path";

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
export type PalfaStage = (typeof REPORT_STAGES)[number];

export interface StageTime {
  /** One of REPORT_STAGES, or another step name (reported after PALFA's lines). */
  stage: string;
  seconds: number;
}

export interface ReportInfo {
  /** The data files searched (PALFA listed job.filenms). */
  files: readonly string[];
  /** rfifind's masked percentage (the "bad intervals" percent). */
  maskedPercent: number;
  numCandsFolded: number;
  /** Job wall time, s; defaults to the sum of the stage records. */
  totalSeconds?: number;
  /** Defaults to os.hostname(). */
  hostname?: string;
  /** When the job ended (printed in UTC); defaults to now. */
  endTime?: Date;
  /** config use_subbands: print "subbanding" (true, default) or "downsampling". */
  useSubbands?: boolean;
}

const RULE = "---------------------------------------------------------\n";

const PALFA_STAGES: ReadonlySet<string> = new Set(REPORT_STAGES);

function seconds(x: number, what: string): number {
  if (!Number.isFinite(x) || x < 0) throw new RangeError(`${what}: ${x} is not a wall time in seconds`);
  return x;
}

export function formatReport(stages: readonly StageTime[], info: ReportInfo): string {
  const sums = new Map<string, number>(REPORT_STAGES.map((s) => [s, 0]));
  for (const r of stages) {
    if (r.stage === "") throw new RangeError("a stage record has no stage name");
    sums.set(r.stage, (sums.get(r.stage) ?? 0) + seconds(r.seconds, `stage ${r.stage}`));
  }
  const total = seconds(info.totalSeconds ?? [...sums.values()].reduce((a, b) => a + b, 0), "total");
  if (!Number.isSafeInteger(info.numCandsFolded) || info.numCandsFolded < 0) {
    throw new RangeError(`numCandsFolded ${info.numCandsFolded} is not a count`);
  }

  const useSubbands = info.useSubbands ?? true;
  const shown = [
    ...REPORT_STAGES.filter((s) => (useSubbands ? s !== "downsampling" : s !== "subbanding")),
    ...[...sums.keys()].filter((s) => !PALFA_STAGES.has(s)),
  ];
  const pct = (t: number): number => (total > 0 ? (t / total) * 100.0 : 0);

  let out = RULE;
  out += `Data (${info.files.join(", ")}) were processed on ${info.hostname ?? os.hostname()}\n`;
  out += `Ending UTC time:  ${pyAsctime(info.endTime ?? new Date())}\n`;
  out += `Total wall time:  ${formatFixed(total, 1)} s (${formatFixed(total / 3600.0, 2)} hrs)\n`;
  out += `Fraction of data masked:  ${formatFixed(info.maskedPercent, 2)}%\n`;
  out += `Number of candidates folded: ${info.numCandsFolded}\n`;
  out += RULE;
  for (const s of shown) {
    const t = sums.get(s)!;
    // PALFA's labels are right-aligned so the "=" signs line up in column 24.
    out += `${`${s} time`.padStart(22)} = ${formatFixed(t, 1, 7)} sec (${formatFixed(pct(t), 2, 5)}%)\n`;
  }
  out += RULE;
  return out;
}

export function writeReport(file: string, stages: readonly StageTime[], info: ReportInfo): string {
  fs.writeFileSync(file, formatReport(stages, info));
  return file;
}

export function reportFileName(base: string): string {
  return `${plainName(base, "beam base name")}.report`;
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
