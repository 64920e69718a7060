// Opens the job-tracker database: WAL, foreign keys, migrations, and the
// single-writer lock that refuses a second coordinator on the same file.
import { HeldLock, LockBusyError } from "../../shared/files/held-lock";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { MIGRATIONS } from "./migrations";

export class TrackerLockedError extends Error {
  constructor(
    readonly dbPath: string,
    readonly holder: string,
  ) {
    super(`the job tracker ${dbPath} is in use by another coordinator (${holder}); only one coordinator may run on it`);
    this.name = "TrackerLockedError";
  }
}

export class TrackerMissingError extends Error {
  constructor(readonly dbPath: string) {
    super(`no job tracker at ${dbPath}: create it with 'beamflow init'`);
    this.name = "TrackerMissingError";
  }
}

function applyPragmas(db: Database.Database): void {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
}

export function migrate(db: Database.Database): number {
  db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)");
  const applied = new Set((db.prepare("SELECT version FROM schema_migrations").all() as { version: number }[]).map((r) => r.version));
  let count = 0;
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)").run(m.version, m.name, Date.now() / 1000);
    })();
    count++;
  }
  return count;
}

/** Creates the tracker file; returns false (and changes nothing) if it exists. */
export function createTracker(dbPath: string): boolean {
  if (fs.existsSync(dbPath)) return false;
  fs.mkdirSync(path.dirname(dbPath), { recursive: true });
  const db = new Database(dbPath);
  try {
    applyPragmas(db);
    migrate(db);
  } finally {
    db.close();
  }
  return true;
}

/**
 * One coordinator per tracker: a lock the kernel drops when the process dies (even by
 * kill -9; shared/files/held-lock.ts), so a restarted coordinator never waits for a stale one.
 */
export class TrackerLock {
  private constructor(private readonly held: HeldLock) {}

  /**
   * The lock is keyed on the tracker file's identity (device and inode), not on the path it
   * was named by: a symbolic link to the tracker, or another spelling of its path, finds the
   * same lock. It lives beside the file itself (symbolic links resolved).
   */
  static lockPaths(dbPath: string): { lockPath: string; infoPath: string } {
    let real: string;
    let st: fs.Stats;
    try {
      real = fs.realpathSync(dbPath);
      st = fs.statSync(real);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new TrackerMissingError(dbPath);
      throw err;
    }
    const base = path.join(path.dirname(real), `.${path.basename(real)}.${st.dev}-${st.ino}`);
    return { lockPath: `${base}.lock`, infoPath: `${base}.owner` };
  }

  static acquire(dbPath: string): TrackerLock {
    const { lockPath, infoPath } = TrackerLock.lockPaths(dbPath);
    try {
      return new TrackerLock(HeldLock.acquire(lockPath, infoPath, ""));
    } catch (err) {
      if (err instanceof LockBusyError) throw new TrackerLockedError(dbPath, err.holder);
      throw err;
    }
  }

  release(): void {
    this.held.release();
  }
}

/** Opens an existing tracker for the coordinator (migrating it forward). */
export function openTracker(dbPath: string): Database.Database {
  if (!fs.existsSync(dbPath)) throw new TrackerMissingError(dbPath);
  const db = new Database(dbPath);
  applyPragmas(db);
  migrate(db);
  return db;
}
