// The tracker's record of uploads to the results DB: one job_uploads row per try,
// and the job's moves out of `processed` (states.ts: upload, failUpload,
// failUploadForGood). Each public method is one short transaction.
import type Database from "better-sqlite3";
import type { JobOutcome, JobRow, UploadRow } from "./rows";
import type { JobState } from "./states";
import type { Transitions } from "./transitions";

export type { UploadRow } from "./rows";

const now = () => Date.now() / 1000;

export class UploadRecords {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly moves: Transitions,
  ) {
    this.s = {
      waiting: db.prepare("SELECT * FROM jobs WHERE status = 'processed' AND job_type = ? ORDER BY id"),
      insert: db.prepare(`INSERT INTO job_uploads (job_id, attempt_id, status, started_at) VALUES (?, ?, 'uploading', ?)`),
      finish: db.prepare(`UPDATE job_uploads SET status = @status, error_class = @error_class, details = @details, finished_at = @now,
                          results_upload_id = @results_upload_id WHERE id = @id AND status = 'uploading'`),
      ofJob: db.prepare("SELECT * FROM job_uploads WHERE job_id = ? ORDER BY id"),
      // A coordinator that died mid-upload left its row 'uploading'; the DB transaction it
      // was in rolled back, so the row only needs saying so.
      abandon: db.prepare(`UPDATE job_uploads SET status = 'db_unavailable', details = 'the coordinator stopped during the upload', finished_at = ?
                           WHERE status = 'uploading'`),
      setJobDetails: db.prepare("UPDATE jobs SET details = @details WHERE id = @id"),
      uploadFailures: db.prepare("SELECT upload_failures FROM jobs WHERE id = ?"),
    };
  }

  /** Processed jobs of a type that has results to upload, oldest first. */
  waiting(jobType: string): JobRow[] {
    return this.s.waiting.all(jobType) as JobRow[];
  }

  ofJob(jobId: number): UploadRow[] {
    return this.s.ofJob.all(jobId) as UploadRow[];
  }

  /** The results DB's upload id of the job's committed upload, if any. */
  resultsUploadOf(jobId: number): number | undefined {
    return (
      this.ofJob(jobId)
        .reverse()
        .find((u) => u.status === "uploaded")?.results_upload_id ?? undefined
    );
  }

  /** Marks uploads left 'uploading' by a previous run of the coordinator; returns how many. */
  abandonUnfinished(): number {
    return this.s.abandon.run(now()).changes;
  }

  begin(jobId: number, attemptId: number): number {
    return Number(this.s.insert.run(jobId, attemptId, now()).lastInsertRowid);
  }

  /** The results are committed in the results DB: the job is uploaded. */
  uploaded(uploadId: number, jobId: number, attemptId: number, resultsUploadId: number, details: string): JobOutcome {
    return this.db.transaction(() => {
      const jobType = this.moves.job("upload", jobId, attemptId);
      this.s.finish.run({ id: uploadId, status: "uploaded", error_class: "", details, now: now(), results_upload_id: resultsUploadId });
      this.s.setJobDetails.run({ id: jobId, details });
      return { job: jobId, status: "uploaded" as JobState, jobType, attempt: attemptId };
    })();
  }

  /** The results did not parse or read back equal: counted against the upload's own limit. */
  failed(uploadId: number, jobId: number, attemptId: number, errorClass: string, details: string, maxUploadAttempts: number): JobOutcome {
    return this.db.transaction(() => {
      const job = this.s.uploadFailures.get(jobId) as { upload_failures: number } | undefined;
      const last = (job?.upload_failures ?? 0) + 1 >= maxUploadAttempts;
      const jobType = this.moves.job(last ? "failUploadForGood" : "failUpload", jobId, attemptId, { max_upload_attempts: maxUploadAttempts });
      this.s.finish.run({ id: uploadId, status: "upload_failed", error_class: errorClass, details, now: now(), results_upload_id: null });
      this.s.setJobDetails.run({ id: jobId, details: `upload failed: ${errorClass}: ${details}` });
      return { job: jobId, status: (last ? "upload_failed" : "processed") as JobState, jobType, attempt: attemptId };
    })();
  }

  /** The results DB was down or busy: not the beam's fault, nothing counted, the job stays processed. */
  dbUnavailable(uploadId: number, details: string): void {
    this.s.finish.run({ id: uploadId, status: "db_unavailable", error_class: "db_unavailable", details, now: now(), results_upload_id: null });
  }
}
