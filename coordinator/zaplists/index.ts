/**
 * Choosing a beam's zaplist (the birdie list zapbirds applies to every FFT) the
 * way PALFA did, from a directory of lists or PALFA's zaplists.tar.gz.
 *
 *   lookup     findZaplist / findZaplistForFile: rules 1-4 (observation, beam-day,
 *              all-beams-day, default), returning which rule matched; writeZaplist
 *   beam-name  beamNameParts: projid, date, source, beam, scan from Mock/WAPP names;
 *              mjdToDate
 *   sources    a directory or tarball of lists, read member by member
 *   errors     ZaplistNotFoundError (names everything looked for), ZaplistError
 */

export {
  type BeamKey,
  DEFAULT_ZAPLISTS,
  RULE_NAMES,
  type ZaplistChoice,
  type ZaplistLookupOptions,
  type ZaplistRule,
  findZaplist,
  findZaplistForFile,
  writeZaplist,
  zaplistCandidates,
} from "./lookup";
export { type BeamNameParts, BeamNameError, beamNameParts, beamNumberFromNames, mjdToDate } from "./beam-name";
export { type ZaplistSource, openZaplistSource } from "./sources";
export { ZaplistError, ZaplistNotFoundError } from "./errors";
