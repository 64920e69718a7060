// Heartbeats: sent only on a welcomed stream, each with fresh resources, the held
// attempts and the capabilities; the refusal path re-sends the last measured
// resources at once instead of waiting for a new measurement.
import assert from "node:assert/strict";
import { Heartbeat } from "../../../agent/session/heartbeat";
import { type AgentMessage, type HeldAttempt, Resources } from "../../../shared/gen/agent";
import type { Capabilities } from "../../../shared/gen/common";
import { jobTypeToWire, SEARCH_JOB_TYPE } from "../../../shared/protocol/job-types";

describe("agent heartbeat", () => {
  let connected: boolean;
  let sent: AgentMessage[];
  let measured: number;
  let held: HeldAttempt[];
  const capabilities: Capabilities = { jobTypes: [{ jobType: jobTypeToWire(SEARCH_JOB_TYPE), fit: true, reason: "" }], checkedAt: 1, toolchain: "t" };
  let beat: Heartbeat;

  beforeEach(() => {
    connected = true;
    sent = [];
    measured = 0;
    held = [{ attemptId: 7, finished: false }];
    beat = new Heartbeat({
      measure: async () => Resources.fromPartial({ cores: ++measured }),
      held: () => held,
      capabilities: () => capabilities,
      connected: () => connected,
      send: (m) => sent.push(m),
      nextSeq: () => sent.length + 1,
      endTime: () => 0,
    });
  });
  afterEach(() => beat.stop());

  const heartbeats = () => sent.map((m) => (m.body?.$case === "heartbeat" ? m.body.value : assert.fail(`not a heartbeat: ${m.body?.$case}`)));

  it("beats with fresh resources, what the agent holds and what it can run", async () => {
    await beat.beatNow();
    held = [];
    await beat.beatNow();
    const [first, second] = heartbeats();
    assert.equal(first!.resources!.cores, 1);
    assert.deepEqual(first!.held, [{ attemptId: 7, finished: false }]);
    assert.deepEqual(first!.capabilities, capabilities);
    assert.equal(second!.resources!.cores, 2, "measured again for each beat");
    assert.deepEqual(second!.held, []);
  });

  it("does not measure or send without a welcomed stream", async () => {
    connected = false;
    await beat.beatNow();
    assert.equal(measured, 0);
    assert.deepEqual(sent, []);
  });

  it("sendLast sends the last measurement at once, and nothing before the first", async () => {
    beat.sendLast();
    assert.deepEqual(sent, []);
    await beat.measure();
    beat.sendLast();
    assert.equal(measured, 1, "no new measurement");
    assert.equal(heartbeats()[0]!.resources!.cores, 1);
  });

  it("beats on its timer until stopped", async () => {
    beat.start(0.02);
    await new Promise((r) => setTimeout(r, 150));
    beat.stop();
    const n = sent.length;
    assert.ok(n >= 2, `${n} beats in 150 ms at 20 ms`);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(sent.length, n, "none after stop");
  });
});
