// How long beams took: processed attempts' durations (from the agent's accept to the
// result's arrival) with their job's type and raw data size, for the dispatcher's
// walltime fit (coordinator/dispatcher/expected-duration.ts). Read-only.
import type Database from "better-sqlite3";

export interface DurationSample {
  jobType: string;
  /** the job's raw files, in bytes (0 for a job without files) */
  rawBytes: number;
  seconds: number;
}

const RAW_BYTES_SQL = "(SELECT COALESCE(SUM(f.size), 0) FROM job_files jf JOIN files f ON f.id = jf.file_id WHERE jf.job_id = j.id)";

export class DurationRecords {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      // Newest first by id (the primary key, walked backwards, stopping at the limit): NOT INDEXED,
      // or SQLite takes the status index and sorts every processed attempt (0.75 s at a million).
      recent: db.prepare(`SELECT j.job_type AS jobType, ${RAW_BYTES_SQL} AS rawBytes, a.finished_at - a.started_at AS seconds
                          FROM job_submits a NOT INDEXED JOIN jobs j ON j.id = a.job_id
                          WHERE a.status = 'processed' AND a.started_at IS NOT NULL AND a.finished_at IS NOT NULL
                          ORDER BY a.id DESC LIMIT ?`),
      ofAttempt: db.prepare(`SELECT j.job_type AS jobType, ${RAW_BYTES_SQL} AS rawBytes, a.finished_at - a.started_at AS seconds
                             FROM job_submits a JOIN jobs j ON j.id = a.job_id
                             WHERE a.id = ? AND a.status = 'processed' AND a.started_at IS NOT NULL AND a.finished_at IS NOT NULL`),
      rawBytes: db.prepare("SELECT COALESCE(SUM(f.size), 0) AS n FROM job_files jf JOIN files f ON f.id = jf.file_id WHERE jf.job_id = ?"),
    };
  }

  /** The newest processed attempts' samples, oldest first (at most `limit`). */
  recent(limit: number): DurationSample[] {
    return (this.s.recent.all(limit) as DurationSample[]).reverse();
  }

  /** A processed attempt's sample; undefined for any other attempt. */
  ofAttempt(attemptId: number): DurationSample | undefined {
    return this.s.ofAttempt.get(attemptId) as DurationSample | undefined;
  }

  /** The size of a job's raw files, in bytes. */
  rawBytesOfJob(jobId: number): number {
    return (this.s.rawBytes.get(jobId) as { n: number }).n;
  }
}
