// THE state machines of getting data in (PALFA's requests, files and download_attempts,
// §1.1–1.3 of its Downloader), as tables in the style of states.ts: each move is one
// guarded UPDATE (transitions.ts builds it) naming the states it may start from.
//
// PALFA's bugs, fixed here:
// - a failed request was terminal and never retried: a request whose ask, poll or
//   listing failed goes `retrying` with a time for its next try (exponential backoff)
//   and is only `failed` after `downloader.request_retries` tries;
// - a request with a file in terminal_failure never reached `finished`, so its restore
//   was never deleted from the archive: a file that failed for good settles its request
//   like a downloaded one;
// - a download whose worker vanished (a coordinator restart) was checked by size only:
//   its attempt ends `unknown`, its file goes `unverified`, and the bytes on disk (the
//   partial file, or the finished one) are re-verified by size and SHA-256; a complete
//   file is kept, a partial one is resumed from where it ends, never fetched from zero.
import type { Transition } from "./states";

export const REQUEST_STATES = {
  requesting: { why: "written before the archive is asked for a restore (its guid is a local placeholder until it answers)" },
  waiting: { why: "the archive gave a restore id; polled until the restore is ready (PALFA: waiting)" },
  downloading: { why: "the restore is ready and its files are listed in `files`" },
  retrying: { why: "asking, polling or listing failed; tried again at next_try_at (backoff)" },
  finished: { why: "every file of the restore is downloaded or failed for good" },
  cleaned_up: { why: "the archive deleted the restore" },
  failed: { why: "the request failed as many times as allowed (request_retries), or the archive said it failed for good" },
} as const satisfies Record<string, { why: string }>;
export type RequestState = keyof typeof REQUEST_STATES;
/** Requests still holding (or about to hold) a restore on the archive. */
export const OPEN_REQUEST_STATES = ["requesting", "waiting", "downloading", "retrying"] as const satisfies readonly RequestState[];

/** Statuses a downloaded file goes through; `downloaded`, `added`, `deleted` are states.ts's FILE_STATES. */
export const DOWNLOAD_FILE_STATES = {
  new: { why: "listed by a ready restore; waits for a transfer slot and room in the space budget" },
  downloading: { why: "a transfer runs (its download_attempts row is `downloading`)" },
  unverified: { why: "its transfer's worker vanished (coordinator restart): the bytes on disk are re-verified" },
  retrying: { why: "a transfer failed; tried again (resumed) at next_try_at" },
  terminal_failure: { why: "failed `downloader.numretries` times; its partial file is removed; it settles its request all the same" },
} as const satisfies Record<string, { why: string }>;
export type DownloadFileState = keyof typeof DOWNLOAD_FILE_STATES;
/** Files restored but not yet on disk: what the cap on restored-but-not-downloaded files counts, and the budget reserves. */
export const PENDING_FILE_STATES = ["new", "downloading", "unverified", "retrying"] as const satisfies readonly DownloadFileState[];
/** File states that settle a request (nothing more will be fetched for it). */
export const SETTLED_FILE_STATES = ["downloaded", "added", "deleted", "terminal_failure"] as const;

export const DOWNLOAD_ATTEMPT_STATES = {
  downloading: { why: "the transfer runs" },
  downloaded: { why: "every byte arrived and its size and SHA-256 match the listing" },
  download_failed: { why: "the transfer failed (connection, server, disk); error_class says which" },
  verification_failed: { why: "the bytes arrived but their size or SHA-256 is not the listing's" },
  unknown: { why: "its worker vanished (the coordinator stopped); the file is re-verified" },
} as const satisfies Record<string, { why: string }>;
export type DownloadAttemptState = keyof typeof DOWNLOAD_ATTEMPT_STATES;

/**
 * Error classes of a failed request or transfer, shown by `beamflow requests` and
 * `beamflow downloads`. `counted: false` ones are not the file's fault and do not use
 * up its tries (the budget waits for space instead).
 */
export const DOWNLOAD_ERRORS = {
  unreachable: { counted: true, why: "the archive or file server could not be reached (refused, reset, DNS, TLS)" },
  bad_answer: { counted: true, why: "the archive answered something that is not the contract's (garbage, wrong shape, an HTTP error)" },
  archive_failed: { counted: true, why: "the archive said the restore failed" },
  timeout: { counted: true, why: "the restore was not ready within request_timeout_s, or a transfer stalled" },
  dropped: { counted: true, why: "the connection dropped mid-file (the next try resumes)" },
  size_mismatch: { counted: true, why: "the file's bytes do not add up to the size the listing gave" },
  checksum: { counted: true, why: "the file's SHA-256 is not the listing's: corrupt bytes (fetched again from zero)" },
  disk_full: { counted: false, why: "the download filesystem filled up; waits for the space budget" },
  rejected: { counted: true, why: "the file cannot be registered (its name: beam 7, a name tracked already)" },
} as const satisfies Record<string, { counted: boolean; why: string }>;
export type DownloadError = keyof typeof DOWNLOAD_ERRORS;

export const REQUEST_TRANSITIONS = {
  asked: {
    from: ["requesting", "retrying"],
    to: "waiting",
    owner: false,
    set: "guid = @guid, numrequested = @numrequested, error_class = '', details = '', next_try_at = NULL, waiting_since = @now",
    why: "the archive accepted the restore request and named it",
  },
  polledAgain: {
    from: ["retrying"],
    to: "waiting",
    owner: false,
    set: "error_class = '', next_try_at = NULL",
    when: "guid NOT LIKE 'local:%'",
    why: "a request whose poll failed is polled again (it keeps its restore)",
  },
  ready: {
    from: ["waiting"],
    to: "downloading",
    owner: false,
    set: "size = @size, error_class = '', details = @details",
    why: "the restore is ready; its files are listed and written as `new`",
  },
  retry: {
    from: ["requesting", "waiting", "retrying"],
    to: "retrying",
    owner: false,
    set: "attempts = attempts + 1, error_class = @error_class, details = @details, next_try_at = @next_try_at",
    when: "attempts + 1 < @max_tries",
    why: "asking, polling or listing failed and tries are left (backoff until next_try_at)",
  },
  failForGood: {
    from: ["requesting", "waiting", "retrying"],
    to: "failed",
    owner: false,
    set: "attempts = attempts + 1, error_class = @error_class, details = @details, next_try_at = NULL",
    why: "the request failed as many times as allowed, or the archive said it failed for good",
  },
  settle: {
    from: ["downloading"],
    to: "finished",
    owner: false,
    // A file that failed for good settles its request too (PALFA's never did, and the restore stayed on the archive).
    when: "NOT EXISTS (SELECT 1 FROM files f WHERE f.request_id = requests.id AND f.status NOT IN ('downloaded', 'added', 'deleted', 'terminal_failure'))",
    why: "every file of the restore is settled: downloaded or failed for good",
  },
  cleanUp: { from: ["finished", "failed"], to: "cleaned_up", owner: false, set: "cleanup_error = ''", why: "the archive deleted the restore" },
} as const satisfies Record<string, Transition<RequestState>>;

type AnyFileState = DownloadFileState | "downloaded";
export const DOWNLOAD_FILE_TRANSITIONS = {
  start: {
    from: ["new", "retrying"],
    to: "downloading",
    owner: false,
    set: "next_try_at = NULL",
    why: "a transfer slot and budget were free: a download attempt starts",
  },
  downloaded: {
    from: ["downloading", "unverified"],
    to: "downloaded",
    owner: false,
    set: "sha256 = @sha256, error_class = '', details = @details",
    why: "verified and in place",
  },
  retry: {
    from: ["downloading", "unverified"],
    to: "retrying",
    owner: false,
    set: "tries = tries + @counted, error_class = @error_class, details = @details, next_try_at = @next_try_at",
    when: "tries + @counted < @max_tries",
    why: "the transfer failed and tries are left (a disk_full is not counted)",
  },
  failForGood: {
    from: ["downloading", "unverified"],
    to: "terminal_failure",
    owner: false,
    set: "tries = tries + @counted, error_class = @error_class, details = @details, next_try_at = NULL",
    why: "the transfer failed as many times as allowed",
  },
  orphaned: { from: ["downloading"], to: "unverified", owner: false, why: "the coordinator restarted while the transfer ran: its bytes are re-verified" },
  resume: {
    from: ["unverified"],
    to: "retrying",
    owner: false,
    set: "details = @details, next_try_at = NULL",
    why: "re-verification found a partial file: the next attempt resumes from its end (not counted)",
  },
} as const satisfies Record<string, Transition<AnyFileState>>;

export const DOWNLOAD_ATTEMPT_TRANSITIONS = {
  succeed: { from: ["downloading", "unknown"], to: "downloaded", owner: false, set: "bytes = @bytes, finished_at = @now", why: "verified" },
  fail: {
    from: ["downloading"],
    to: "download_failed",
    owner: false,
    set: "bytes = @bytes, error_class = @error_class, details = @details, finished_at = @now",
    why: "the transfer failed",
  },
  failVerification: {
    from: ["downloading", "unknown"],
    to: "verification_failed",
    owner: false,
    set: "bytes = @bytes, error_class = @error_class, details = @details, finished_at = @now",
    why: "size or SHA-256 is not the listing's",
  },
  vanish: {
    from: ["downloading"],
    to: "unknown",
    owner: false,
    set: "details = 'its worker vanished (coordinator restart)', finished_at = @now",
    why: "the coordinator restarted during the transfer",
  },
} as const satisfies Record<string, Transition<DownloadAttemptState>>;

export type RequestTransition = keyof typeof REQUEST_TRANSITIONS;
export type DownloadFileTransition = keyof typeof DOWNLOAD_FILE_TRANSITIONS;
export type DownloadAttemptTransition = keyof typeof DOWNLOAD_ATTEMPT_TRANSITIONS;
