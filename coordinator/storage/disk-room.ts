// Whether the coordinator's disk (its data dir: the tracker, logs, results) has room.
// A write that fails for want of space (ENOSPC, EDQUOT, SQLITE_FULL) marks it full:
// no new work is assigned or accepted (add-files, submit) with a clear error, nothing
// the coordinator did not store is acknowledged (the callers see to that), and a probe
// every few seconds clears the mark once there is room again. Other write errors are
// logged as they are: they are not a condition to wait out.
import fs from "node:fs";
import type { Logger } from "../../shared/logging/logger";

const PROBE_MS = 2000;
/** Room needed before new work is taken again (or a twentieth of a smaller disk): a tracker transaction, a few log chunks. */
const RESUME_FREE_BYTES = 16 << 20;

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "SQLITE_FULL";
}

export class DiskRoom {
  private why: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastLogged = 0;

  constructor(
    private readonly dir: string,
    private readonly log: Logger,
    /** the disk has room again (the dispatcher resumes) */
    private readonly onRoom: () => void,
  ) {}

  /** Why the coordinator takes no new work, or null when its disk has room. */
  get full(): string | null {
    return this.why;
  }

  /** A write failed; `what` names what was being written. Returns whether it was for want of space (else the caller reports it). */
  failed(err: Error, what: string): boolean {
    if (!isDiskFull(err)) return false;
    const first = this.why === null;
    this.why = `the coordinator's disk is full (${this.dir}: ${(err as NodeJS.ErrnoException).code ?? err.message} writing ${what}): no new work until there is room`;
    // Once when it happens, then at most once a minute while it lasts.
    if (first || Date.now() - this.lastLogged > 60_000) {
      this.lastLogged = Date.now();
      this.log.error({ dir: this.dir, what, err: err.message }, "the coordinator's disk is full: new work waits, unstored log output is not acknowledged");
    }
    if (!this.timer) {
      this.timer = setInterval(() => this.probe(), PROBE_MS);
      this.timer.unref();
    }
    return true;
  }

  /** Clears the mark if the data dir has room again. */
  probe(): void {
    if (this.why === null) return;
    let free: number;
    let total: number;
    try {
      const s = fs.statfsSync(this.dir);
      free = s.bavail * s.bsize;
      total = s.blocks * s.bsize;
    } catch {
      return;
    }
    if (free < Math.min(RESUME_FREE_BYTES, total / 20)) return;
    this.why = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.log.warn({ dir: this.dir, freeBytes: free }, "the coordinator's disk has room again: new work is taken");
    this.onRoom();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
