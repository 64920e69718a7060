// Accepts and step updates on their way to the coordinator, held back for up to WINDOW_MS.
//
// Step updates: each step is told when it starts and when it ends, so that `job ID` shows
// what runs; the attempt's result lists every step again and is the record. Sent as they
// happen, a trivial job cost two messages more than its result, each one handled on both
// sides. Held here, an update is replaced by a newer one of the same step (started, then
// ended), and an attempt whose result is reported meanwhile needs none of them.
//
// Accepts: to a coordinator whose Welcome says accept_with_result, an attempt's result is its
// accept too. A short job's accept is then never sent: its result goes out within the window
// and the coordinator ends the attempt in one transaction instead of two. A held accept is
// always sent unless the result went out first. The Hello says the agent holds accepts, and
// the coordinator then leases its assignments for lease_s from the start instead of giving
// them the accept timeout: the lease fence covers an attempt whose accept is held when the
// agent is paused, as it covers a running one (docs/leases.md).
import type { AgentMessage, StepUpdate } from "../../shared/gen/agent";

/** How long an accept or update may wait (what `job ID` may lag behind the step, with the coordinator's own batching). */
export const HOLDBACK_WINDOW_MS = 50;

const acceptOf = (attemptId: number): AgentMessage => ({ body: { $case: "assignReply", value: { attemptId, accepted: true, reason: "" } } });

export class Holdback {
  /** attempts whose accept is held, in the order they were accepted */
  private readonly accepts = new Set<number>();
  /** `attempt:index` → the step's newest update, in the order the steps were first told */
  private readonly updates = new Map<string, StepUpdate>();
  private timer: NodeJS.Timeout | undefined;
  /** the coordinator takes a result as the accept (its Welcome said so) */
  private holdAccepts = false;

  constructor(
    private readonly send: (msg: AgentMessage) => void,
    private readonly windowMs = HOLDBACK_WINDOW_MS,
  ) {}

  /**
   * A new stream was welcomed. Accepts held for the old one are not sent: the Hello listed
   * those attempts as held, which the coordinator takes as their accept.
   */
  restart(acceptWithResult: boolean): void {
    this.holdAccepts = acceptWithResult;
    this.accepts.clear();
  }

  accept(attemptId: number): void {
    if (!this.holdAccepts) return this.send(acceptOf(attemptId));
    this.accepts.add(attemptId);
    this.arm();
  }

  update(u: StepUpdate): void {
    this.updates.set(`${u.attemptId}:${u.step?.index ?? -1}`, u);
    this.arm();
  }

  /** The attempt's result is reported: its held updates are not sent (the result lists its steps). */
  reported(attemptId: number): void {
    this.dropUpdates(attemptId);
  }

  /** The attempt's result is on the stream, or the attempt is forgotten: nothing held for it is sent. */
  forget(attemptId: number): void {
    this.accepts.delete(attemptId);
    this.dropUpdates(attemptId);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    // Accepts first: an update of an attempt never comes before its accept.
    for (const id of this.accepts) this.send(acceptOf(id));
    for (const u of this.updates.values()) this.send({ body: { $case: "stepUpdate", value: u } });
    this.accepts.clear();
    this.updates.clear();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.accepts.clear();
    this.updates.clear();
  }

  private arm(): void {
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  private dropUpdates(attemptId: number): void {
    const prefix = `${attemptId}:`;
    for (const key of this.updates.keys()) if (key.startsWith(prefix)) this.updates.delete(key);
  }
}
