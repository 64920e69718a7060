// THE state machine of jobs and attempts, in one table each.
//
// A job is one beam; an attempt (PALFA's job_submits row) is one try of it by
// one agent. Every change of state is one guarded UPDATE built from a row of
// these tables (see transitions.ts): it names the states it may start from and,
// where an attempt is involved, the attempt that must own the job. If the row
// is not in that state or that attempt no longer owns it, nothing changes and an
// IllegalTransition is thrown, so a stale agent cannot complete a job it lost.
//
// Status names follow PALFA where the meaning is the same.

export const JOB_STATES = ["new", "submitted", "processed", "uploaded", "upload_failed", "retrying", "terminal_failure"] as const;
export type JobState = (typeof JOB_STATES)[number];
/** Job states in which a job waits for an agent (retries are dispatched first). */
export const WAITING_JOB_STATES = ["retrying", "new"] as const satisfies readonly JobState[];

export const ATTEMPT_STATES = [
  "assigned", // written before Assign is sent; lease = the accept deadline
  "running", // the agent accepted; its heartbeats renew the lease
  "processed", // the payload succeeded
  "processing_failed", // the payload failed (counts toward max_attempts)
  "node_failed", // the node could not run it: its toolchain, work dir or /dev/shm (not counted)
  "lost", // the lease expired, or the agent came back without it (not counted)
  "withdrawn", // not accepted in time, or refused by the agent (not counted)
  "cancelled", // polite stop by an operator (not counted)
  "stopped", // forced stop by an operator, `stop --fail` (counted)
] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];

/** Attempt states in which the attempt holds its job and its agent's reservation (its lease runs). */
export const LIVE_ATTEMPT_STATES = ["assigned", "running"] as const satisfies readonly AttemptState[];
export type LiveAttemptState = (typeof LIVE_ATTEMPT_STATES)[number];
export const isLiveAttempt = (status: string): status is LiveAttemptState => (LIVE_ATTEMPT_STATES as readonly string[]).includes(status);
/** Attempt states that count toward max_attempts. */
export const COUNTED_ATTEMPT_STATES: readonly AttemptState[] = ["processing_failed", "stopped"];
/**
 * Attempt states that count toward the agent's failure streak (dispatch.drain_after_failures):
 * whoever's fault it was, the node failed it; a processed attempt ends the streak.
 */
export const STREAK_ATTEMPT_STATES: readonly AttemptState[] = ["processing_failed", "node_failed"];

/** Statuses of a raw data file (PALFA's `files` table; this coordinator sets only these). */
export const FILE_STATES = {
  downloaded: { why: "on disk and registered (add-files, or a canary run's beam)" },
  added: { why: "PALFA's never-set `added`: treated as downloaded" },
  deleted: { why: "removed from disk by delete_rawdata (the job was uploaded or failed for good)" },
} as const satisfies Record<string, { why: string }>;
export type FileState = keyof typeof FILE_STATES;
/** File statuses whose files are ready for a job. */
export const READY_FILE_STATES = ["downloaded", "added"] as const satisfies readonly FileState[];

/** Statuses of one try to upload a job's results (a `job_uploads` row; uploads.ts). */
export const UPLOAD_STATES = {
  uploading: { why: "the upload is in progress (left so by a coordinator that stopped: abandoned on start)" },
  uploaded: { why: "the results are committed in the results DB" },
  upload_failed: { why: "the results did not parse or read back equal (counted)" },
  db_unavailable: { why: "the results DB was down or busy (not counted)" },
} as const satisfies Record<string, { why: string }>;
export type UploadState = keyof typeof UPLOAD_STATES;

/** Statuses of a canary run (a `canary_runs` row; canaries.ts). */
export const CANARY_STATES = {
  running: { why: "its job waits or runs" },
  passed: { why: "its search found the injected pulsar" },
  failed: { why: "its search failed, or did not find the pulsar" },
} as const satisfies Record<string, { why: string }>;
export type CanaryState = keyof typeof CANARY_STATES;

/** A list of states as the inside of a SQL `IN (...)`: fixed names from these tables, never input. */
export const sqlStates = (states: readonly string[]): string => states.map((s) => `'${s}'`).join(", ");
/** `status IN (<live attempt states>)`, for queries over job_submits. */
export const LIVE_ATTEMPT_SQL = `(${sqlStates(LIVE_ATTEMPT_STATES)})`;

/**
 * Error classes (AttemptResult.error_class) that are the node's fault, not the beam's: the
 * attempt ends node_failed and the job waits for another node, nothing counted. Another
 * node could run the beam, so counting it would fail good beams for good on a bad node.
 */
export const NODE_FAULTS = {
  missing_program: { why: "a program of the search is not installed where the agent looks for it" },
  toolchain: { why: "a program of the search is there but cannot be run (e.g. a broken wrapper, not PRESTO's)" },
  workdir: { why: "the agent cannot create or write its work dir or results dir" },
  shm_occupied: { why: "the work filesystem filled up while the attempt used less than it reserved: leftovers or other tenants of the node took the space" },
  staging: { why: "the raw files could not be fetched: the transfer from the coordinator broke (network, a coordinator restart), not the beam" },
} as const satisfies Record<string, { why: string }>;
export type NodeFault = keyof typeof NODE_FAULTS;
/**
 * Error classes that are the beam's own and that no retry can mend: the job fails for good at
 * the first such failure (failAtOnce), with the reason, instead of burning its other attempts.
 * add-files refuses what it can see of them already (coordinator/ingest/validate.ts).
 */
export const TERMINAL_FAULTS = {
  bad_input: { why: "the raw data cannot be searched: not FITS, not PSRFITS search mode, truncated, a header it needs is wrong" },
  too_short: { why: "the observation is shorter than low_T_to_search" },
  bad_params: { why: "the beam's search parameters or its zaplist are unusable" },
  checksum: { why: "the raw file on the coordinator is not what was registered (its size or SHA-256 changed since add-files)" },
} as const satisfies Record<string, { why: string }>;
export const isTerminalFault = (errorClass: string): boolean => Object.hasOwn(TERMINAL_FAULTS, errorClass);
/**
 * A beam that failed through "the node's fault" on this many other nodes is more likely the
 * cause itself: from then on such failures count, so it cannot bounce between nodes forever.
 */
export const NODE_FAULT_OTHER_NODES_LIMIT = 3;
export const isNodeFault = (errorClass: string): errorClass is NodeFault => Object.hasOwn(NODE_FAULTS, errorClass);

export interface Transition<S extends string> {
  from: readonly S[];
  to: S;
  /** The job must be owned by the attempt named in the call (its current attempt). */
  owner: boolean;
  /** Extra assignments, SQL over named parameters; fixed here, never built from input. */
  set?: string;
  /** Extra guard, SQL over named parameters. */
  when?: string;
  why: string;
}

export const JOB_TRANSITIONS = {
  // The previous attempt's error stays on that attempt; the job's details describe the attempt now running.
  assign: {
    from: ["new", "retrying"],
    to: "submitted",
    owner: false,
    set: "current_attempt_id = @attempt, details = ''",
    why: "the dispatcher gave the beam to an agent",
  },
  succeed: { from: ["submitted"], to: "processed", owner: true, set: "details = ''", why: "the current attempt succeeded" },
  requeue: { from: ["submitted"], to: "retrying", owner: true, why: "the current attempt ended without counting: lost, withdrawn or politely stopped" },
  requeueAfterNodeFault: {
    from: ["submitted"],
    to: "retrying",
    owner: true,
    why: "the current attempt failed through its node's fault (NODE_FAULTS): the beam waits for another node, nothing counted",
  },
  failAndRetry: {
    from: ["submitted"],
    to: "retrying",
    owner: true,
    set: "failures = failures + 1, not_before = @not_before",
    when: "failures + 1 < @max_attempts",
    why: "the current attempt failed and attempts are left: it waits out its backoff (not_before) first",
  },
  // Retrying cannot mend the beam itself (TERMINAL_FAULTS): no second attempt is burnt on it.
  failAtOnce: {
    from: ["submitted"],
    to: "terminal_failure",
    owner: true,
    set: "failures = failures + 1",
    why: "the current attempt failed through a fault of the beam itself (bad input, too short): trying again cannot help",
  },
  failForGood: {
    from: ["submitted"],
    to: "terminal_failure",
    owner: true,
    set: "failures = failures + 1",
    when: "failures + 1 >= @max_attempts",
    why: "the current attempt failed and it was the last one allowed",
  },
  kill: { from: ["new", "retrying"], to: "terminal_failure", owner: false, why: "an operator killed a waiting job (PALFA kill_jobs)" },
  failPrecheck: {
    from: ["new", "retrying"],
    to: "terminal_failure",
    owner: false,
    why: "the beam cannot be searched as it stands, e.g. no zaplist (PALFA's presubmission check)",
  },
  // A canary run judges its node by one attempt: it is never tried again, on that node or another.
  endCanary: { from: ["new", "retrying"], to: "terminal_failure", owner: false, why: "a canary run ended without its search succeeding (or never started)" },
  retry: {
    from: ["terminal_failure"],
    to: "retrying",
    owner: false,
    set: "failures = 0, not_before = 0",
    why: "an operator asked for a new round of attempts",
  },
  // `beamflow fsck --repair`: a submitted job whose current attempt is not live (ended, or never written) waits again.
  repairRequeue: {
    from: ["submitted"],
    to: "retrying",
    owner: false,
    when: `NOT EXISTS (SELECT 1 FROM job_submits a WHERE a.id = jobs.current_attempt_id AND a.status IN ${LIVE_ATTEMPT_SQL})`,
    why: "fsck found the job submitted without a live attempt: it waits for an agent again, nothing counted",
  },
  // The upload has its own counter: a bad upload never sends the beam back to be searched again
  // (PALFA counted it as an attempt and re-processed the beam).
  upload: { from: ["processed"], to: "uploaded", owner: true, why: "the current attempt's results were committed to the results DB" },
  failUpload: {
    from: ["processed"],
    to: "processed",
    owner: true,
    set: "upload_failures = upload_failures + 1",
    when: "upload_failures + 1 < @max_upload_attempts",
    why: "the results did not parse or read back equal; the upload will be tried again",
  },
  failUploadForGood: {
    from: ["processed"],
    to: "upload_failed",
    owner: true,
    set: "upload_failures = upload_failures + 1",
    when: "upload_failures + 1 >= @max_upload_attempts",
    why: "the results failed to upload as many times as allowed",
  },
  retryUpload: { from: ["upload_failed"], to: "processed", owner: false, set: "upload_failures = 0", why: "an operator asked for a new round of uploads" },
} as const satisfies Record<string, Transition<JobState>>;

/** An attempt whose result came before its accept started when it was assigned. */
const STARTED_IF_UNSET = "started_at = COALESCE(started_at, created_at)";

export const ATTEMPT_TRANSITIONS = {
  accept: {
    from: ["assigned"],
    to: "running",
    owner: true,
    set: "started_at = @now, lease_expires_at = @lease_expires_at",
    why: "the agent accepted the assignment",
  },
  withdraw: { from: ["assigned"], to: "withdrawn", owner: false, set: "finished_at = @now", why: "the agent did not accept in time, or refused" },
  // From assigned: the agent held its accept back and the result came first (Welcome's
  // accept_with_result); the attempt then counts as started when it was assigned.
  succeed: {
    from: ["assigned", "running"],
    to: "processed",
    owner: true,
    set: `finished_at = @now, ${STARTED_IF_UNSET}`,
    why: "the agent reported success",
  },
  fail: {
    from: ["assigned", "running"],
    to: "processing_failed",
    owner: true,
    set: `finished_at = @now, ${STARTED_IF_UNSET}`,
    why: "the agent reported a payload failure",
  },
  failOnNode: {
    from: ["assigned", "running"],
    to: "node_failed",
    owner: true,
    set: `finished_at = @now, ${STARTED_IF_UNSET}`,
    why: "the agent reported a failure whose class is the node's fault (NODE_FAULTS)",
  },
  lose: {
    from: ["assigned", "running"],
    to: "lost",
    owner: false,
    set: "finished_at = @now",
    why: "the lease expired, or the agent came back without the attempt",
  },
  cancel: { from: ["assigned", "running"], to: "cancelled", owner: false, set: "finished_at = @now", why: "an operator stopped the job politely" },
  stop: {
    from: ["assigned", "running"],
    to: "stopped",
    owner: false,
    set: "finished_at = @now",
    why: "an operator stopped the job and counted it as a failure",
  },
} as const satisfies Record<string, Transition<AttemptState>>;

export type JobTransition = keyof typeof JOB_TRANSITIONS;
export type AttemptTransition = keyof typeof ATTEMPT_TRANSITIONS;
