/**
 * The diagnostics known once sifting has written <base>.accelcands: the list
 * itself and the candidate counts.
 *
 * Public API:
 *   siftingDiagnostics(accelcandsPath, params): DiagnosticList
 *       "Accelcands list", "Num cands produced", "Num cands above threshold"
 *   readCandlist(path): AccelcandsEntry[]     (throws FileProblem / ParseError)
 *   numCandsProduced(entries), numCandsAboveThreshold(entries, params)
 *
 * "Above threshold" is sigma >= to_prepfold_sigma, inclusive, exactly as PALFA's
 * uploader counted it (and as the folding loop selected candidates), using the
 * sigma as printed in the .accelcands (2 decimals), since that is what PALFA read.
 */

import type { SearchParams } from "../config/search-params";
import { type AccelcandsEntry, parseAccelcands } from "../presto";
import { withDiagnostic } from "./errors";
import { blobDiagnostic, readFileBytes } from "./files";
import { type DiagnosticList, diagnosticList, floatDiagnostic } from "./types";

export function readCandlist(accelcandsPath: string): AccelcandsEntry[] {
  return parseAccelcands(readFileBytes(accelcandsPath).toString("utf8"), accelcandsPath);
}

export function numCandsProduced(entries: readonly AccelcandsEntry[]): number {
  return entries.length;
}

export function numCandsAboveThreshold(entries: readonly AccelcandsEntry[], params: SearchParams): number {
  return entries.filter((c) => c.sigma >= params.to_prepfold_sigma).length;
}

export function siftingDiagnostics(accelcandsPath: string, params: SearchParams): DiagnosticList {
  const list = blobDiagnostic("Accelcands list", accelcandsPath);
  const entries = withDiagnostic("Num cands produced", () => parseAccelcands(list.text!, accelcandsPath));
  return diagnosticList([
    list,
    floatDiagnostic("Num cands produced", numCandsProduced(entries)),
    floatDiagnostic("Num cands above threshold", numCandsAboveThreshold(entries, params)),
  ]);
}
