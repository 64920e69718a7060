// The agent's half of the lease, driven with its own clock readings: it stops its
// attempts once a lease (less the time a kill takes) has passed since it sent the
// last heartbeat the coordinator acknowledged, and keeps the watchdog armed for
// that same moment.
import assert from "node:assert/strict";
import { LeaseFence } from "../../../agent/session/lease-fence";

describe("lease fence", () => {
  let fenced: string[];
  let running: boolean;
  let armed: number[];
  let fence: LeaseFence;

  beforeEach(() => {
    fenced = [];
    running = true;
    armed = [];
    fence = new LeaseFence({
      killGraceS: 10,
      fence: (why) => fenced.push(why),
      running: () => running,
      watchdog: { arm: (ms) => armed.push(ms), disarm: () => armed.push(-1) },
      log: { warn: () => {} },
    });
  });
  afterEach(() => fence.stop());

  it("fences a lease less the kill grace after the send of the last acknowledged heartbeat, not after its acknowledgement", () => {
    fence.helloSent();
    fence.welcomed(600);
    const t0 = performance.now();
    const seq = fence.nextSeq();
    // The acknowledgement comes late (a slow network): the lease still counts from the send.
    fence.acked(seq);
    assert.equal(fence.fenceAfterMs(), 589_000, "600 s less the kill grace and a second");
    assert.equal(fence.check(t0 + 588_000), undefined);
    assert.match(fence.check(t0 + 589_500) ?? "", /no lease renewal from the coordinator for 589\.\d s \(lease 600 s\)/);
    assert.equal(fenced.length, 1);
    assert.equal(fence.check(t0 + 600_000), fenced[0], "told once; still fenced");
    assert.equal(fenced.length, 1);
  });

  it("is renewed only by the acknowledgement of a heartbeat it sent", () => {
    fence.helloSent();
    fence.welcomed(600);
    const first = fence.nextSeq();
    const sentFirst = performance.now();
    fence.acked(first);
    fence.acked(12345); // never sent
    assert.equal(fence.check(sentFirst + 588_000), undefined);
    assert.ok(fence.check(sentFirst + 590_000), "a forged ack renewed nothing");
  });

  it("never fences less than half a lease after a renewal, however long the kill grace", () => {
    fence = new LeaseFence({ killGraceS: 30, fence: (w) => fenced.push(w), running: () => running, log: { warn: () => {} } });
    fence.welcomed(20);
    assert.equal(fence.fenceAfterMs(), 10_000);
  });

  it("stops nothing when nothing runs, but keeps the watchdog armed for what may start", () => {
    running = false;
    fence.helloSent();
    fence.welcomed(60);
    assert.equal(fence.check(performance.now() + 120_000), undefined);
    assert.deepEqual(fenced, []);
    assert.ok(armed.length > 0 && armed.at(-1)! <= 0, "armed with the time left (none)");
  });

  it("says the lease has lapsed, with nothing running too, once a fence's time has passed without a renewal, until the next one", () => {
    running = false;
    fence.helloSent();
    fence.welcomed(60);
    const t0 = performance.now();
    assert.equal(fence.lapsed(t0 + 1000), undefined);
    assert.match(
      fence.lapsed(t0 + 60_000) ?? "",
      /no lease renewal from the coordinator for 60\.\d s \(lease 60 s\): the assignment may have gone to another agent/,
    );
    assert.deepEqual(fenced, [], "asking stops nothing");
    fence.acked(fence.nextSeq());
    assert.equal(fence.lapsed(), undefined, "renewed");
  });

  it("remembers a watchdog deadline that passed before the next re-arm: an attempt that ran then was the fence's, even after a renewal", async () => {
    fence.helloSent();
    fence.welcomed(0.2); // fences 100 ms after a renewal
    const startedBefore = performance.now();
    assert.equal(fence.check(), undefined);
    assert.equal(fence.watchdogKilled(startedBefore), undefined, "the deadline has not passed");
    // The agent could not re-arm in time (busy, or its connection dropped): the watchdog's
    // deadline passes, then a renewal comes before anything else.
    await new Promise((r) => setTimeout(r, 150));
    fence.acked(fence.nextSeq());
    assert.deepEqual(fenced, [], "the agent itself never fenced");
    assert.match(fence.watchdogKilled(startedBefore) ?? "", /the fence watchdog may have stopped its steps/);
    assert.equal(fence.watchdogKilled(performance.now() + 1), undefined, "an attempt started since is not concerned");
  });

  it("counts a deadline the watchdog may reach before it hears the re-arm: a renewal a moment before it", () => {
    fence.helloSent();
    fence.welcomed(600);
    const t0 = performance.now();
    fence.check(t0);
    const due = t0 + fence.fenceAfterMs();
    fence.check(due - 5_000);
    assert.equal(fence.watchdogKilled(t0), undefined, "re-armed seconds before the deadline: in time");
    fence.check(due - 100);
    assert.match(fence.watchdogKilled(t0) ?? "", /the fence watchdog may have stopped its steps/, "re-armed 100 ms before it: maybe not");
    assert.deepEqual(fenced, [], "the agent itself never fenced");
  });

  it("does nothing before the coordinator has said its lease", () => {
    assert.equal(fence.lapsed(performance.now() + 10_000_000), undefined);
    assert.equal(fence.check(performance.now() + 10_000_000), undefined);
    assert.deepEqual(armed, []);
  });
});
