// What the agent owes the coordinator besides log output: results until they are
// acknowledged, the diagnostics and latest progress of attempts it holds, sent
// again after a reconnect, and nothing of an attempt once it is forgotten.
import assert from "node:assert/strict";
import { Outbox } from "../../../agent/session/outbox";
import { type AgentMessage, AttemptOutcome, AttemptResult, Diagnostic, Progress } from "../../../shared/gen/agent";
import { type SearchPhaseName, searchPhaseName, searchPhaseToWire } from "../../../shared/protocol/search-phases";

const diagnostic = (attemptId: number, name: string, value: number): Diagnostic => Diagnostic.fromPartial({ attemptId, name, value });
const progress = (attemptId: number, phase: SearchPhaseName): Progress => Progress.fromPartial({ attemptId, phase: searchPhaseToWire(phase) });
const result = (attemptId: number): AttemptResult => AttemptResult.fromPartial({ attemptId, outcome: AttemptOutcome.OUTCOME_SUCCEEDED });

/** The replayed messages as "case attempt what". */
function replayed(o: Outbox): string[] {
  return [...o.replay()].map((m: AgentMessage) => {
    const b = m.body!;
    if (b.$case === "diagnostic") return `diagnostic ${b.value.attemptId} ${b.value.name}`;
    if (b.$case === "progress") return `progress ${b.value.attemptId} ${searchPhaseName(b.value.phase)}`;
    return b.$case;
  });
}

describe("agent outbox", () => {
  it("keeps results until forgotten and says which attempts are finished", () => {
    const o = new Outbox();
    assert.equal(o.hasResult(7), false);
    o.addResult(result(7));
    o.addResult(result(9));
    assert.equal(o.hasResult(7), true);
    assert.deepEqual(o.finishedAttempts(), [7, 9]);
    assert.deepEqual(
      o.pendingResults().map((r) => r.attemptId),
      [7, 9],
    );
    // Pending results stay pending however often they are read: only an acknowledgement ends them.
    assert.deepEqual(
      o.pendingResults().map((r) => r.attemptId),
      [7, 9],
    );
    o.forget(7);
    assert.equal(o.hasResult(7), false);
    assert.deepEqual(o.finishedAttempts(), [9]);
  });

  it("a second result for an attempt replaces the first", () => {
    const o = new Outbox();
    o.addResult(result(7));
    o.addResult({ ...result(7), outcome: AttemptOutcome.OUTCOME_FAILED });
    assert.deepEqual(
      o.pendingResults().map((r) => r.outcome),
      [AttemptOutcome.OUTCOME_FAILED],
    );
  });

  it("replays each diagnostic's newest value and each attempt's latest progress, as often as asked", () => {
    const o = new Outbox();
    o.addDiagnostic(diagnostic(7, "rfi_percent", 1));
    o.addDiagnostic(diagnostic(7, "num_cands", 3));
    o.addDiagnostic(diagnostic(7, "rfi_percent", 2));
    o.addDiagnostic(diagnostic(9, "rfi_percent", 4));
    o.setProgress(progress(7, "rfifind"));
    o.setProgress(progress(7, "searching"));
    const expected = ["diagnostic 7 rfi_percent", "diagnostic 7 num_cands", "diagnostic 9 rfi_percent", "progress 7 searching"];
    assert.deepEqual(replayed(o), expected);
    assert.deepEqual(replayed(o), expected, "a replay does not use anything up: every reconnect sends it all again");
    const values = [...o.replay()].flatMap((m) =>
      m.body?.$case === "diagnostic" && m.body.value.attemptId === 7 && m.body.value.name === "rfi_percent" ? [m.body.value] : [],
    );
    assert.equal(values[0]!.value, 2);
  });

  it("results are not replayed with diagnostics: they go after the attempt's log", () => {
    const o = new Outbox();
    o.addResult(result(7));
    assert.deepEqual(replayed(o), []);
  });

  it("forgets an attempt's result, diagnostics and progress, and no other's", () => {
    const o = new Outbox();
    for (const id of [7, 9]) {
      o.addResult(result(id));
      o.addDiagnostic(diagnostic(id, "rfi_percent", 1));
      o.setProgress(progress(id, "folding"));
    }
    o.forget(7);
    o.forget(7);
    o.forget(12);
    assert.deepEqual(o.finishedAttempts(), [9]);
    assert.deepEqual(replayed(o), ["diagnostic 9 rfi_percent", "progress 9 folding"]);
  });
});
