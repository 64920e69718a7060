/**
 * The zaplist diagnostics, known as soon as the beam's zaplist is chosen.
 *
 * Public API:
 *   zaplistDiagnostics(zaplistPath, params): DiagnosticList
 *       "Zaplist used", "Percent zapped total", "... below 10 Hz", "... below 1 Hz"
 *
 * The percentages are the parsers' percentZapped (PALFA V-2's formulas, including
 * its denominators; see parsers/zaplist.ts) over the band searched,
 * [1/sifting_long_period, 1/sifting_short_period].
 */

import type { SearchParams } from "../config/search-params";
import { parseZaplist, percentZapped } from "../presto";
import { withDiagnostic } from "./errors";
import { blobDiagnostic } from "./files";
import { type DiagnosticList, diagnosticList, floatDiagnostic } from "./types";

export function zaplistPercents(text: string, file: string, params: SearchParams) {
  return percentZapped(parseZaplist(text, file), {
    longPeriod: params.sifting_long_period,
    shortPeriod: params.sifting_short_period,
  });
}

export function zaplistDiagnostics(zaplistPath: string, params: SearchParams): DiagnosticList {
  const used = blobDiagnostic("Zaplist used", zaplistPath);
  const pz = withDiagnostic("Percent zapped total", () => zaplistPercents(used.text!, zaplistPath, params));
  return diagnosticList([
    used,
    floatDiagnostic("Percent zapped total", pz.total),
    floatDiagnostic("Percent zapped below 10 Hz", pz.below10Hz),
    floatDiagnostic("Percent zapped below 1 Hz", pz.below1Hz),
  ]);
}
