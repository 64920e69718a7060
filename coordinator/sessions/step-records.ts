// Step records as agents report them. Every step is reported when it starts and when it
// ends, and listed again in the attempt's result: one statement each, that was most of the
// tracker's writes (a PALFA beam has ~31,000 steps; a trivial job cost three writes for its
// one step). The live reports only show operators what runs, so they are gathered here and
// written together, the newest report of each step only, at most FLUSH_MS after they came.
// The result's list is the record: it is written with the attempt's end, in its transaction,
// and supersedes whatever of that attempt is still gathered.
import type { Logger } from "../../shared/logging/logger";
import type { LiveStepReport, NewStep, Tracker } from "../tracker/tracker";

/** How long a live report may wait to be written (what `job ID` may lag behind the agent). */
export const STEP_FLUSH_MS = 100;

export interface StepRecordsDeps {
  tracker: Tracker;
  /** a write to the coordinator's disk failed (it may be full); false when it was another error */
  storageFailed: (err: Error, what: string) => boolean;
  log: Logger;
  flushMs?: number;
}

export class StepRecords {
  /** attempt id → step index → its newest report, not written yet */
  private readonly gathered = new Map<number, Map<number, LiveStepReport>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;

  constructor(private readonly d: StepRecordsDeps) {
    this.flushMs = d.flushMs ?? STEP_FLUSH_MS;
  }

  /** A running attempt's step started or ended (written soon, if the attempt is still the agent's then). */
  report(attemptId: number, agentId: string, step: NewStep): void {
    let steps = this.gathered.get(attemptId);
    if (!steps) {
      steps = new Map();
      this.gathered.set(attemptId, steps);
    }
    steps.set(step.idx, { attemptId, agentId, step });
    this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /**
   * The attempt's result: its steps as listed there are written now (call it inside the
   * transaction that ends the attempt), and its gathered reports are dropped unwritten.
   */
  settle(attemptId: number, steps: readonly NewStep[]): void {
    this.gathered.delete(attemptId);
    if (steps.length) this.d.tracker.recordSteps(attemptId, steps);
  }

  /** Writes what is gathered; kept for the next try when the disk refuses it. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.gathered.size === 0) return;
    const reports: LiveStepReport[] = [];
    for (const steps of this.gathered.values()) for (const r of steps.values()) reports.push(r);
    try {
      this.d.tracker.recordLiveSteps(reports);
      this.gathered.clear();
    } catch (err) {
      if (!this.d.storageFailed(err as Error, "step records")) {
        this.d.log.error({ err, steps: reports.length }, "could not write step records: dropped");
        this.gathered.clear();
      }
    }
  }

  /** Writes what is gathered and stops the timer (the coordinator is stopping). */
  close(): void {
    this.flush();
  }
}
