// The agent's fitness monitor with stand-in checks: a full check at start, a
// cheap look every checkS that checks in full only when the fingerprint changed
// (or fullCheckS passed), and a change handed on once.
import assert from "node:assert/strict";
import { FitnessMonitor } from "../../../agent/fitness/monitor";
import type { Capabilities } from "../../../shared/gen/common";
import { silentLogger } from "../../../shared/logging/logger";
import { JobType } from "../../../shared/gen/common";

const caps = (fit: boolean, reason = ""): Capabilities => ({
  jobTypes: [{ jobType: JobType.JOB_TYPE_PALFA_SEARCH, fit, reason }],
  checkedAt: Date.now() / 1000,
  toolchain: "",
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("agent fitness monitor", () => {
  let monitor: FitnessMonitor | undefined;
  afterEach(() => monitor?.stop());

  it("checks in full at start, then only when the fingerprint changes, and hands on each change once", async () => {
    let print = "a";
    let fit = false;
    let fulls = 0;
    const changes: Capabilities[] = [];
    monitor = new FitnessMonitor(
      {
        full: async () => {
          fulls++;
          return caps(fit, fit ? "" : "accelsearch not found");
        },
        fingerprint: () => print,
      },
      { checkS: 0.02, fullCheckS: 3600 },
      silentLogger(),
      (c) => {
        changes.push(c);
      },
    );
    await monitor.start();
    assert.equal(fulls, 1);
    assert.equal(monitor.unfitFor(JobType.JOB_TYPE_PALFA_SEARCH), "accelsearch not found");
    assert.equal(monitor.unfitFor(JobType.JOB_TYPE_COMMANDS), undefined, "a type it does not list: no objection");
    await sleep(150);
    assert.equal(fulls, 1, "nothing changed: no full check");
    fit = true;
    print = "b";
    await sleep(150);
    assert.equal(fulls, 2);
    assert.equal(monitor.unfitFor(JobType.JOB_TYPE_PALFA_SEARCH), undefined);
    assert.deepEqual(
      changes.map((c) => c.jobTypes[0].fit),
      [false, true],
    );
    assert.equal(await monitor.recheck("attempt failed"), false, "a recheck that finds the same says so");
  });

  it("checks in full every fullCheckS even when nothing seems to change", async () => {
    let fulls = 0;
    monitor = new FitnessMonitor(
      {
        full: async () => {
          fulls++;
          return caps(true);
        },
        fingerprint: () => "same",
      },
      { checkS: 0.02, fullCheckS: 0.05 },
      silentLogger(),
      () => {},
    );
    await monitor.start();
    await sleep(300);
    assert.ok(fulls >= 3, `${fulls} full checks`);
  });
});
