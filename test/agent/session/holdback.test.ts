// Accepts and step updates held back briefly on the agent: a newer update of the same step
// replaces an older one, an attempt whose result goes out first needs none, the rest go in
// order, accepts first; accepts are held only for a coordinator that takes a result as one.
import assert from "node:assert/strict";
import { Holdback } from "../../../agent/session/holdback";
import { type AgentMessage, StepState, type StepUpdate } from "../../../shared/gen/agent";

const update = (attemptId: number, index: number, state: StepState): StepUpdate => ({
  attemptId,
  state,
  step: { index, name: `s${index}`, argv: ["prog"], startedAt: 1000, wallS: state === StepState.STEP_FINISHED ? 1 : 0, cpuS: 0, signal: "", error: "" },
});
const told = (sent: AgentMessage[]) =>
  sent.map((m) => {
    const b = m.body;
    if (b?.$case === "assignReply") {
      assert.equal(b.value.accepted, true);
      return `${b.value.attemptId}/accept`;
    }
    assert.equal(b?.$case, "stepUpdate");
    const u = (b as { value: StepUpdate }).value;
    return `${u.attemptId}/${u.step!.index}/${u.state === StepState.STEP_FINISHED ? "end" : "start"}`;
  });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("accepts and step updates on their way to the coordinator", () => {
  it("sends nothing before the window is over, then each step's newest update, steps in the order first told", async () => {
    const sent: AgentMessage[] = [];
    const held = new Holdback((m) => sent.push(m), 20);
    held.update(update(1, 0, StepState.STEP_STARTED));
    held.update(update(2, 0, StepState.STEP_STARTED));
    held.update(update(1, 0, StepState.STEP_FINISHED));
    held.update(update(1, 1, StepState.STEP_STARTED));
    assert.deepEqual(sent, []);
    await sleep(50);
    assert.deepEqual(told(sent), ["1/0/end", "2/0/start", "1/1/start"]);
    held.close();
  });

  it("drops the updates of an attempt whose result is reported (the result lists its steps), and only those", () => {
    const sent: AgentMessage[] = [];
    const held = new Holdback((m) => sent.push(m), 60_000);
    held.update(update(1, 0, StepState.STEP_FINISHED));
    held.update(update(11, 0, StepState.STEP_STARTED)); // an id that starts like 1's must stay
    held.update(update(1, 1, StepState.STEP_FINISHED));
    held.reported(1);
    held.flush();
    assert.deepEqual(told(sent), ["11/0/start"]);
    held.close();
  });

  it("starts a new window after each flush, and close drops what is held", async () => {
    const sent: AgentMessage[] = [];
    const held = new Holdback((m) => sent.push(m), 10);
    held.update(update(1, 0, StepState.STEP_STARTED));
    await sleep(30);
    held.update(update(1, 0, StepState.STEP_FINISHED));
    await sleep(30);
    assert.deepEqual(told(sent), ["1/0/start", "1/0/end"]);
    held.update(update(1, 1, StepState.STEP_STARTED));
    held.close();
    await sleep(30);
    assert.equal(sent.length, 2);
  });

  it("accepts at once for a coordinator that does not take a result as the accept", () => {
    const sent: AgentMessage[] = [];
    const held = new Holdback((m) => sent.push(m), 60_000);
    held.restart(false);
    held.accept(5);
    assert.deepEqual(told(sent), ["5/accept"]);
    held.close();
  });

  it("holds an accept for one that does: sent at the window's end before the attempt's updates, or never once its result went", async () => {
    const sent: AgentMessage[] = [];
    const held = new Holdback((m) => sent.push(m), 20);
    held.restart(true);
    held.accept(7);
    held.accept(8);
    held.update(update(7, 0, StepState.STEP_STARTED));
    held.accept(8); // a re-sent Assign: still one accept
    held.forget(8); // its result is on the stream
    assert.deepEqual(sent, []);
    await sleep(50);
    assert.deepEqual(told(sent), ["7/accept", "7/0/start"]);
    // A reported result that has not gone yet (its log is still on its way) keeps the accept.
    held.accept(9);
    held.reported(9);
    await sleep(50);
    assert.deepEqual(told(sent).slice(2), ["9/accept"]);
    held.close();
  });

  it("drops the accepts held for a stream that is gone: the next Hello lists those attempts as held", () => {
    const sent: AgentMessage[] = [];
    const held = new Holdback((m) => sent.push(m), 60_000);
    held.restart(true);
    held.accept(3);
    held.restart(true);
    held.flush();
    assert.deepEqual(sent, []);
    held.close();
  });
});
