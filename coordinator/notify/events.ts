// What the coordinator tells people about: one discriminated union, one member
// per trigger. Plain data (ids, names, strings, numbers), so a notice can be
// built, logged and sent as JSON without touching the tracker again.
import type { SwitchKey } from "../../shared/config/notify-schema";

/** One try of a job, as listed in a failed-for-good notice. */
export interface AttemptSummary {
  id: number;
  agent: string;
  /** the attempt's final state: processing_failed, stopped, lost, withdrawn, … */
  status: string;
  errorClass: string;
  details: string;
}

/** A counted attempt failed and the job has attempts left (PALFA: "will be re-submitted"). */
export interface JobFailedWillRetry {
  kind: "job_failed_will_retry";
  job: number;
  beam: string;
  /** the attempt that failed */
  attempt: number;
  /** counted failures so far, this one included */
  attemptsUsed: number;
  maxAttempts: number;
  errorClass: string;
  error: string;
}

/** The job's last allowed attempt failed: it is in terminal_failure until an operator retries it. */
export interface JobFailedForGood {
  kind: "job_failed_for_good";
  job: number;
  beam: string;
  /** every attempt of the job, oldest first (uncounted ones too: lost, withdrawn, …) */
  attempts: AttemptSummary[];
  lastError: string;
  /** whether the beam's raw data files were deleted (PALFA said whether they "will be deleted") */
  rawDataDeleted: boolean;
}

/** The beam cannot be searched as it stands (PALFA's presubmission check); failed for good. */
export interface PrecheckFailed {
  kind: "precheck_failed";
  job: number;
  beam: string;
  reason: string;
}

/** A beam's results failed to upload as often as allowed: upload_failed, the search itself is kept. */
export interface UploadFailedForGood {
  kind: "upload_failed";
  job: number;
  beam: string;
  attempt: number;
  uploadsTried: number;
  lastError: string;
  resultsDir: string;
}

/** An agent stopped renewing its leases; the attempts it held were lost and requeued. */
export interface AgentLost {
  kind: "agent_lost";
  agent: string;
  hostname: string;
  /** unix seconds; null if the agent was never seen */
  lastSeenAt: number | null;
  /** the attempts lost with it (requeued, not counted) */
  attempts: { id: number; job: number; beam: string }[];
}

/**
 * The coordinator drained an agent on its own (its failed attempts in a row spanned
 * dispatch.drain_after_failures beams, or another check such as a canary failed): it gets
 * no new jobs until an operator undrains it.
 */
export interface AgentDrained {
  kind: "agent_drained";
  agent: string;
  hostname: string;
  /** who decided: "auto" for the coordinator's own checks */
  by: string;
  reason: string;
  /** the failed attempts that drained it, oldest first (empty when the reason is not a failure streak) */
  failures: { attempt: number; job: number; beam: string; errorClass: string; details: string }[];
}

/** A coordinator component died on an unexpected error (PALFA send_on_crash, with traceback). */
export interface ComponentCrashed {
  kind: "component_crashed";
  component: string;
  error: string;
  stack: string;
}

export type NotifyEvent = JobFailedWillRetry | JobFailedForGood | PrecheckFailed | UploadFailedForGood | AgentLost | AgentDrained | ComponentCrashed;
export type NotifyEventKind = NotifyEvent["kind"];

/** The config switch that lets each kind of notice through on a channel. */
export const SWITCH_OF: Record<NotifyEventKind, SwitchKey> = {
  job_failed_will_retry: "on_failure_retry",
  job_failed_for_good: "on_terminal_failure",
  precheck_failed: "on_precheck_failure",
  upload_failed: "on_upload_failure",
  agent_lost: "on_agent_lost",
  agent_drained: "on_agent_drained",
  component_crashed: "on_crash",
};

/** Fields worth binding to a log line about this event (ids, not texts). */
export function logFieldsOf(e: NotifyEvent): Record<string, unknown> {
  switch (e.kind) {
    case "job_failed_will_retry":
    case "upload_failed":
      return { notice: e.kind, job: e.job, beam: e.beam, attempt: e.attempt };
    case "job_failed_for_good":
    case "precheck_failed":
      return { notice: e.kind, job: e.job, beam: e.beam };
    case "agent_lost":
    case "agent_drained":
      return { notice: e.kind, agent: e.agent };
    case "component_crashed":
      return { notice: e.kind, crashed: e.component };
  }
}
