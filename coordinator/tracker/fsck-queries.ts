// The named queries of `beamflow fsck`: the tracker's invariants read as lists of the rows
// that break them, and the few repairs fsck may make, each a guarded move of states.ts.
import type Database from "better-sqlite3";
import type { Transitions } from "./transitions";
import { LIVE_ATTEMPT_SQL, READY_FILE_STATES, sqlStates } from "./states";

/** A job with more than one live attempt. */
export interface ManyLiveRow {
  job_id: number;
  current_attempt_id: number | null;
  attempt_ids: string;
}
/** A live attempt that does not own a submitted job. */
export interface StrayLiveRow {
  id: number;
  job_id: number;
  agent_id: string;
  status: string;
  job_status: string;
  current_attempt_id: number | null;
}
/** A job whose state disagrees with its current attempt. */
export interface JobAttemptRow {
  id: number;
  status: string;
  current_attempt_id: number | null;
  attempt_status: string | null;
}
/** A state whose kept count (status_counts) differs from the rows in that state. */
export interface CountDriftRow {
  tbl: string;
  status: string;
  kept: number;
  actual: number;
}
/** A registered raw file as fsck compares it with the disk, with its job's state. */
export interface RegisteredFileRow {
  id: number;
  filename: string;
  size: number;
  status: string;
  job_id: number | null;
  job_status: string | null;
}
/** An attempt whose results the coordinator filed (output_dir set). */
export interface FiledResultsRow {
  attempt_id: number;
  attempt_status: string;
  job_id: number;
  job_type: string;
  job_status: string;
  current_attempt_id: number | null;
  output_dir: string;
}
/** A job whose uploads say it is in the results DB, or the other way round. */
export interface UploadMismatchRow {
  id: number;
  status: string;
  uploaded: number;
}

const now = () => Date.now() / 1000;

export class FsckQueries {
  private readonly s;

  constructor(
    db: Database.Database,
    private readonly moves: Transitions,
  ) {
    this.s = {
      manyLive: db.prepare(`SELECT a.job_id, j.current_attempt_id, group_concat(a.id) AS attempt_ids
                            FROM job_submits a JOIN jobs j ON j.id = a.job_id
                            WHERE a.status IN ${LIVE_ATTEMPT_SQL} GROUP BY a.job_id HAVING COUNT(*) > 1 ORDER BY a.job_id`),
      strayLive: db.prepare(`SELECT a.id, a.job_id, a.agent_id, a.status, j.status AS job_status, j.current_attempt_id
                             FROM job_submits a JOIN jobs j ON j.id = a.job_id
                             WHERE a.status IN ${LIVE_ATTEMPT_SQL} AND (j.status != 'submitted' OR j.current_attempt_id IS NOT a.id)
                             ORDER BY a.id`),
      submittedWithoutLive: db.prepare(`SELECT j.id, j.status, j.current_attempt_id, a.status AS attempt_status
                                        FROM jobs j LEFT JOIN job_submits a ON a.id = j.current_attempt_id
                                        WHERE j.status = 'submitted' AND (a.id IS NULL OR a.status NOT IN ${LIVE_ATTEMPT_SQL})
                                        ORDER BY j.id`),
      doneWithoutSuccess: db.prepare(`SELECT j.id, j.status, j.current_attempt_id, a.status AS attempt_status
                                      FROM jobs j LEFT JOIN job_submits a ON a.id = j.current_attempt_id
                                      WHERE j.status IN ('processed', 'uploaded', 'upload_failed') AND (a.id IS NULL OR a.status != 'processed')
                                      ORDER BY j.id`),
      registeredFiles: db.prepare(`SELECT f.id, f.filename, f.size, f.status, jf.job_id, j.status AS job_status
                                   FROM files f LEFT JOIN job_files jf ON jf.file_id = f.id LEFT JOIN jobs j ON j.id = jf.job_id
                                   WHERE f.status IN (${sqlStates(READY_FILE_STATES)}) ORDER BY f.id`),
      filedResults: db.prepare(`SELECT a.id AS attempt_id, a.status AS attempt_status, a.job_id, j.job_type, j.status AS job_status,
                                       j.current_attempt_id, a.output_dir
                                FROM job_submits a JOIN jobs j ON j.id = a.job_id WHERE a.output_dir != '' ORDER BY a.id`),
      attemptIds: db.prepare("SELECT id, status FROM job_submits"),
      uploadMismatch: db.prepare(`SELECT j.id, j.status, EXISTS (SELECT 1 FROM job_uploads u WHERE u.job_id = j.id AND u.status = 'uploaded') AS uploaded
                                  FROM jobs j
                                  WHERE (j.status = 'uploaded') != EXISTS (SELECT 1 FROM job_uploads u WHERE u.job_id = j.id AND u.status = 'uploaded')
                                  ORDER BY j.id`),
      liveAttempts: db.prepare(`SELECT id, agent_id FROM job_submits WHERE status IN ${LIVE_ATTEMPT_SQL} ORDER BY id`),
      countDrift: db.prepare(`WITH actual AS (SELECT 'jobs' AS tbl, status, COUNT(*) AS n FROM jobs GROUP BY status
                                              UNION ALL SELECT 'job_submits', status, COUNT(*) FROM job_submits GROUP BY status),
                                   keys AS (SELECT tbl, status FROM actual UNION SELECT tbl, status FROM status_counts)
                              SELECT k.tbl, k.status, COALESCE(c.n, 0) AS kept, COALESCE(a.n, 0) AS actual
                              FROM keys k LEFT JOIN status_counts c ON c.tbl = k.tbl AND c.status = k.status
                                          LEFT JOIN actual a ON a.tbl = k.tbl AND a.status = k.status
                              WHERE COALESCE(c.n, 0) != COALESCE(a.n, 0) ORDER BY k.tbl, k.status`),
      clearCounts: db.prepare("DELETE FROM status_counts"),
      countJobs: db.prepare("INSERT INTO status_counts SELECT 'jobs', status, COUNT(*) FROM jobs GROUP BY status"),
      countAttempts: db.prepare("INSERT INTO status_counts SELECT 'job_submits', status, COUNT(*) FROM job_submits GROUP BY status"),
      noteAttempt: db.prepare("UPDATE job_submits SET error_class = @error_class, details = @details WHERE id = @id"),
      noteJob: db.prepare("UPDATE jobs SET details = @details WHERE id = @id"),
      forgetFile: db.prepare("UPDATE files SET status = 'deleted', details = @details, updated_at = @now WHERE id = @id AND status != 'deleted'"),
    };
  }

  manyLive(): ManyLiveRow[] {
    return this.s.manyLive.all() as ManyLiveRow[];
  }
  /** Live attempts that do not own a submitted job (the extra ones of a job with several, or of a job that moved on). */
  strayLive(): StrayLiveRow[] {
    return this.s.strayLive.all() as StrayLiveRow[];
  }
  submittedWithoutLive(): JobAttemptRow[] {
    return this.s.submittedWithoutLive.all() as JobAttemptRow[];
  }
  /** processed / uploaded / upload_failed jobs whose current attempt did not succeed. */
  doneWithoutSuccess(): JobAttemptRow[] {
    return this.s.doneWithoutSuccess.all() as JobAttemptRow[];
  }
  registeredFiles(): RegisteredFileRow[] {
    return this.s.registeredFiles.all() as RegisteredFileRow[];
  }
  filedResults(): FiledResultsRow[] {
    return this.s.filedResults.all() as FiledResultsRow[];
  }
  attemptStates(): Map<number, string> {
    return new Map((this.s.attemptIds.all() as { id: number; status: string }[]).map((r) => [r.id, r.status]));
  }
  uploadMismatch(): UploadMismatchRow[] {
    return this.s.uploadMismatch.all() as UploadMismatchRow[];
  }
  liveAttempts(): { id: number; agent_id: string }[] {
    return this.s.liveAttempts.all() as { id: number; agent_id: string }[];
  }
  /** States whose kept count disagrees with the rows (something changed the rows with the triggers dropped). */
  countDrift(): CountDriftRow[] {
    return this.s.countDrift.all() as CountDriftRow[];
  }

  // ---- repairs: guarded moves (states.ts), each with why on the row ----

  /** A live attempt that owns no job is ended as lost (nothing counted). */
  loseStray(attemptId: number, why: string): void {
    this.moves.attempt("lose", attemptId, null);
    this.s.noteAttempt.run({ id: attemptId, error_class: "lost", details: why });
  }

  /** A submitted job without a live attempt waits again (nothing counted). */
  requeueOrphan(jobId: number, why: string): void {
    this.moves.job("repairRequeue", jobId, null);
    this.s.noteJob.run({ id: jobId, details: why });
  }

  /** A waiting job whose raw data is gone or changed fails for good, with why. */
  failWaiting(jobId: number, why: string): void {
    this.moves.job("failPrecheck", jobId, null);
    this.s.noteJob.run({ id: jobId, details: why });
  }

  /** The counts by state are counted again from the rows. */
  recount(): void {
    this.s.clearCounts.run();
    this.s.countJobs.run();
    this.s.countAttempts.run();
  }

  /** A registered file that no waiting job needs and is gone from disk is recorded as deleted. */
  forgetFile(fileId: number, why: string): boolean {
    return this.s.forgetFile.run({ id: fileId, details: why, now: now() }).changes === 1;
  }
}
