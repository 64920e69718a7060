// The step executor: an attempt's steps several at once, sharing one state dir, each with
// its own outcome.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { StepExecutor, StepFailed } from "../../../agent/runner/step-executor";
import { logger, MODES, sh, tmpDir } from "./helpers";

for (const mode of MODES)
  describe(`StepExecutor (${mode})`, function () {
    it("runs steps at once in one state dir, each with its own exit status and output; nothing is left there", async () => {
      const stateBase = path.join(tmpDir(), ".steps");
      const out = new Map<number, string>();
      const ex = new StepExecutor({
        slots: 4,
        stateBase,
        killGraceS: 0.5,
        log: logger,
        events: { onOutput: (i, _n, d) => out.set(i, (out.get(i) ?? "") + d.toString()) },
      });
      const pty = mode === "pty";
      const results = await Promise.allSettled(Array.from({ length: 8 }, (_, k) => ex.run({ ...sh(`sleep 0.0${k}; echo step ${k}`, `s${k}`), pty })));
      assert.ok(results.every((r) => r.status === "fulfilled"));
      assert.equal(ex.outcomes.length, 8);
      for (const o of ex.outcomes) assert.equal(out.get(o.index)?.trim(), `step ${o.name.slice(1)}`);
      assert.deepEqual(fs.readdirSync(stateBase), []);

      // distinct exit codes at once: each step reads its own status
      const ex2 = new StepExecutor({ slots: 4, stateBase, killGraceS: 0.5, log: logger, events: {} });
      const codes = await Promise.allSettled([3, 5, 7, 9].map((c) => ex2.run({ ...sh(`sleep 0.05; exit ${c}`, `c${c}`), pty })));
      const got = codes.map((r) => (r.status === "rejected" && r.reason instanceof StepFailed ? r.reason.outcome : undefined));
      for (const [k, c] of [3, 5, 7, 9].entries()) {
        const o = got[k];
        // the first failure cancels the others; those that finished on their own say their code
        if (o && o.errorClass === "exit_code") assert.equal(o.exitCode, c, JSON.stringify(o));
      }
      assert.ok(got.some((o) => o?.errorClass === "exit_code"));
      assert.deepEqual(fs.readdirSync(stateBase), []);
    });
  });
