// Step updates held briefly on the agent: a newer update of the same step replaces an
// older one, an attempt whose result goes out first needs none, the rest go in order.
import assert from "node:assert/strict";
import { StepUpdates } from "../../../agent/session/step-updates";
import { type AgentMessage, StepState, type StepUpdate } from "../../../shared/gen/agent";

const update = (attemptId: number, index: number, state: StepState): StepUpdate => ({
  attemptId,
  state,
  step: { index, name: `s${index}`, argv: ["prog"], startedAt: 1000, wallS: state === StepState.STEP_FINISHED ? 1 : 0, cpuS: 0, signal: "", error: "" },
});
const told = (sent: AgentMessage[]) =>
  sent.map((m) => {
    assert.equal(m.body?.$case, "stepUpdate");
    const u = (m.body as { value: StepUpdate }).value;
    return `${u.attemptId}/${u.step!.index}/${u.state === StepState.STEP_FINISHED ? "end" : "start"}`;
  });

describe("step updates on their way to the coordinator", () => {
  it("sends nothing before the window is over, then each step's newest update, steps in the order first told", async () => {
    const sent: AgentMessage[] = [];
    const updates = new StepUpdates((m) => sent.push(m), 20);
    updates.add(update(1, 0, StepState.STEP_STARTED));
    updates.add(update(2, 0, StepState.STEP_STARTED));
    updates.add(update(1, 0, StepState.STEP_FINISHED));
    updates.add(update(1, 1, StepState.STEP_STARTED));
    assert.deepEqual(sent, []);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(told(sent), ["1/0/end", "2/0/start", "1/1/start"]);
    updates.close();
  });

  it("drops the updates of an attempt whose result goes out (the result lists its steps), and only those", () => {
    const sent: AgentMessage[] = [];
    const updates = new StepUpdates((m) => sent.push(m), 60_000);
    updates.add(update(1, 0, StepState.STEP_FINISHED));
    updates.add(update(11, 0, StepState.STEP_STARTED)); // an id that starts like 1's must stay
    updates.add(update(1, 1, StepState.STEP_FINISHED));
    updates.drop(1);
    updates.flush();
    assert.deepEqual(told(sent), ["11/0/start"]);
    updates.close();
  });

  it("starts a new window after each flush, and close drops what is held", async () => {
    const sent: AgentMessage[] = [];
    const updates = new StepUpdates((m) => sent.push(m), 10);
    updates.add(update(1, 0, StepState.STEP_STARTED));
    await new Promise((r) => setTimeout(r, 30));
    updates.add(update(1, 0, StepState.STEP_FINISHED));
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(told(sent), ["1/0/start", "1/0/end"]);
    updates.add(update(1, 1, StepState.STEP_STARTED));
    updates.close();
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(sent.length, 2);
  });
});
