// Read-only views of the tracker for `beamflow status`, `jobs`, the status page and
// the metrics (like ippToPsps's metrics table): one named query each, nothing moves.
import type Database from "better-sqlite3";
import { CANARY_JOB_TYPE } from "../../shared/protocol/job-types";
import { JOB_LIST_SQL, type JobListRow, type JobPage, JobPages, type JobPageQuery } from "./job-pages";
import { LIVE_ATTEMPT_SQL } from "./states";

export interface StatusCount {
  status: string;
  count: number;
}
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

export class TrackerReports {
  private readonly s;
  private readonly pages: JobPages;

  constructor(db: Database.Database) {
    this.pages = new JobPages(db);
    this.s = {
      // Kept by triggers (migration 10): a few rows, however many jobs there are.
      statusCounts: db.prepare("SELECT status, n AS count FROM status_counts WHERE tbl = ? AND n > 0 ORDER BY status"),
      // Without statistics SQLite would walk every processed attempt through the status index.
      processedSince: db.prepare("SELECT COUNT(*) AS n FROM job_submits INDEXED BY job_submits_processed WHERE status = 'processed' AND finished_at >= ?"),
      // The few canary jobs first (their partial index: hence the literal), then their attempts.
      canaryProcessedSince: db.prepare(`SELECT COUNT(*) AS n FROM jobs j CROSS JOIN job_submits s ON s.job_id = j.id
                                        WHERE j.job_type = '${CANARY_JOB_TYPE}' AND s.status = 'processed' AND s.finished_at >= ?`),
      job: db.prepare(`${JOB_LIST_SQL} WHERE j.id = ?`),
      failedJobs: db.prepare(`SELECT j.id, j.beam, j.status, j.failures, j.details, j.updated_at,
                                     (SELECT MAX(a.id) FROM job_submits a WHERE a.job_id = j.id) AS last_attempt
                              FROM jobs j INDEXED BY jobs_failed
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
    return this.s.statusCounts.all("jobs") as StatusCount[];
  }
  attemptStatusCounts(): StatusCount[] {
    return this.s.statusCounts.all("job_submits") as StatusCount[];
  }

  /**
   * Beams whose processing succeeded since `since` (unix seconds); canary runs are not survey
   * beams. Since the start of time, from the kept counts; else a range of the processed
   * attempts' index (a day of a survey: tens of thousands of entries, a few ms).
   */
  finishedBeams(since: number): number {
    const count = (st: Database.Statement) => (st.get(since) as { n: number }).n;
    const processed = since > 0 ? count(this.s.processedSince) : (this.attemptStatusCounts().find((c) => c.status === "processed")?.count ?? 0);
    return processed - count(this.s.canaryProcessedSince);
  }

  /** One page of `beamflow jobs` (job-pages.ts). */
  jobPage(q: JobPageQuery): Promise<JobPage> {
    return this.pages.page(q);
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
