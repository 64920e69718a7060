// Builds notices from the tracker's rows, for the coordinator's wiring:
//
//   core.on("jobChanged", (o) => { const e = noticeForJobChange(core.tracker, o, {...}); if (e) void notifier.notify(e); });
//
// jobChanged only says {job, status}; which trigger it was is read back from the
// job and its current attempt (see noticeForJobChange). Read-only.
import type { AttemptRow, JobOutcome, Tracker } from "../tracker/tracker";
import { COUNTED_ATTEMPT_STATES } from "../tracker/states";
import { CANARY_JOB_TYPE } from "../../shared/protocol/job-types";
import type { AgentLost, AttemptSummary, NotifyEvent } from "./events";

export interface JobChangeOptions {
  /** jobs.max_attempts, as the core counts with it (core.settings.maxAttempts) */
  maxAttempts: number;
  /**
   * Whether the beam's raw data was deleted. Nothing in beamflow deletes raw data
   * yet; until something does, leave this out: the files' rows decide (all of the
   * job's files in status 'deleted' ⇒ true; no files ⇒ false).
   */
  rawDataDeleted?: boolean;
}

function summary(a: AttemptRow): AttemptSummary {
  return { id: a.id, agent: a.agent_id, status: a.status, errorClass: a.error_class, details: a.details };
}

/**
 * The notice for one jobChanged outcome, or undefined when it needs none:
 *  - retrying after a counted attempt (processing_failed, stopped --fail) ⇒ job_failed_will_retry;
 *    retrying after an uncounted end (lost, withdrawn, polite stop) ⇒ none;
 *  - terminal_failure with a counted current attempt and failures ≥ maxAttempts ⇒ job_failed_for_good;
 *  - any other terminal_failure ⇒ precheck_failed (the dispatcher's precheck is the only other
 *    path that moves a job to terminal_failure as news of the beam); a kill (details "killed by an operator") ⇒ none;
 *  - processed, uploaded, … ⇒ none.
 */
export function noticeForJobChange(tracker: Tracker, outcome: JobOutcome, opts: JobChangeOptions): NotifyEvent | undefined {
  if (outcome.status === "upload_failed") return uploadFailedNotice(tracker, outcome.job);
  if (outcome.status !== "retrying" && outcome.status !== "terminal_failure") return undefined;
  const job = tracker.job(outcome.job);
  // A canary run's failure is told by the drain of its agent (agent_drained), not as a beam's.
  if (!job || job.job_type === CANARY_JOB_TYPE) return undefined;
  const attempts = tracker.attemptsOfJob(job.id);
  const current = job.current_attempt_id == null ? undefined : attempts.find((a) => a.id === job.current_attempt_id);
  const counted = current !== undefined && COUNTED_ATTEMPT_STATES.includes(current.status);

  if (outcome.status === "retrying") {
    if (!counted) return undefined;
    return {
      kind: "job_failed_will_retry",
      job: job.id,
      beam: job.beam,
      attempt: current.id,
      attemptsUsed: job.failures,
      maxAttempts: opts.maxAttempts,
      errorClass: current.error_class,
      error: current.details,
    };
  }
  if (counted && job.failures >= opts.maxAttempts) {
    const files = tracker.filesOfJob(job.id);
    return {
      kind: "job_failed_for_good",
      job: job.id,
      beam: job.beam,
      attempts: attempts.map(summary),
      lastError: current.error_class ? `${current.error_class}: ${current.details}` : current.details,
      rawDataDeleted: opts.rawDataDeleted ?? (files.length > 0 && files.every((f) => f.status === "deleted")),
    };
  }
  if (job.details === "killed by an operator") return undefined;
  return { kind: "precheck_failed", job: job.id, beam: job.beam, reason: job.details };
}

/** The notice for an agent whose lease(s) expired: the attempts it lost with it. */
export function agentLostNotice(tracker: Tracker, agentId: string, lost: Pick<AttemptRow, "id" | "job_id">[]): AgentLost {
  const agent = tracker.agent(agentId);
  return {
    kind: "agent_lost",
    agent: agentId,
    hostname: agent?.hostname ?? "",
    lastSeenAt: agent?.last_seen_at ?? null,
    attempts: lost.map((a) => ({ id: a.id, job: a.job_id, beam: tracker.job(a.job_id)?.beam ?? "" })),
  };
}

function uploadFailedNotice(tracker: Tracker, jobId: number): NotifyEvent | undefined {
  const job = tracker.job(jobId);
  if (!job || job.current_attempt_id == null) return undefined;
  const last = tracker.uploads
    .ofJob(jobId)
    .filter((u) => u.status === "upload_failed")
    .pop();
  return {
    kind: "upload_failed",
    job: job.id,
    beam: job.beam,
    attempt: job.current_attempt_id,
    uploadsTried: job.upload_failures,
    lastError: last ? `${last.error_class}: ${last.details}` : job.details,
    resultsDir: tracker.attempt(job.current_attempt_id)?.output_dir ?? "",
  };
}
