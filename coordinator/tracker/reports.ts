// Read-only views of the tracker for `beamflow status`, `jobs`, the status page and
// the metrics (like ippToPsps's metrics table): one named query each, nothing moves.
import type Database from "better-sqlite3";
import { CANARY_JOB_TYPE } from "../../shared/protocol/job-types";
import type { JobRow } from "./rows";
import { LIVE_ATTEMPT_SQL } from "./states";

export interface StatusCount {
  status: string;
  count: number;
}
/** A job with how many attempts it had and the agent of its current one (`beamflow jobs`). */
export type JobListRow = JobRow & { attempt_count: number; agent_id: string | null };
/** A job that failed for good, or failed and waits to be tried again, with its newest attempt's id. */
export interface FailedJobRow {
  id: number;
  beam: string;
  status: string;
  failures: number;
  details: string;
  updated_at: number;
  last_attempt: number | null;
}
/** A submitted job and its live attempt (`started_at` is the assignment's time until the agent accepts). */
export interface RunningJobRow {
  id: number;
  beam: string;
  attempt_id: number;
  attempt_status: string;
  agent_id: string;
  started_at: number;
}

const JOB_LIST_SQL = `SELECT j.*, (SELECT COUNT(*) FROM job_submits x WHERE x.job_id = j.id) AS attempt_count, a.agent_id
                      FROM jobs j LEFT JOIN job_submits a ON a.id = j.current_attempt_id`;

export class TrackerReports {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      jobCounts: db.prepare("SELECT status, COUNT(*) AS count FROM jobs GROUP BY status ORDER BY status"),
      attemptCounts: db.prepare("SELECT status, COUNT(*) AS count FROM job_submits GROUP BY status ORDER BY status"),
      finishedBeams: db.prepare(`SELECT COUNT(*) AS n FROM job_submits s JOIN jobs j ON j.id = s.job_id
                                 WHERE s.status = 'processed' AND s.finished_at >= ? AND j.job_type != ?`),
      jobs: db.prepare(`${JOB_LIST_SQL} ORDER BY j.id`),
      jobsLimited: db.prepare(`${JOB_LIST_SQL} ORDER BY j.id LIMIT @limit`),
      jobsIn: db.prepare(`${JOB_LIST_SQL} WHERE j.status = @status ORDER BY j.id`),
      jobsInLimited: db.prepare(`${JOB_LIST_SQL} WHERE j.status = @status ORDER BY j.id LIMIT @limit`),
      job: db.prepare(`${JOB_LIST_SQL} WHERE j.id = ?`),
      failedJobs: db.prepare(`SELECT j.id, j.beam, j.status, j.failures, j.details, j.updated_at,
                                     (SELECT MAX(a.id) FROM job_submits a WHERE a.job_id = j.id) AS last_attempt
                              FROM jobs j
                              WHERE j.status = 'terminal_failure' OR (j.status = 'retrying' AND j.failures > 0)
                              ORDER BY j.updated_at DESC, j.id DESC LIMIT ?`),
      runningJobs: db.prepare(`SELECT j.id, j.beam, a.id AS attempt_id, a.status AS attempt_status, a.agent_id,
                                      COALESCE(a.started_at, a.created_at) AS started_at
                               FROM jobs j JOIN job_submits a ON a.id = j.current_attempt_id
                               WHERE j.status = 'submitted' AND a.status IN ${LIVE_ATTEMPT_SQL}
                               ORDER BY j.id LIMIT ?`),
    };
  }

  jobStatusCounts(): StatusCount[] {
    return this.s.jobCounts.all() as StatusCount[];
  }
  attemptStatusCounts(): StatusCount[] {
    return this.s.attemptCounts.all() as StatusCount[];
  }

  /** Beams whose processing succeeded since `since` (unix seconds); canary runs are not survey beams. */
  finishedBeams(since: number): number {
    return (this.s.finishedBeams.get(since, CANARY_JOB_TYPE) as { n: number }).n;
  }

  /** Jobs in id order, of one state if `status` is given, at most `limit` if it is not 0. */
  jobList(status: string, limit: number): JobListRow[] {
    if (status) return (limit ? this.s.jobsInLimited.all({ status, limit }) : this.s.jobsIn.all({ status })) as JobListRow[];
    return (limit ? this.s.jobsLimited.all({ limit }) : this.s.jobs.all()) as JobListRow[];
  }

  jobListRow(id: number): JobListRow | undefined {
    return this.s.job.get(id) as JobListRow | undefined;
  }

  /** The newest failures first. */
  failedJobs(limit: number): FailedJobRow[] {
    return this.s.failedJobs.all(limit) as FailedJobRow[];
  }

  runningJobs(limit: number): RunningJobRow[] {
    return this.s.runningJobs.all(limit) as RunningJobRow[];
  }
}
