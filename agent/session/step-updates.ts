// Step updates on their way to the coordinator. Each step is told when it starts and when
// it ends, so that `job ID` shows what runs; the attempt's result lists every step again
// and is the record. Sent as they happen, a trivial job cost two messages more than its
// result, each one handled on both sides. Held here for up to WINDOW_MS instead: an update
// is replaced by a newer one of the same step (started, then ended), and an attempt whose
// result goes out meanwhile needs none of them.
import type { AgentMessage, StepUpdate } from "../../shared/gen/agent";

/** How long an update may wait (what `job ID` may lag behind the step, with the coordinator's own batching). */
export const STEP_UPDATE_WINDOW_MS = 50;

export class StepUpdates {
  /** `attempt:index` → the step's newest update, in the order the steps were first told */
  private readonly held = new Map<string, StepUpdate>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly send: (msg: AgentMessage) => void,
    private readonly windowMs = STEP_UPDATE_WINDOW_MS,
  ) {}

  add(u: StepUpdate): void {
    this.held.set(`${u.attemptId}:${u.step?.index ?? -1}`, u);
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  /** The attempt's result is going out (or the attempt is forgotten): its held updates are not sent. */
  drop(attemptId: number): void {
    const prefix = `${attemptId}:`;
    for (const key of this.held.keys()) if (key.startsWith(prefix)) this.held.delete(key);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const u of this.held.values()) this.send({ body: { $case: "stepUpdate", value: u } });
    this.held.clear();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.held.clear();
  }
}
