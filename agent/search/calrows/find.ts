/**
 * The cal-row check end to end: a DM-0 .dat in, the decision and the report out.
 *
 * Public API:
 *   findCalRows(datPath, options): Promise<CalRowsResult>
 *
 * The caller runs `prepdata -noclip -nobary -dm 0 -o <base>_pre_DM0.00 <base>.fits`
 * first (PALFA's step), passes NSBLK from the PSRFITS header as samplesPerRow and
 * calrow_threshold_mads from the search parameters, writes `reportText` to
 * <base>_calrows.txt, and runs `fitsdelrow` with each of `commands` in order.
 * Nothing here changes any file.
 */

import path from "node:path";
import { readRowMedians } from "./dat-rows";
import { type CalRowsDecision, decideCalRows } from "./decide";
import { fitsdelrowArgs, formatCalRowsReport } from "./report";

export interface CalRowsOptions {
  /** NSBLK of the PSRFITS file the series was made from (prepdata keeps its dt). */
  samplesPerRow: number;
  /** calrow_threshold_mads (PALFA V-2: 50). */
  thresholdMads: number;
  /** Rows flagged either side of each row above the threshold (PALFA: 1). */
  marginRows?: number;
  /** The PSRFITS file the fitsdelrow commands name (default: the .dat's base + ".fits"). */
  fitsFile?: string;
  /**
   * NAXIS2 of that file. The series must cover exactly that many rows for row k of
   * the series to be row k of the table; a mismatch is reported in `warnings`.
   */
  expectedRows?: number;
}

export interface CalRowsResult extends CalRowsDecision {
  samplesPerRow: number;
  trailingSamples: number;
  /** One float32 median per row. */
  rowMedians: Float32Array;
  /** fitsdelrow arguments, in the order to run them. */
  commands: string[][];
  /** The <base>_calrows.txt content, ending "Total number of rows removed: N\n". */
  reportText: string;
  /** Things the caller should know (e.g. the series and the table disagree on the row count). */
  warnings: string[];
}

export async function findCalRows(datPath: string, options: CalRowsOptions): Promise<CalRowsResult> {
  const rm = await readRowMedians(datPath, options.samplesPerRow);
  const decision = decideCalRows(rm.medians, {
    thresholdMads: options.thresholdMads,
    marginRows: options.marginRows ?? 1,
  });
  const fitsFile = options.fitsFile ?? defaultFitsName(datPath);
  const warnings: string[] = [];
  if (options.expectedRows !== undefined && options.expectedRows !== rm.rows) {
    warnings.push(
      `${path.basename(datPath)} has ${rm.rows} whole rows of ${rm.samplesPerRow} samples but ${fitsFile} has ` +
        `${options.expectedRows} rows; row numbers may not match`,
    );
  }
  const reportText = formatCalRowsReport(decision, {
    datFile: path.basename(datPath),
    fitsFile,
    samplesPerRow: rm.samplesPerRow,
    trailingSamples: rm.trailingSamples,
    warnings,
  });
  return {
    ...decision,
    samplesPerRow: rm.samplesPerRow,
    trailingSamples: rm.trailingSamples,
    rowMedians: rm.medians,
    commands: decision.deletions.map((d) => fitsdelrowArgs(fitsFile, d)),
    reportText,
    warnings,
  };
}

/** "<base>_pre_DM0.00.dat" -> "<base>.fits", PALFA's naming. */
function defaultFitsName(datPath: string): string {
  const base = path.basename(datPath).replace(/\.dat$/, "");
  return `${base.replace(/_pre_DM0\.00$/, "").replace(/_DM[0-9.]+$/, "")}.fits`;
}
