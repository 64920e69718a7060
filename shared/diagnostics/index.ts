/**
 * PALFA's 18 per-beam diagnostics (palfa-reference.md §4), computed from a
 * beam's results so the agent can send them with the results, some as soon as the
 * stage that makes them is done:
 *
 *   after rfifind         rfiDiagnostics(rfifindOutPath)
 *   zaplist chosen        zaplistDiagnostics(zaplistPath, params)
 *   after sifting         siftingDiagnostics(accelcandsPath, params)
 *   after folding         foldDiagnostics(resultsDir, accelcandsPath, params)
 *   params written        paramDiagnostics(paramsFile, params)
 *   any blob file         blobDiagnostic(name, file)
 *   cal rows (inactive)   calRowsDiagnostics(calrowsPath)
 *   at the end            allDiagnostics(resultsDir, params): all 18, or typed errors
 *
 * Each returns an array of Diagnostic (with `.skipped` attached). The group
 * functions throw DiagnosticError (diagnostic, file, problem) on the first failure;
 * allDiagnostics instead returns one outcome per diagnostic, with `.errors` and
 * `.complete` attached.
 */

export {
  type ActiveDiagnosticName,
  DIAGNOSTIC_INFO,
  DIAGNOSTIC_NAMES,
  type Diagnostic,
  type DiagnosticKind,
  type DiagnosticList,
  type DiagnosticName,
  type DiagnosticValue,
  INACTIVE_DIAGNOSTIC_NAMES,
  type SkippedDiagnostic,
  diagnosticList,
  floatDiagnostic,
} from "./types";
export { DiagnosticError, type DiagnosticProblem } from "./errors";
export { DIAGNOSTIC_FILES, blobDiagnostic, findDiagnosticFile } from "./files";
export { rfiDiagnostics } from "./rfi";
export { siftingDiagnostics } from "./sifting";
export { foldDiagnostics, plotNameFor } from "./fold";
export { zaplistDiagnostics } from "./zaplist";
export { paramDiagnostics } from "./params";
export { type AllDiagnostics, allDiagnostics } from "./all";
export { calRowsDiagnostics } from "./calrows";
