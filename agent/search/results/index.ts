/**
 * A beam's results directory, laid out as PALFA's clean_up left it, so that the
 * diagnostics (../diagnostics) and the upload find what PALFA's uploader found.
 *
 *   search-params-file  search_params.txt (Python repr lines) and paramsHash
 *   layout              collectResults: tarballs, moves, manifest.json
 *   report              the <base>.report stage wall times
 *   manifest            sizes and SHA-256s of every results file; verifyManifest
 *   tarball             create/list/read gzipped tarballs (also used for zaplists)
 *   fnmatch             Python glob patterns over one directory
 *   pyrepr              Python repr() of numbers, strings, lists, dicts
 *   names               refuse file names with path separators
 */

export {
  SEARCH_PARAMS_FILE,
  canonicalJson,
  effectiveParams,
  formatSearchParams,
  paramsHash,
  writeSearchParamsFile,
} from "./search-params-file";
export {
  type CollectOptions,
  type CollectResult,
  RESULT_PATTERNS,
  ResultsLayoutError,
  type TarballRecord,
  collectResults,
  tarballSpecs,
} from "./layout";
export {
  type PalfaStage,
  REPORT_STAGES,
  type ReportInfo,
  type StageTime,
  formatReport,
  pyAsctime,
  reportFileName,
  writeReport,
} from "./report";
export {
  MANIFEST_NAME,
  type Manifest,
  type ManifestEntry,
  ManifestError,
  buildManifest,
  sha256File,
  verifyManifest,
  writeManifest,
} from "./manifest";
export { type TarMember, createTarball, isRegularMember, listTarball, readTarMember } from "../../../shared/files/tarball";
export { fnmatchRegExp, globFiles, listRegularFiles } from "./fnmatch";
export { pyFloatRepr, pyIntRepr, pyRepr, pyStrRepr } from "./pyrepr";
export { UnsafePathError, plainName } from "../../../shared/files/safe-path";
