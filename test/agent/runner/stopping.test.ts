// Stopping steps: time limit, silence limit and cancel all kill the step's whole process
// group (grandchildren included), and fail it with the matching error class.
import assert from "node:assert/strict";
import fs from "node:fs";
import type { StepStart } from "../../../agent/runner";
import { alive, livePids, MODES, type Mode, newRunner, sh, waitFor } from "./helpers";

// A step whose work happens in grandchildren: bash -c -> (sleep &, sleep). It prints
// "ready" once both exist, so tests can collect their pids first.
const FAMILY = "sleep 300 & sleep 300 & echo ready; wait";

async function startFamily(runner: ReturnType<typeof newRunner>["runner"], mode: Mode, spec: object = {}) {
  let out = "";
  let start: StepStart | undefined;
  const run = runner.run([{ ...sh(FAMILY, "family"), ...spec }, sh("echo later", "later")], {
    onStart: (s) => (start ??= s),
    onOutput: (_i, _n, d) => (out += d.toString()),
  });
  await waitFor(() => out.includes("ready"), 3000, "the step to start its children");
  const pgid = start!.pgid!;
  // under a pty: the wrapper, the subshell-exec'd bash and two sleeps; with pipes no wrapper
  const members = mode === "pty" ? 4 : 3;
  await waitFor(() => livePids(pgid).length >= members, 2000, "the step's bash and two sleeps");
  return { run, pgid, pids: livePids(pgid), startedMs: Date.now() };
}

for (const mode of MODES)
  describe(`StepRunner (${mode}): stopping steps`, function () {
    it("cancel kills the step's grandchildren, fails it as cancelled, and no later step starts", async () => {
      const { runner, stateDir } = newRunner(undefined, 0.5, mode);
      const { run, pgid, pids } = await startFamily(runner, mode);
      assert.ok(fs.readdirSync(stateDir).includes(`pgid-${pgid}.json`), "the running group is recorded");
      const t0 = Date.now();
      await runner.cancel("operator asked");
      const cancelMs = Date.now() - t0;
      for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} survived cancel`);
      const res = await run;
      assert.equal(res.ok, false);
      assert.equal(res.steps.length, 1, "the second step never ran");
      assert.equal(res.failed!.errorClass, "cancelled");
      assert.match(res.failed!.error!, /cancelled: operator asked; process group \d+ killed with SIGTERM/);
      assert.equal(res.failed!.signal, "SIGTERM", "the program died of the SIGTERM");
      assert.ok(cancelMs < 400, `cancel took ${cancelMs} ms although everything dies on SIGTERM`);
      assert.deepEqual(fs.readdirSync(stateDir), [], "record removed once the group is gone");
    });

    it("cancel escalates to SIGKILL after killGraceS when the step ignores SIGTERM", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      let out = "";
      const run = runner.run([sh("trap '' TERM; sleep 300 & echo ready; while :; do sleep 0.05; done")], {
        onOutput: (_i, _n, d) => (out += d.toString()),
      });
      await waitFor(() => out.includes("ready"), 3000, "ready");
      const t0 = Date.now();
      await runner.cancel("shutdown");
      const ms = Date.now() - t0;
      const res = await run;
      assert.ok(ms >= 450 && ms < 1500, `cancel took ${ms} ms with a 0.5 s grace`);
      assert.equal(res.failed!.errorClass, "cancelled");
      assert.match(res.failed!.error!, /killed with SIGKILL/);
      assert.equal(res.failed!.signal, "SIGKILL");
      assert.ok(res.failed!.cpuS >= 0);
    });

    it("cancel while idle is a no-op and does not poison the next run", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      await runner.cancel("nothing running");
      const res = await runner.run([sh("true")], {});
      assert.equal(res.ok, true);
      await runner.cancel("after the run");
    });

    it("cancel between steps stops the next one from starting", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const started: number[] = [];
      const res = await runner.run([sh("true", "a"), sh("true", "b")], {
        onStart: (s) => started.push(s.index),
        onFinish: (o) => {
          if (o.index === 0) void runner.cancel("between");
        },
      });
      assert.deepEqual(started, [0]);
      assert.equal(res.ok, false);
      assert.equal(res.failed!.index, 1);
      assert.equal(res.failed!.errorClass, "cancelled");
      assert.match(res.failed!.error!, /before start: between/);
    });

    it("timeoutS kills the whole group and fails the step with errorClass timeout", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const { run, pids, startedMs } = await startFamily(runner, mode, { timeoutS: 1 });
      const res = await run;
      const ms = Date.now() - startedMs;
      for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} survived the timeout`);
      assert.equal(res.steps.length, 1);
      assert.equal(res.failed!.errorClass, "timeout");
      assert.match(res.failed!.error!, /exceeded its time limit of 1 s \(timeoutS\); process group \d+ killed/);
      assert.ok(res.failed!.wallS >= 0.95 && res.failed!.wallS < 2, `wallS ${res.failed!.wallS}`);
      assert.ok(ms < 1500, `resolved ${ms} ms after the step got going`);
    });

    it("idleTimeoutS fails a silent step with errorClass no_output, but output keeps a step alive", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      // ticks at 0, 0.3, ... 1.2 s (running past the 1 s limit, never silent for 1 s), then goes
      // quiet: the limit fires 1 s after the last tick
      const res = await runner.run([{ ...sh("for i in 1 2 3 4 5; do echo tick; sleep 0.3; done; sleep 300", "quiet"), idleTimeoutS: 1 }], {});
      assert.equal(res.failed!.errorClass, "no_output");
      assert.match(res.failed!.error!, /produced no output for 1 s \(idleTimeoutS\); process group \d+ killed with SIGTERM/);
      assert.ok(res.failed!.wallS >= 2.1 && res.failed!.wallS < 3, `wallS ${res.failed!.wallS}`);
    });

    it("a step that exits leaves nothing running in its group (SIGHUP-immune leftovers are killed)", async () => {
      const { runner, stateDir } = newRunner(undefined, 0.5, mode);
      let leftover = 0;
      let out = "";
      const res = await runner.run([sh("nohup sleep 300 >/dev/null 2>&1 & echo $!; sleep 0.1")], {
        onOutput: (_i, _n, d) => {
          out += d.toString();
          leftover ||= Number(/^(\d+)\r?\n/.exec(out)?.[1] ?? 0);
        },
      });
      assert.equal(res.ok, true, "the step's own outcome stands");
      assert.ok(leftover > 0);
      assert.equal(alive(leftover), false, "the nohup'd leftover was terminated");
      assert.deepEqual(fs.readdirSync(stateDir), []);
    });

    it("cancel racing a finishing step keeps the step's own outcome", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      let pgid = 0;
      const run = runner.run([sh("sleep 0.05")], { onStart: (s) => (pgid = s.pgid ?? 0) });
      // late: once the program has ended (on a busy machine that can take longer than its 50 ms)
      await waitFor(() => pgid > 0 && livePids(pgid).length === 0, 5000, "the program to end");
      await runner.cancel("late");
      const res = await run;
      assert.equal(res.ok, true);
    });
  });
