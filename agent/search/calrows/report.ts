/**
 * The <base>_calrows.txt text: what the cal-row check saw and did.
 *
 * Public API:
 *   formatCalRowsReport(decision, context): string
 *   fitsdelrowArgs(fitsFile, deletion): string[]
 *
 * PALFA shipped this file with the results and its uploader read two things from
 * it: the whole text (the "Cal removal summary" diagnostic: the commands used and
 * other information) and the number on its last line, which must start with
 * "Total number of rows removed:" (diagnostics.NumCalRowsRemoved parses
 * int(last_line.lstrip(...)) and fails the upload otherwise). So the commands are
 * listed verbatim and the file always ends with that line.
 */

import { formatG } from "../../../shared/presto/pycompat";
import { type CalRowsDecision, type RowDeletion } from "./decide";

export interface CalRowsReportContext {
  /** The DM-0 series examined, and the PSRFITS file the rows belong to. */
  datFile: string;
  fitsFile: string;
  samplesPerRow: number;
  trailingSamples: number;
  /** Lines to include as "Warning: ..." (e.g. a row-count mismatch). */
  warnings?: readonly string[];
}

export function fitsdelrowArgs(fitsFile: string, d: RowDeletion): string[] {
  return [`${fitsFile}[SUBINT]`, String(d.first), String(d.count)];
}

function rowRange(first: number, last: number): string {
  return first === last ? `row ${first}` : `rows ${first}-${last}`;
}

export function formatCalRowsReport(d: CalRowsDecision, ctx: CalRowsReportContext): string {
  const lines: string[] = [];
  const trailing = ctx.trailingSamples > 0 ? `; ${ctx.trailingSamples} trailing samples ignored` : "";
  lines.push(`Cal-row check of ${ctx.datFile} for ${ctx.fitsFile}`);
  lines.push(`Rows: ${d.rows} of ${ctx.samplesPerRow} samples${trailing}`);
  for (const w of ctx.warnings ?? []) lines.push(`Warning: ${w}`);
  lines.push(`Threshold: row median more than ${formatG(d.thresholdMads)} MADs above the median of row medians, ` + `plus ${d.marginRows} row(s) either side`);
  lines.push(`Median of medians: ${formatG(d.medianOfMedians)}`);
  lines.push(`MAD of medians: ${formatG(d.madOfMedians)}`);
  if (d.unscorable !== null) lines.push(`Not scored: ${d.unscorable}`);
  if (d.aboveThreshold.length === 0) {
    lines.push("Rows above the threshold: none");
  } else {
    lines.push(`Rows above the threshold: ${d.aboveThreshold.length}`);
    for (const r of d.aboveThreshold) lines.push(`  row ${r}: ${formatG(d.scores[r - 1])} MADs`);
  }
  for (const b of d.blocks) {
    const where =
      b.region === "start"
        ? `within the first 10% of the observation: rows 1-${b.last} removed`
        : b.region === "end"
          ? `within the last 10% of the observation: rows ${b.first}-${d.rows} removed`
          : "in the middle of the observation: kept, reported only";
    lines.push(`Flagged ${rowRange(b.first, b.last)}: ${where}`);
  }
  for (const del of d.deletions) lines.push(`fitsdelrow ${fitsdelrowArgs(ctx.fitsFile, del).join(" ")}`);
  lines.push(`Total number of rows removed: ${d.totalRemoved}`);
  return lines.join("\n") + "\n";
}
