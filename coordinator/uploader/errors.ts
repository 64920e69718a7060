/**
 * What can go wrong in an upload, sorted by what the coordinator should do next.
 *
 * Public API:
 *   type UploadErrorClass = "checksum" | "parse" | "mismatch" | "compare"
 *   class UploadError      the upload of this beam failed; retry it as an *upload*
 *                          (after a fresh transfer for "checksum"), never by
 *                          re-processing the beam (palfa-reference.md §8 item 11)
 *   class DbUnavailable    the results DB could not be used right now; nothing was
 *                          committed; retry the same upload with backoff
 *   classifyDbError(err)   "DbUnavailable" | "UploadError" | "Unexpected"
 *   asDbUnavailable(err)   err as a DbUnavailable when classifyDbError says so, else err
 *
 * PALFA's uploader mixed these up: a deadlock was retried, but a connection error
 * in the middle of compare_with_db, a duplicate row or a missing variable crashed the
 * daemon, and every upload failure sent the beam back to be searched again. Here the
 * classes are:
 *   checksum  a results file is missing or differs from manifest.json (a short or
 *             corrupt transfer): fetch the results again, then re-upload
 *   parse     a file cannot be read as what it should be (truncated .bestprof, bad
 *             header, unreadable search_params.txt ...)
 *   mismatch  files disagree with each other (candidate list vs folds, a header that
 *             differs from the one already stored for the beam ...)
 *   compare   what was read back inside the transaction differs from what was
 *             parsed: the transaction was rolled back
 * and DbUnavailable covers connection refused/reset/terminated, SQLite busy/locked,
 * serialization failures and deadlocks, and server shutdown: the DB may be fine a
 * moment later, and the upload is idempotent (the `uploads` table), so retrying is
 * always safe, even when the connection died during COMMIT.
 */

export type UploadErrorClass = "checksum" | "parse" | "mismatch" | "compare";

export interface UploadErrorDetails {
  /** The results file (relative to the results dir, or "tarball:member") concerned. */
  file?: string;
  /** For "compare": the table, the row (its key, in words) and the field that differ. */
  table?: string;
  row?: string;
  field?: string;
  cause?: unknown;
}

export class UploadError extends Error {
  readonly errorClass: UploadErrorClass;
  /** What the coordinator should do: upload again, not search again. */
  readonly retry = "upload" as const;
  readonly file: string | undefined;
  readonly table: string | undefined;
  readonly row: string | undefined;
  readonly field: string | undefined;

  constructor(errorClass: UploadErrorClass, message: string, details: UploadErrorDetails = {}) {
    super(`${errorClass}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = "UploadError";
    this.errorClass = errorClass;
    this.file = details.file;
    this.table = details.table;
    this.row = details.row;
    this.field = details.field;
  }
}

export class DbUnavailable extends Error {
  /** What the coordinator should do: the same upload again, after a pause. */
  readonly retry = "backoff" as const;
  /** The driver's code when there was one (SQLSTATE, errno name or SQLITE_*). */
  readonly code: string | undefined;

  constructor(message: string, options: { cause?: unknown; code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DbUnavailable";
    this.code = options.code;
  }
}

/**
 * SQLSTATEs after which the same transaction may well succeed later.
 * (PostgreSQL appendix A.) Class 08 is matched as a whole.
 */
const PG_TRANSIENT: Readonly<Record<string, string>> = {
  "40001": "serialization failure",
  "40P01": "deadlock detected",
  "55P03": "lock not available",
  "57P01": "admin shutdown (server stopping, or pg_terminate_backend)",
  "57P02": "crash shutdown",
  "57P03": "cannot connect now (server starting or stopping)",
  "57P05": "idle session timeout",
  "25P03": "idle-in-transaction session timeout",
  "53300": "too many connections",
};

/** Socket errors: the server is down, restarting, or the network dropped us. */
const ERRNO_TRANSIENT = new Set(["ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EAI_AGAIN"]);

/** node-postgres reports a dead connection with these messages and no code. */
const PG_CONNECTION_MESSAGES = [
  /^Connection terminated/,
  /Client has encountered a connection error and is not queryable/,
  /^timeout exceeded when trying to connect/,
  /^Client was closed and is not queryable/,
  /^Cannot use a pool after calling end on the pool/,
];

export type DbErrorDisposition = "DbUnavailable" | "UploadError" | "Unexpected";

/** The transient reason in words, or null if `err` is not a "try again later" error. */
export function transientReason(err: unknown): string | null {
  for (const e of causeChain(err)) {
    if (e instanceof DbUnavailable) return e.message;
    const code = typeof (e as { code?: unknown }).code === "string" ? (e as { code: string }).code : undefined;
    const message = e instanceof Error ? e.message : "";
    if (code !== undefined) {
      if (/^08[0-9A-Z]{3}$/.test(code) && code !== "08P01") return `connection exception (SQLSTATE ${code})`;
      const pg = PG_TRANSIENT[code];
      if (pg !== undefined) return `${pg} (SQLSTATE ${code})`;
      if (ERRNO_TRANSIENT.has(code)) return `${code}: ${message}`;
      // A Unix-socket connect to a stopped server: the socket file is gone.
      if (code === "ENOENT" && (e as { syscall?: unknown }).syscall === "connect") return `no server socket: ${message}`;
      // better-sqlite3: another connection holds the lock past busy_timeout.
      if (/^SQLITE_(BUSY|LOCKED)(_|$)/.test(code)) return `${code}: ${message}`;
    }
    if (PG_CONNECTION_MESSAGES.some((re) => re.test(message))) return message;
  }
  return null;
}

export function classifyDbError(err: unknown): DbErrorDisposition {
  if (err instanceof UploadError) return "UploadError";
  return transientReason(err) === null ? "Unexpected" : "DbUnavailable";
}

/** What a backend throws: transient driver errors become DbUnavailable, the rest pass through. */
export function asDbUnavailable(err: unknown): unknown {
  if (err instanceof DbUnavailable || err instanceof UploadError) return err;
  const reason = transientReason(err);
  if (reason === null) return err;
  const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : undefined;
  return new DbUnavailable(`results DB unavailable: ${reason}`, { cause: err, code });
}

/** err, its cause, its cause's cause ...; an AggregateError's members too (Node's multi-address connect). */
function* causeChain(err: unknown): Generator<unknown> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (e === null || e === undefined || seen.has(e)) continue;
    seen.add(e);
    yield e;
    if (typeof e === "object") {
      queue.push((e as { cause?: unknown }).cause);
      const inner = (e as { errors?: unknown }).errors;
      if (Array.isArray(inner)) queue.push(...inner);
    }
  }
}
