/**
 * All 18 diagnostics from a finished results directory, as PALFA's uploader built
 * them (get_diagnostics), each computed on its own so that one bad file fails only
 * the diagnostics made from it.
 *
 * Public API:
 *   type AllDiagnostics = DiagnosticList & { errors; complete }
 *   allDiagnostics(resultsDir, params): AllDiagnostics
 *
 * Every name in DIAGNOSTIC_NAMES ends up in exactly one place: the array itself (in
 * that order), `skipped` (only "Min sigma folded" when nothing was folded, as
 * PALFA) or `errors` (a DiagnosticError naming the diagnostic and the missing,
 * ambiguous, garbled or inconsistent file). `complete` is true when there are no
 * errors; PALFA failed the beam's upload otherwise. Callers that iterate over the
 * result must check `complete`/`errors` too.
 *
 * "Sigma threshold" and "Max cands allowed to fold" come from `params` (PALFA read
 * them back from search_params.txt); "Search parameters" fails if that file does
 * not match `params`.
 */

import path from "node:path";
import type { SearchParams } from "../config/search-params";
import type { AccelcandsEntry } from "../presto";
import { DiagnosticError, withDiagnostic } from "./errors";
import { DIAGNOSTIC_FILES, blobDiagnostic, findOne, readFileBytes } from "./files";
import { checkFoldedCount, foldedPlots, minSigmaFolded } from "./fold";
import { checkParamsFile } from "./params";
import { rfiDiagnostics } from "./rfi";
import { numCandsAboveThreshold, numCandsProduced, readCandlist } from "./sifting";
import { type ActiveDiagnosticName, DIAGNOSTIC_NAMES, type Diagnostic, type DiagnosticList, type SkippedDiagnostic, floatDiagnostic } from "./types";
import { zaplistPercents } from "./zaplist";

export type AllDiagnostics = DiagnosticList & { errors: DiagnosticError[]; complete: boolean };

/** Runs fn once and replays its value or its exception (several diagnostics share a file). */
function once<T>(fn: () => T): () => T {
  let state: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  return () => {
    if (state === undefined) {
      try {
        state = { ok: true, value: fn() };
      } catch (error) {
        state = { ok: false, error };
      }
    }
    if (!state.ok) throw state.error;
    return state.value;
  };
}

export function allDiagnostics(resultsDir: string, params: SearchParams): AllDiagnostics {
  const find = (name: ActiveDiagnosticName) => findOne(resultsDir, DIAGNOSTIC_FILES[name]);
  const accelcandsPath = once(() => find("Accelcands list"));
  const candlist = once((): AccelcandsEntry[] => readCandlist(accelcandsPath()));
  const plots = once(() => foldedPlots(resultsDir));
  const zaplistPath = once(() => find("Zaplist used"));
  const percents = once(() => {
    const file = zaplistPath();
    return zaplistPercents(readFileBytes(file).toString("utf8"), file, params);
  });

  const compute: Record<ActiveDiagnosticName, () => Diagnostic | SkippedDiagnostic> = {
    "RFI mask percentage": () => rfiDiagnostics(find("RFI mask percentage"))[0]!,
    "RFIfind png": () => blobDiagnostic("RFIfind png", find("RFIfind png")),
    "Periodicty summary plot": () => blobDiagnostic("Periodicty summary plot", find("Periodicty summary plot")),
    "Rejected cands plot": () => blobDiagnostic("Rejected cands plot", find("Rejected cands plot")),
    "Sifting summary": () => blobDiagnostic("Sifting summary", find("Sifting summary")),
    "Sifting report": () => blobDiagnostic("Sifting report", find("Sifting report")),
    "Accelcands list": () => blobDiagnostic("Accelcands list", accelcandsPath()),
    "Num cands folded": () => floatDiagnostic("Num cands folded", checkFoldedCount(plots(), params, resultsDir)),
    "Num cands produced": () => floatDiagnostic("Num cands produced", numCandsProduced(candlist())),
    "Min sigma folded": () => {
      const min = minSigmaFolded(candlist(), plots(), accelcandsPath());
      return min === null ? { name: "Min sigma folded", reason: "No candidates folded." } : floatDiagnostic("Min sigma folded", min);
    },
    "Num cands above threshold": () => floatDiagnostic("Num cands above threshold", numCandsAboveThreshold(candlist(), params)),
    "Zaplist used": () => blobDiagnostic("Zaplist used", zaplistPath()),
    "Search parameters": () => {
      const d = blobDiagnostic("Search parameters", path.join(resultsDir, DIAGNOSTIC_FILES["Search parameters"]));
      checkParamsFile(d.text!, d.file!, params);
      return d;
    },
    "Sigma threshold": () => floatDiagnostic("Sigma threshold", params.to_prepfold_sigma),
    "Max cands allowed to fold": () => floatDiagnostic("Max cands allowed to fold", params.max_cands_to_fold),
    "Percent zapped total": () => floatDiagnostic("Percent zapped total", percents().total),
    "Percent zapped below 10 Hz": () => floatDiagnostic("Percent zapped below 10 Hz", percents().below10Hz),
    "Percent zapped below 1 Hz": () => floatDiagnostic("Percent zapped below 1 Hz", percents().below1Hz),
  };

  const diagnostics: Diagnostic[] = [];
  const skipped: SkippedDiagnostic[] = [];
  const errors: DiagnosticError[] = [];
  for (const name of DIAGNOSTIC_NAMES) {
    try {
      const r = withDiagnostic(name, compute[name]);
      if ("kind" in r) diagnostics.push(r);
      else skipped.push(r);
    } catch (e) {
      if (!(e instanceof DiagnosticError)) throw e;
      // A shared file's problem is reported under each diagnostic it breaks.
      errors.push(e.diagnostic === name ? e : new DiagnosticError(name, e.file, e.problem, e.message, { cause: e }));
    }
  }
  return Object.assign(diagnostics, { skipped, errors, complete: errors.length === 0 });
}
