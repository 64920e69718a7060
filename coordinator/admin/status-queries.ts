// Read-only summaries for `beamflow status` (like ippToPsps's metrics table).
import type Database from "better-sqlite3";

export function jobStatusCounts(db: Database.Database): { status: string; count: number }[] {
  return db.prepare("SELECT status, COUNT(*) AS count FROM jobs GROUP BY status ORDER BY status").all() as { status: string; count: number }[];
}

export function attemptStatusCounts(db: Database.Database): { status: string; count: number }[] {
  return db.prepare("SELECT status, COUNT(*) AS count FROM job_submits GROUP BY status ORDER BY status").all() as { status: string; count: number }[];
}

/** Beams whose processing succeeded since `since` (unix seconds). */
export function finishedBeams(db: Database.Database, since: number): number {
  return (db.prepare("SELECT COUNT(*) AS n FROM job_submits WHERE status = 'processed' AND finished_at >= ?").get(since) as { n: number }).n;
}
