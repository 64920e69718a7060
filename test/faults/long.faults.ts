// The fault suite's long form: `npm run test:faults` (FAULT_SEED=N to replay a run; a random
// seed otherwise, printed). 200 beams through 4 agents with at least 30 faults of every kind.
import assert from "node:assert/strict";
import { describeReport, FaultScenario } from "./harness";

describe("fault suite (long form)", () => {
  it("200 beams through 4 agents under 30+ faults", async function () {
    this.timeout(0);
    const seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const faults = Math.max(30, Number(process.env.FAULT_COUNT ?? 36));
    const s = new FaultScenario({
      seed,
      agents: 4,
      jobs: 190,
      corrupt: 6,
      hanging: 4,
      faults,
      kinds: ["kill-agent", "stop-agent", "kill-coordinator", "stall-coordinator", "drop", "stall-net", "fill-work", "fill-scratch", "fill-data"],
      leaseS: 4,
      lines: 20,
      settleMs: 600_000,
    });
    try {
      await s.setup();
      const report = await s.run();
      console.log(describeReport(report));
      assert.deepEqual(report.violations, [], describeReport(report));
    } finally {
      await s.cleanup();
    }
  });
});
