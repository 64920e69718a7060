/**
 * The results contract: what the agent's search leaves in a results directory and
 * the coordinator verifies, parses and uploads. Both sides read these, so they live
 * here; writing the directory (collectResults, the report) stays with the agent.
 *
 *   search-params-file  search_params.txt (Python repr lines) and paramsHash
 *   manifest            sizes and SHA-256s of every results file; verifyManifest
 *   fnmatch             Python glob patterns over one directory
 *   pyrepr              Python repr() of numbers, strings, lists, dicts
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
  MANIFEST_NAME,
  type Manifest,
  type ManifestEntry,
  ManifestError,
  buildManifest,
  sha256File,
  verifyManifest,
  writeManifest,
} from "./manifest";
export { fnmatchRegExp, globFiles, listRegularFiles } from "./fnmatch";
export { pyFloatRepr, pyIntRepr, pyRepr, pyStrRepr } from "./pyrepr";
