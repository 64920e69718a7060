/**
 * PALFA's two cal-row diagnostics for Mock data, defined in V-2 but not in its
 * DIAGNOSTIC_TYPES (so not among the 18 allDiagnostics returns); the agent may send
 * them when it removed cal rows.
 *
 * Public API:
 *   calRowsDiagnostics(calrowsPath): DiagnosticList
 *       "Cal removal summary" (the *_calrows.txt text), "Num cal rows removed"
 *
 * As PALFA: the count is the last line, "Total number of rows removed: N"; any other
 * last line means the log is incomplete.
 */

import { FileProblem, withDiagnostic } from "./errors";
import { blobDiagnostic } from "./files";
import { type DiagnosticList, diagnosticList, floatDiagnostic } from "./types";

const TOTAL = /^Total number of rows removed:\s*(\d+)\s*$/;

export function calRowsDiagnostics(calrowsPath: string): DiagnosticList {
  const summary = blobDiagnostic("Cal removal summary", calrowsPath);
  const count = withDiagnostic("Num cal rows removed", () => {
    const lines = summary.text!.replace(/\n+$/, "").split("\n");
    const m = TOTAL.exec(lines[lines.length - 1] ?? "");
    if (!m) throw new FileProblem(calrowsPath, "garbled", 'the last line is not "Total number of rows removed: N"');
    return Number(m[1]);
  });
  return diagnosticList([summary, floatDiagnostic("Num cal rows removed", count)]);
}
