/**
 * PALFA's cal-row removal for Mock data: find PSRFITS rows with the noise diode on
 * from the DM-0 series and say which to delete (palfa-reference.md section 5.2).
 *
 *   findCalRows(datPath, options)     stream a .dat, decide, and write the report text
 *   readRowMedians(datPath, spr)      per-row float32 medians, streamed
 *   decideCalRows(medians, options)   the MAD test, margin, 10 % rule and deletions
 *   formatCalRowsReport / fitsdelrowArgs
 *   medianFloat32                     numpy.median on float32, bit for bit
 */

export { type CalRowsOptions, type CalRowsResult, findCalRows } from "./find";
export { type ReadRowMediansOptions, type RowMedians, readRowMedians } from "./dat-rows";
export { type CalBlock, type CalRegion, type CalRowsDecision, type RowDeletion, decideCalRows } from "./decide";
export { type CalRowsReportContext, fitsdelrowArgs, formatCalRowsReport } from "./report";
export { medianFloat32 } from "./median";
