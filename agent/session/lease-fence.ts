// The agent's half of the lease. The coordinator renews an attempt's lease when a
// heartbeat naming it arrives and may give the beam to another agent lease_s after
// the last renewal. The agent counts from when it *sent* the last heartbeat the
// coordinator acknowledged (or the Hello it was welcomed on), which is never later
// than when that heartbeat arrived; so stopping its attempts once that much time,
// less a margin for killing them, has passed without a renewal guarantees the beam
// never runs in two places, whether the agent was partitioned, paused, or the
// coordinator gone (docs/leases.md). Measured on the monotonic clock.

export interface LeaseFenceOptions {
  /** how long the agent may wait for SIGTERM to work before SIGKILL (agent.kill_grace_s) */
  killGraceS: number;
  /** stops every running attempt, reporting them cancelled with this reason */
  fence: (reason: string) => void;
  /** whether any attempt runs (nothing to fence otherwise) */
  running: () => boolean;
  /** kills the steps if the agent itself cannot when the time comes (paused, wedged) */
  watchdog?: { arm: (ms: number) => void; disarm: () => void };
  log: { warn: (o: object, msg: string) => void };
}

/**
 * How late the watchdog may hear a re-arm (a line on a pipe to a process that a busy node
 * schedules when it can), at most a quarter of the time to the fence: a deadline that close
 * when the agent re-arms may pass first.
 */
const WATCHDOG_HEARS_WITHIN_MS = 250;

export class LeaseFence {
  private leaseS = 0;
  private seq = 0;
  /** heartbeats sent and not yet acknowledged: seq → monotonic ms at sending */
  private readonly sent = new Map<number, number>();
  /** monotonic ms from which the coordinator's lease of every held attempt runs at least */
  private renewedAt = performance.now();
  private helloAt = 0;
  private timer: NodeJS.Timeout | null = null;
  /** why the running attempts were stopped, until the next renewal */
  private fenced: string | undefined;
  /** monotonic ms at which the watchdog kills the steps unless armed again first */
  private watchdogDue: number | undefined;
  /** the latest moment the watchdog may have killed the steps (a deadline that passed before it was armed again) */
  private watchdogFiredAt: number | undefined;

  constructor(private readonly o: LeaseFenceOptions) {}

  /** Before a Hello goes out: the coordinator renews the held attempts' leases on it. */
  helloSent(): void {
    this.helloAt = performance.now();
  }

  /** The Welcome: the coordinator's lease length, and leases renewed as of the Hello. */
  welcomed(leaseS: number): void {
    this.leaseS = leaseS;
    this.sent.clear();
    this.seq = 0;
    this.renewed(this.helloAt);
    this.timer ??= setInterval(() => this.check(), 1000);
    this.timer.unref();
  }

  /** The seq to put in the next heartbeat. */
  nextSeq(): number {
    this.seq++;
    this.sent.set(this.seq, performance.now());
    return this.seq;
  }

  acked(seq: number): void {
    const at = this.sent.get(seq);
    if (at === undefined) return;
    for (const s of this.sent.keys()) if (s <= seq) this.sent.delete(s);
    this.renewed(at);
  }

  private renewed(at: number): void {
    if (at <= this.renewedAt) return;
    this.renewedAt = at;
    this.fenced = undefined;
    this.check();
  }

  /**
   * How long after a renewal the agent stops its attempts: the lease less the time a kill
   * takes (the kill grace and a second), but never less than half the lease.
   */
  fenceAfterMs(): number {
    const leaseMs = this.leaseS * 1000;
    return Math.max(leaseMs / 2, leaseMs - (this.o.killGraceS + 1) * 1000);
  }

  /**
   * Why an attempt that started at `since` (monotonic ms) and failed is the fence's doing: the
   * watchdog's deadline passed while it ran, so the watchdog may have killed its steps.
   */
  watchdogKilled(since: number): string | undefined {
    if (this.watchdogFiredAt === undefined || this.watchdogFiredAt < since) return undefined;
    return `the fence watchdog may have stopped its steps: no lease renewal from the coordinator in time (lease ${this.leaseS} s)`;
  }

  /**
   * Why nothing new may start: the lease may have run out on the coordinator's side (the agent
   * was paused or cut off), so an Assign read now may be one the coordinator has given up on
   * and given to another agent. Undefined while the lease holds.
   */
  lapsed(now = performance.now()): string | undefined {
    if (this.fenced) return this.fenced;
    if (this.leaseS === 0) return undefined;
    const sinceMs = now - this.renewedAt;
    if (sinceMs < this.fenceAfterMs()) return undefined;
    return `${this.unrenewedFor(sinceMs)}: the assignment may have gone to another agent`;
  }

  /**
   * Stops the attempts if the lease may have run out on the coordinator's side; returns why
   * if they are fenced (now or earlier, until the next renewal). Also re-arms the watchdog.
   */
  check(now = performance.now()): string | undefined {
    if (this.fenced) return this.fenced;
    if (this.leaseS === 0) return undefined;
    const sinceMs = now - this.renewedAt;
    const leftMs = this.fenceAfterMs() - sinceMs;
    // Armed whether or not an attempt runs: one may start a moment before the agent is paused.
    if (this.o.watchdog) {
      // A deadline that passed before this re-arm, or will before the watchdog hears of it, may
      // have killed the steps, even if a renewal comes a moment later: their deaths are the
      // fence's, not the beam's.
      const hearsWithin = Math.min(WATCHDOG_HEARS_WITHIN_MS, this.fenceAfterMs() / 4);
      if (this.watchdogDue !== undefined && this.watchdogDue <= now + hearsWithin) this.watchdogFiredAt = this.watchdogDue;
      if (leftMs <= 0) this.watchdogFiredAt = now;
      this.watchdogDue = now + leftMs;
      this.o.watchdog.arm(leftMs);
    }
    if (leftMs > 0 || !this.o.running()) return undefined;
    this.fenced = `${this.unrenewedFor(sinceMs)}: stopped before the beam may be given to another agent`;
    this.o.log.warn({ sinceS: sinceMs / 1000, leaseS: this.leaseS }, "fencing: stopping every running attempt");
    this.o.fence(this.fenced);
    return this.fenced;
  }

  private unrenewedFor(sinceMs: number): string {
    return `no lease renewal from the coordinator for ${(sinceMs / 1000).toFixed(1)} s (lease ${this.leaseS} s)`;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
