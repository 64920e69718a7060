// An exclusive lock that the kernel drops when its process dies (even by kill -9),
// so nobody ever waits on a stale one: a small SQLite file held in EXCLUSIVE
// locking mode inside a write transaction (fcntl locks underneath; Node has no
// flock). Beside it, an informative file says who holds it.
import fs from "node:fs";
import os from "node:os";
import Database from "better-sqlite3";

/** The lock is held by another live process; `holder` says which, as it wrote. */
export class LockBusyError extends Error {
  constructor(
    readonly lockPath: string,
    readonly holder: string,
  ) {
    super(`${lockPath} is locked by ${holder}`);
    this.name = "LockBusyError";
  }
}

export class HeldLock {
  private constructor(
    private readonly db: Database.Database,
    private readonly infoPath: string,
  ) {}

  /** Takes the lock at once or throws LockBusyError; `who` (e.g. "agent node01"; may be empty) is written beside it with the pid. */
  static acquire(lockPath: string, infoPath: string, who: string): HeldLock {
    const db = new Database(lockPath, { timeout: 0 });
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      db.exec("CREATE TABLE IF NOT EXISTS holder (x)");
      db.exec("BEGIN EXCLUSIVE");
    } catch (err) {
      db.close();
      if ((err as { code?: string }).code === "SQLITE_BUSY") {
        let holder = "an unknown process";
        try {
          holder = fs.readFileSync(infoPath, "utf8").trim() || holder;
        } catch {
          /* the owner file is informative only */
        }
        throw new LockBusyError(lockPath, holder);
      }
      throw err;
    }
    const holder = `pid ${process.pid} on ${os.hostname()} since ${new Date().toISOString()}`;
    fs.writeFileSync(infoPath, `${who ? `${who}: ` : ""}${holder}\n`);
    return new HeldLock(db, infoPath);
  }

  release(): void {
    try {
      fs.rmSync(this.infoPath, { force: true });
    } catch {
      /* best effort */
    }
    this.db.close();
  }
}
