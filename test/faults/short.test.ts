// The fault suite's short form (npm test): two seeded scenarios of a few faults each on a
// real cluster; the long form is `npm run test:faults` (test/faults/long.faults.ts, not a *.test.ts so the unit run leaves it).
// Scenario 2 failed before agents fenced themselves and full disks were waited out (a frozen,
// cut-off or killed agent's step ran on while its beam ran elsewhere; a full disk counted
// against the beam); the checks stay strict.
import assert from "node:assert/strict";
import { describeReport, FaultScenario, type ScenarioOptions } from "./harness";

const BASE: Omit<ScenarioOptions, "kinds" | "seed"> = { agents: 2, jobs: 6, corrupt: 1, hanging: 1, faults: 3, leaseS: 3, lines: 8, settleMs: 45_000 };

function scenario(name: string, o: Pick<ScenarioOptions, "kinds" | "seed"> & Partial<ScenarioOptions>): void {
  it(name, async function () {
    this.timeout(240_000);
    const s = new FaultScenario({ ...BASE, ...o });
    try {
      await s.setup();
      const report = await s.run();
      assert.deepEqual(report.violations, [], describeReport(report));
    } finally {
      await s.cleanup();
    }
  });
}

describe("fault suite (short form)", () => {
  scenario("connections dropped, the coordinator killed and restarted", { seed: 11, kinds: ["drop", "kill-coordinator"] });
  scenario("agents killed or frozen, the network stalled and the coordinator frozen past the lease, full disks", {
    seed: 12,
    kinds: ["kill-agent", "stop-agent", "stall-net", "stall-coordinator", "fill-work", "fill-scratch"],
    faults: 4,
  });
});
