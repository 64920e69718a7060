// Many short steps in a row: each runs and is recorded, with pipes and under a pty. How
// fast is for the benchmark to say (`npm run bench -- steps`), not for a functional test.
import assert from "node:assert/strict";
import os from "node:os";
import { MODES, newRunner } from "./helpers";

for (const mode of MODES)
  describe(`StepRunner (${mode}): many short steps`, function () {
    it("runs 50 `true` steps one after another, each with its own process group", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const steps = Array.from({ length: 50 }, (_, i) => ({ name: `t${i}`, argv: ["true"], cwd: os.tmpdir() }));
      const res = await runner.run(steps, {});
      assert.equal(res.ok, true);
      assert.equal(res.steps.length, 50);
      assert.equal(new Set(res.steps.map((s) => s.pgid)).size, 50);
      for (const s of res.steps) {
        assert.equal(s.exitCode, 0);
        // pipe steps also say how long the program itself lived, which the benchmark uses
        if (mode === "pipe") assert.ok(s.programWallS !== undefined && s.programWallS <= s.wallS + 0.001, JSON.stringify(s));
      }
    });
  });
