// Measures (and loosely bounds) what the runner adds per step: pty + wrapper bash +
// subshell exec + status file + /proc group check. Prints the figure for the record.
import assert from "node:assert/strict";
import os from "node:os";
import { newRunner } from "./helpers";

describe("StepRunner: per-step overhead", function () {
  it("runs 50 `true` steps quickly", async () => {
    const { runner } = newRunner();
    const steps = Array.from({ length: 50 }, (_, i) => ({ name: `t${i}`, argv: ["true"], cwd: os.tmpdir() }));
    const t0 = process.hrtime.bigint();
    const res = await runner.run(steps, {});
    const msPerStep = Number(process.hrtime.bigint() - t0) / 1e6 / steps.length;
    assert.equal(res.ok, true);
    assert.equal(res.steps.length, 50);
    console.log(`      spawn overhead: ${msPerStep.toFixed(1)} ms per step (50 x true)`);
    assert.ok(msPerStep < 100, `${msPerStep} ms per step`);
  });
});
