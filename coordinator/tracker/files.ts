// The tracker's record of raw data files (PALFA's `files`), as add-files registers
// them and job creation groups them: one named query each.
import type Database from "better-sqlite3";
import { READY_FILE_STATES, sqlStates } from "./states";

/** What registration compares new paths against. */
export interface TrackedFile {
  id: number;
  filename: string;
  status: string;
}
/** A ready file no job uses yet. */
export interface UnjobbedFile {
  id: number;
  filename: string;
  size: number;
}
export interface NewFile {
  filename: string;
  size: number;
  sha256: string;
  details: string;
}

const now = () => Date.now() / 1000;

export class FileRecords {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      tracked: db.prepare("SELECT id, filename, status FROM files ORDER BY id"),
      readyWithoutJob: db.prepare(`SELECT f.id, f.filename, f.size FROM files f
                                   WHERE f.status IN (${sqlStates(READY_FILE_STATES)})
                                     AND NOT EXISTS (SELECT 1 FROM job_files jf WHERE jf.file_id = f.id)
                                   ORDER BY f.id`),
      insert: db.prepare(`INSERT INTO files (filename, size, sha256, status, details, created_at, updated_at)
                          VALUES (@filename, @size, @sha256, 'downloaded', @details, @now, @now)
                          ON CONFLICT (filename) DO NOTHING`),
    };
  }

  /** Every tracked file, in id order. */
  tracked(): TrackedFile[] {
    return this.s.tracked.all() as TrackedFile[];
  }

  /** Files ready for a job (READY_FILE_STATES) that no job uses yet, in id order. */
  readyWithoutJob(): UnjobbedFile[] {
    return this.s.readyWithoutJob.all() as UnjobbedFile[];
  }

  /** Registers a file on disk as downloaded; false when its path is tracked already. */
  add(file: NewFile): boolean {
    return this.s.insert.run({ ...file, now: now() }).changes === 1;
  }
}
