/**
 * The uploader: a beam's results directory into the results DB (PALFA's
 * JobUploader, palfa-reference.md §4), in one transaction that is read back and
 * compared before it commits.
 *
 *   parse       parseResultsDir(dir, options?): ParsedResults        manifest, header,
 *               candidates vs folds, diagnostics, versions; throws UploadError
 *   upload      upload(db, parsed, options?): UploadResult           idempotent per
 *               (beam, version); UploadError "compare" or DbUnavailable on failure
 *   open        openResultsDb(config): ResultsDb                      SQLite file or
 *               PostgreSQL pool, migrated; defaultResultsDbFile(dataDir)
 *   db          interface ResultsDb / Tx (transaction, insert, select; bound parameters)
 *   schema      RESULTS_MIGRATIONS (portable SQL + per-backend type map), RESULT_TABLES
 *   errors      UploadError (checksum | parse | mismatch | compare: retry as an
 *               upload), DbUnavailable (retry with backoff), classifyDbError(err)
 *   retry       withDbRetry(fn, options?): retries DbUnavailable with backoff
 *   query       queryResults(db, {uploadIds?, minSigma?}): candidates with beam and diagnostics
 *   loop        JobUploader: processed jobs → uploaded (job-uploader.ts), with the
 *               upload's own failure counter and DB backoff
 *   bench       bench/upload.ts times an upload of 100 folded candidates on both backends
 */

export {
  type DbErrorDisposition,
  DbUnavailable,
  UploadError,
  type UploadErrorClass,
  asDbUnavailable,
  classifyDbError,
  transientReason,
} from "./errors";
export { type DbStats, type ResultsDb, type Row, type SqlValue, type Tx } from "./db";
export { type Backend, type Migration, RESULTS_MIGRATIONS, RESULT_TABLES, type ResultTable, TYPE_MAP, migrationSql, sqlFor } from "./schema";
export { MIGRATIONS_TABLE, type ResultsDbConfig, defaultResultsDbFile, migrate, openResultsDb, resultsDbConfigFrom } from "./open";
export { SqliteResultsDb } from "./sqlite-db";
export { PgResultsDb, toPgPlaceholders } from "./pg-db";
export {
  type DiagnosticRecord,
  type ParseOptions,
  type ParsedResults,
  SP_FILE_TYPES,
  SP_PLOT_LABELS,
  type SpFileRecord,
  type VersionRow,
  parseResultsDir,
} from "./parse";
export { type CandidateFile, type CandidateRow, PLOT_TYPES, type ParsedCandidate, frequencyFromPeriod, parseCandidateAttributes } from "./candidates";
export { type HeaderRow, equatorialToGalactic, headerRow, parseDecDegrees, parseRaHours } from "./header";
export { parsePyLiteral, parseSearchParamsText } from "./search-params-text";
export { type UploadOptions, type UploadResult, upload } from "./upload";
export { type RetryOptions, withDbRetry } from "./retry";
export { type CandidateListing, type ResultsQuery, type UploadListing, queryResults } from "./query-results";
export { JobUploader, type JobUploaderSettings, type UploadTry } from "./job-uploader";
