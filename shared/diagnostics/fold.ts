/**
 * The diagnostics known once folding (and the .ps -> .png conversion) is done.
 *
 * Public API:
 *   foldDiagnostics(resultsDir, accelcandsPath, params): DiagnosticList
 *       "Num cands folded", "Min sigma folded" (skipped when nothing was folded)
 *   foldedPlots(resultsDir): string[]              names of *.pfd.png
 *   minSigmaFolded(entries, plotNames, file): number | null
 *
 * A folded candidate is recognised by its plot, as in PALFA: prepfold was run with
 * -o <base>_DM<dm>_Z<zmax> -accelcand <n>, so candidate <base>_DM<dm>_ACCEL_<z>:<n>
 * has the plot <base>_DM<dm>_Z<z>_ACCEL_Cand_<n>.pfd.png. PALFA's checks are kept:
 * a plot with no candidate in the list, or a candidate matching two plots, is an
 * error (the directory mixes runs); no plot at all skips "Min sigma folded" without
 * failing the beam (PALFA's DiagnosticNonFatalError "No candidates folded.").
 * We add one check: more plots than max_cands_to_fold also means mixed runs.
 */

import path from "node:path";
import type { SearchParams } from "../config/search-params";
import type { AccelcandsEntry } from "../presto";
import { globFiles } from "../results/fnmatch";
import { FileProblem, withDiagnostic } from "./errors";
import { DIAGNOSTIC_FILES } from "./files";
import { readCandlist } from "./sifting";
import { type DiagnosticList, diagnosticList, floatDiagnostic } from "./types";

export function foldedPlots(resultsDir: string): string[] {
  try {
    return globFiles(resultsDir, DIAGNOSTIC_FILES["Num cands folded"]);
  } catch (e) {
    throw new FileProblem(resultsDir, "missing", `cannot list the results directory: ${(e as Error).message}`, { cause: e });
  }
}

export function checkFoldedCount(plots: readonly string[], params: SearchParams, resultsDir: string): number {
  if (plots.length > params.max_cands_to_fold) {
    throw new FileProblem(
      path.join(resultsDir, DIAGNOSTIC_FILES["Num cands folded"]),
      "mismatch",
      `${plots.length} folded plots but max_cands_to_fold is ${params.max_cands_to_fold}`,
    );
  }
  return plots.length;
}

/** The plot prepfold made for this candidate (PALFA's name mapping). */
export function plotNameFor(c: AccelcandsEntry, file: string): string {
  const parts = c.accelFile.split("_ACCEL_");
  if (parts.length !== 2) {
    throw new FileProblem(file, "garbled", `candidate file name ${c.accelFile} does not contain "_ACCEL_" exactly once`);
  }
  return `${parts[0]}_Z${parts[1]}_ACCEL_Cand_${c.candnum}.pfd.png`;
}

/** Min sigma over folded candidates; null when none was folded. `file` names the candlist in errors. */
export function minSigmaFolded(entries: readonly AccelcandsEntry[], plotNames: readonly string[], file: string): number | null {
  const plots = new Set(plotNames);
  const sigmas = entries.filter((c) => plots.has(plotNameFor(c, file))).map((c) => c.sigma);
  if (plotNames.length > sigmas.length) {
    throw new FileProblem(file, "mismatch", `Not all *.pfd.png images were found in candlist! (${plotNames.length} > ${sigmas.length})`);
  }
  if (plotNames.length < sigmas.length) {
    throw new FileProblem(file, "mismatch", `Some *.pfd.png image match multiple entries in candlist! (${plotNames.length} < ${sigmas.length})`);
  }
  return sigmas.length === 0 ? null : Math.min(...sigmas);
}

export function foldDiagnostics(resultsDir: string, accelcandsPath: string, params: SearchParams): DiagnosticList {
  const plots = withDiagnostic("Num cands folded", () => foldedPlots(resultsDir));
  const folded = withDiagnostic("Num cands folded", () => checkFoldedCount(plots, params, resultsDir));
  const min = withDiagnostic("Min sigma folded", () => minSigmaFolded(readCandlist(accelcandsPath), plots, accelcandsPath));
  const count = floatDiagnostic("Num cands folded", folded);
  if (min === null) return diagnosticList([count], [{ name: "Min sigma folded", reason: "No candidates folded." }]);
  return diagnosticList([count, floatDiagnostic("Min sigma folded", min)]);
}
