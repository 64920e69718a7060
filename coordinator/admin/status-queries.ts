// Read-only summaries for `beamflow status` (like ippToPsps's metrics table).
import type Database from "better-sqlite3";
import { CANARY_JOB_TYPE } from "../../shared/protocol/job-types";

export function jobStatusCounts(db: Database.Database): { status: string; count: number }[] {
  return db.prepare("SELECT status, COUNT(*) AS count FROM jobs GROUP BY status ORDER BY status").all() as { status: string; count: number }[];
}

export function attemptStatusCounts(db: Database.Database): { status: string; count: number }[] {
  return db.prepare("SELECT status, COUNT(*) AS count FROM job_submits GROUP BY status ORDER BY status").all() as { status: string; count: number }[];
}

/** Beams whose processing succeeded since `since` (unix seconds); canary runs are not survey beams. */
export function finishedBeams(db: Database.Database, since: number): number {
  return (db.prepare(`SELECT COUNT(*) AS n FROM job_submits s JOIN jobs j ON j.id = s.job_id
                      WHERE s.status = 'processed' AND s.finished_at >= ? AND j.job_type != ?`).get(since, CANARY_JOB_TYPE) as { n: number }).n;
}
