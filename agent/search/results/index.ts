/**
 * Writing a beam's results directory, laid out as PALFA's clean_up left it, so that
 * the diagnostics (shared/diagnostics) and the upload find what PALFA's uploader found.
 * What both sides read of it (manifest, search_params.txt, glob patterns) is the
 * results contract in shared/results.
 *
 *   layout              collectResults: tarballs, moves, manifest.json
 *   report              the <base>.report stage wall times
 */

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
