/**
 * The search-parameter diagnostics.
 *
 * Public API:
 *   paramDiagnostics(paramsFile, params): DiagnosticList
 *       "Search parameters" (the file), "Sigma threshold", "Max cands allowed to fold"
 *   checkParamsFile(text, file, params)   FileProblem "mismatch" unless the file is
 *                                         exactly what formatSearchParams(params) writes
 *
 * PALFA exec()'d search_params.txt to get the two numbers. We are handed the
 * parameters, so instead we check that the file uploaded as "Search parameters" is
 * the one those parameters produce: a results directory whose file disagrees with
 * the parameters we report would make the two records contradict each other.
 */

import type { SearchParams } from "../config/search-params";
import { formatSearchParams } from "../results/search-params-file";
import { FileProblem, withDiagnostic } from "./errors";
import { blobDiagnostic } from "./files";
import { type DiagnosticList, diagnosticList, floatDiagnostic } from "./types";

export function checkParamsFile(text: string, file: string, params: SearchParams): void {
  const expected = formatSearchParams(params);
  if (text === expected) return;
  const got = text.split("\n");
  const want = expected.split("\n");
  let i = 0;
  while (i < got.length && got[i] === want[i]) i++;
  throw new FileProblem(
    file,
    "mismatch",
    `does not match the search parameters: line ${i + 1} is ${JSON.stringify(got[i] ?? "")}, expected ${JSON.stringify(want[i] ?? "")}`,
  );
}

export function paramDiagnostics(paramsFile: string, params: SearchParams): DiagnosticList {
  const blob = blobDiagnostic("Search parameters", paramsFile);
  withDiagnostic("Search parameters", () => checkParamsFile(blob.text!, paramsFile, params));
  return diagnosticList([
    blob,
    floatDiagnostic("Sigma threshold", params.to_prepfold_sigma),
    floatDiagnostic("Max cands allowed to fold", params.max_cands_to_fold),
  ]);
}
