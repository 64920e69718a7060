// What the agent owes the coordinator and must not lose to a dropped stream:
// log chunks until acknowledged, diagnostics of attempts still held, and
// finished attempts' results until acknowledged. All are re-sent after a
// reconnect; the coordinator de-duplicates (log sequence numbers, upserts,
// guarded transitions).
import type { AgentMessage, AttemptResult, Diagnostic, LogChunk } from "../../shared/gen/agent";

export class Outbox {
  private readonly chunks = new Map<number, LogChunk[]>();
  private readonly diagnostics = new Map<number, Map<string, Diagnostic>>();
  private readonly results = new Map<number, AttemptResult>();
  private readonly nextSeq = new Map<number, number>();

  nextLogSeq(attemptId: number): number {
    const seq = (this.nextSeq.get(attemptId) ?? 0) + 1;
    this.nextSeq.set(attemptId, seq);
    return seq;
  }

  addChunk(c: LogChunk): void {
    let list = this.chunks.get(c.attemptId);
    if (!list) this.chunks.set(c.attemptId, (list = []));
    list.push(c);
  }

  ackChunks(attemptId: number, seq: number): void {
    const list = this.chunks.get(attemptId);
    if (!list) return;
    const rest = list.filter((c) => c.seq > seq);
    if (rest.length) this.chunks.set(attemptId, rest);
    else this.chunks.delete(attemptId);
  }

  addDiagnostic(d: Diagnostic): void {
    let m = this.diagnostics.get(d.attemptId);
    if (!m) this.diagnostics.set(d.attemptId, (m = new Map()));
    m.set(d.name, d);
  }

  addResult(r: AttemptResult): void { this.results.set(r.attemptId, r); }

  hasResult(attemptId: number): boolean { return this.results.has(attemptId); }

  finishedAttempts(): number[] { return [...this.results.keys()]; }

  /** The coordinator stored the result (or refused it for good): forget the attempt. */
  forget(attemptId: number): void {
    this.results.delete(attemptId);
    this.diagnostics.delete(attemptId);
    this.chunks.delete(attemptId);
    this.nextSeq.delete(attemptId);
  }

  /** Everything to re-send after a reconnect, in the order it was produced per attempt: logs, diagnostics, result. */
  *replay(): Generator<AgentMessage> {
    for (const list of this.chunks.values()) for (const c of list) yield { body: { $case: "logChunk", value: c } };
    for (const m of this.diagnostics.values()) for (const d of m.values()) yield { body: { $case: "diagnostic", value: d } };
    for (const r of this.results.values()) yield { body: { $case: "attemptResult", value: r } };
  }
}
