// What the agent owes the coordinator besides log output (which the LogSpool
// keeps on disk): diagnostics and the latest progress of attempts still held,
// and finished attempts' results until acknowledged. Both are sent again after a reconnect; the
// coordinator de-duplicates (upserts, guarded transitions).
import type { AgentMessage, AttemptResult, Diagnostic, Progress } from "../../shared/gen/agent";

export class Outbox {
  private readonly diagnostics = new Map<number, Map<string, Diagnostic>>();
  private readonly results = new Map<number, AttemptResult>();
  /** the latest progress of each running search: a restarted coordinator learns it again */
  private readonly progress = new Map<number, Progress>();

  setProgress(p: Progress): void {
    this.progress.set(p.attemptId, p);
  }

  addDiagnostic(d: Diagnostic): void {
    let m = this.diagnostics.get(d.attemptId);
    if (!m) this.diagnostics.set(d.attemptId, (m = new Map()));
    m.set(d.name, d);
  }

  addResult(r: AttemptResult): void {
    this.results.set(r.attemptId, r);
  }

  hasResult(attemptId: number): boolean {
    return this.results.has(attemptId);
  }

  finishedAttempts(): number[] {
    return [...this.results.keys()];
  }

  pendingResults(): AttemptResult[] {
    return [...this.results.values()];
  }

  /** The coordinator stored the result (or refused it for good): forget the attempt. */
  forget(attemptId: number): void {
    this.results.delete(attemptId);
    this.diagnostics.delete(attemptId);
    this.progress.delete(attemptId);
  }

  /** Diagnostics and progress to send again after a reconnect. */
  *replay(): Generator<AgentMessage> {
    for (const m of this.diagnostics.values()) for (const d of m.values()) yield { body: { $case: "diagnostic", value: d } };
    for (const p of this.progress.values()) yield { body: { $case: "progress", value: p } };
  }
}
