// The shapes of the tracker's rows, as better-sqlite3 returns them (column names
// as in migrations.ts). Kept apart from the classes that read and write them, so
// every record module can name them without importing another.
import type { AttemptState, CanaryState, FileState, JobState, UploadState } from "./states";

/** What a job reserves on its agent while an attempt of it is live. */
export interface Reservation {
  cores: number;
  memory: number;
  shm: number;
}

export interface JobRow {
  id: number;
  beam: string;
  job_type: string;
  spec_json: string;
  cores: number;
  memory: number;
  shm: number;
  status: JobState;
  failures: number;
  upload_failures: number;
  current_attempt_id: number | null;
  details: string;
  /** a retrying job is not dispatched before this (unix seconds; jobs.retry_backoff_s) */
  not_before: number;
  created_at: number;
  updated_at: number;
}
export interface AttemptRow {
  id: number;
  job_id: number;
  agent_id: string;
  status: AttemptState;
  error_class: string;
  details: string;
  cores: number;
  memory: number;
  shm: number;
  lease_expires_at: number;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
  output_dir: string;
}
/** Who stopped an agent's beams: an operator (`beamflow drain`) or the coordinator itself (failure streak, failed canary). */
export type DrainedBy = "operator" | "auto";
export interface AgentRow {
  id: string;
  token_hash: string;
  hostname: string;
  version: string;
  labels_json: string;
  drained: number;
  resources_json: string;
  registered_at: number;
  last_seen_at: number | null;
  drain_reason: string;
  drained_by: "" | DrainedBy;
  drained_at: number | null;
  capabilities_json: string;
  streak_since: number;
  /** 1: enrolled with an ephemeral token (a pilot); removed when it leaves or has been gone long enough */
  ephemeral: number;
  /** the enrolment token it enrolled with; null: registered with register-agent */
  enrolled_by: number | null;
  /** when an operator revoked its credential; null: not revoked */
  revoked_at: number | null;
  /** when it was removed (the row stays only while attempts or canary runs name it); null: not removed */
  removed_at: number | null;
}
/** An enrolment token as stored: never the secret, only its hash. */
export interface EnrolTokenRow {
  id: number;
  token_hash: string;
  label: string;
  ephemeral: number;
  uses: number;
  uses_left: number;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}
export interface FileRow {
  id: number;
  request_id: number | null;
  filename: string;
  size: number;
  sha256: string | null;
  status: FileState;
  details: string;
  created_at: number;
  updated_at: number;
}
export interface StepRow {
  attempt_id: number;
  idx: number;
  name: string;
  argv_json: string;
  started_at: number;
  wall_s: number | null;
  cpu_s: number | null;
  exit_code: number | null;
  signal: string;
  error: string;
}
export interface DiagnosticRow {
  attempt_id: number;
  name: string;
  value: number | null;
  text: string;
}
export interface UploadRow {
  id: number;
  job_id: number;
  attempt_id: number;
  status: UploadState;
  error_class: string;
  details: string;
  started_at: number;
  finished_at: number | null;
  results_upload_id: number | null;
}
export type CanaryTrigger = "operator" | "schedule" | "toolchain";
export interface CanaryRunRow {
  id: number;
  agent_id: string;
  job_id: number | null;
  trigger: CanaryTrigger;
  period_s: number;
  dm: number;
  snr: number;
  status: CanaryState;
  summary: string;
  started_at: number;
  finished_at: number | null;
}

/**
 * What happened to the job when it moved: its new state, its type (listeners for one type
 * need no read), and the attempt whose end or upload moved it (null for an operator's move
 * of a waiting job).
 */
export type JobOutcome = { job: number; status: JobState; jobType: string; attempt: number | null };
