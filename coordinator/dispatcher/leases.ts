// One timer armed at the earliest stored lease deadline. When it fires, every
// attempt whose deadline has passed is ended (withdrawn if it was never
// accepted, lost if it was running), then the timer re-arms from the tracker.
// Renewals only move deadlines later, so firing early is harmless.
import type { Logger } from "../../shared/logging/logger";
import type { AttemptRow, Tracker } from "../tracker/tracker";

export class LeaseClock {
  private timer: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private stopped = false;

  constructor(
    private readonly tracker: Tracker,
    private readonly onExpired: (attempt: AttemptRow) => void,
    private readonly log: Logger,
  ) {}

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
    const next = this.tracker.nextLeaseExpiry();
    if (next !== null) this.arm(next);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private fire(): void {
    this.timer = null;
    this.armedAt = Infinity;
    if (this.stopped) return;
    for (const attempt of this.tracker.expiredAttempts(Date.now() / 1000)) {
      try {
        this.onExpired(attempt);
      } catch (err) {
        this.log.error({ err, attempt: attempt.id, job: attempt.job_id }, "could not end an expired attempt");
      }
    }
    this.rearm();
  }
}
