/**
 * "RFI mask percentage", available as soon as rfifind has run.
 *
 * Public API:
 *   rfiDiagnostics(rfifindOutPath): DiagnosticList
 *
 * PALFA took the number in parentheses on rfifind's "Number of  bad   intervals"
 * line and, when the line was absent, left the value unset (the upload then failed
 * obscurely). parseRfifindOutput requires the line, so a cut-short rfifind.out is a
 * DiagnosticError ("garbled") naming the file.
 */

import { parseRfifindOutput } from "../presto";
import { withDiagnostic } from "./errors";
import { readFileBytes } from "./files";
import { type DiagnosticList, diagnosticList, floatDiagnostic } from "./types";

export function rfiDiagnostics(rfifindOutPath: string): DiagnosticList {
  const d = withDiagnostic("RFI mask percentage", () => {
    const text = readFileBytes(rfifindOutPath).toString("utf8");
    return floatDiagnostic("RFI mask percentage", parseRfifindOutput(text, rfifindOutPath).maskedPercent);
  });
  return diagnosticList([d]);
}
