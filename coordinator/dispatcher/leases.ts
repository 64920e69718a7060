// One timer armed at the earliest stored lease deadline. When it fires, every
// attempt whose deadline has passed is ended (withdrawn if it was never
// accepted, lost if it was running), then the timer re-arms from the tracker.
// Renewals only move deadlines later, so firing early is harmless.
//
// Deadlines are wall-clock times (they outlive a restart), but whether one has
// really passed is judged on the monotonic clock: a coordinator that was paused (a
// VM stall, SIGSTOP, a long GC) or whose clock stepped wakes with every deadline
// behind it and the agents' heartbeats still unread in its sockets. So a second
// timer ticks; a tick that comes much later than due, or a wall clock that moved
// unlike the monotonic one, is a stall: every live lease is extended by a lease
// from now before anything may expire, as after a restart (docs/leases.md).
import type { Logger } from "../../shared/logging/logger";
import type { AttemptRow, Tracker } from "../tracker/tracker";

const TICK_MS = 1000;
/** A tick this late, or a wall clock this far off the monotonic one, is a stall. */
const STALL_MS = 3000;

export interface LeaseClockOptions {
  tracker: Tracker;
  onExpired: (attempt: AttemptRow) => void;
  /** how long a renewal lasts (jobs.lease_s): the grace every live attempt gets after a stall */
  leaseS: number;
  log: Logger;
}

export class LeaseClock {
  private timer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private stopped = false;
  private lastMono = performance.now();
  private lastWall = Date.now();
  /** stalls seen since start (exported as a metric) */
  stalls = 0;

  constructor(private readonly o: LeaseClockOptions) {
    this.ticker = setInterval(() => this.checkStall(), TICK_MS);
    this.ticker.unref();
  }

  /** Makes sure the clock fires no later than t (unix seconds). */
  arm(t: number): void {
    if (this.stopped || t >= this.armedAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedAt = t;
    const delay = Math.max(0, t * 1000 - Date.now());
    // setTimeout's limit is about 24.8 days; a longer lease just re-arms on firing.
    this.timer = setTimeout(() => this.fire(), Math.min(delay, 2 ** 31 - 1));
    this.timer.unref();
  }

  /** Arms from the tracker's earliest deadline (at start and after each firing). */
  rearm(): void {
    const next = this.o.tracker.nextLeaseExpiry();
    if (next !== null) this.arm(next);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    this.timer = null;
    this.ticker = null;
  }

  /**
   * True (after extending every live lease) if the process stalled or the wall clock
   * stepped since the last tick. Called by the ticker and before any expiry.
   */
  private checkStall(): boolean {
    const mono = performance.now();
    const wall = Date.now();
    const lateMs = mono - this.lastMono - TICK_MS;
    const skewMs = wall - this.lastWall - (mono - this.lastMono);
    this.lastMono = mono;
    this.lastWall = wall;
    if (lateMs < STALL_MS && Math.abs(skewMs) < STALL_MS) return false;
    this.stalls++;
    const extended = this.o.tracker.extendLiveLeases(wall / 1000 + this.o.leaseS);
    this.o.log.warn(
      { stalledS: Math.round(lateMs / 100) / 10, clockStepS: Math.round(skewMs / 100) / 10, extended },
      "the coordinator stalled or its clock stepped: every live lease extended by a lease before any may expire",
    );
    this.armedAt = Infinity;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.rearm();
    return true;
  }

  private fire(): void {
    this.timer = null;
    this.armedAt = Infinity;
    if (this.stopped) return;
    if (this.checkStall()) return;
    let failed = 0;
    try {
      for (const attempt of this.o.tracker.expiredAttempts(Date.now() / 1000)) {
        try {
          this.o.onExpired(attempt);
        } catch (err) {
          if (failed++ === 0) this.o.log.error({ err, attempt: attempt.id, job: attempt.job_id }, "could not end an expired attempt");
        }
      }
    } catch (err) {
      failed++;
      this.o.log.error({ err }, "could not read the expired leases");
    }
    // What could not be ended (a full disk) is tried again in a second, not in a busy loop.
    if (failed) this.arm(Date.now() / 1000 + 1);
    else this.rearm();
  }
}
