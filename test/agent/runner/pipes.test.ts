// What is particular to pipe steps (started by the spawner): the log spool's gate blocks
// the program itself, exit statuses are exact, output after the program has exited is
// cut without waiting for what it left behind, and no python3 means ptys.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { PgidRecord } from "../../../agent/runner";
import { outputGate } from "../../../agent/runner/output-gate";
import { bootId, readProcStat } from "../../../agent/runner/procfs";
import { Spawner, type SpawnerEvent, stepSpawner } from "../../../agent/runner/spawner";
import { alive, newRunner, sh, waitFor } from "./helpers";

describe("StepRunner (pipe): pipes", function () {
  it("a shut output gate blocks the program on its writes (nothing dropped, nothing buffered), and the step goes on when it opens", async () => {
    const { runner } = newRunner();
    let bytes = 0;
    let pid = 0;
    outputGate.close();
    try {
      const run = runner.run([{ ...sh("head -c 8000000 /dev/zero; echo; echo END"), idleTimeoutS: 1 }], {
        onStart: (s) => (pid = s.pgid!),
        onOutput: (_i, _n, d) => (bytes += d.length),
      });
      await waitFor(() => pid > 0, 5000, "the step to start");
      // longer than the idle limit: a held-back step is not idle
      await sleep(1500);
      assert.ok(alive(pid), "the program is still there, blocked on its write");
      assert.ok(bytes < 8_000_000, `${bytes} bytes read through a shut gate`);
      outputGate.open();
      const res = await run;
      assert.equal(res.ok, true, res.failed?.error);
      assert.equal(bytes, 8_000_000 + "\nEND\n".length);
    } finally {
      outputGate.open();
    }
  });

  it("records the running group with its leader's start time, as read from /proc", async () => {
    const { runner, stateDir } = newRunner();
    let pgid = 0;
    const run = runner.run([sh("sleep 0.5")], { onStart: (s) => (pgid = s.pgid!) });
    await waitFor(() => pgid > 0, 5000, "the step to start");
    const rec = JSON.parse(fs.readFileSync(path.join(stateDir, `pgid-${pgid}.json`), "utf8")) as PgidRecord;
    assert.equal(rec.pgid, pgid);
    assert.equal(rec.startTicks, readProcStat(pgid)!.startTicks);
    assert.equal(rec.bootId, bootId());
    assert.equal((await run).ok, true);
    assert.deepEqual(fs.readdirSync(stateDir), []);
  });

  it("reports a program's own exit status 137 as an exit code, not as SIGKILL", async () => {
    const { runner } = newRunner();
    const res = await runner.run([sh("exit 137")], {});
    assert.equal(res.failed!.exitCode, 137);
    assert.equal(res.failed!.signal, undefined);
    assert.equal(res.failed!.errorClass, "exit_code");
  });

  it("ends the step when its program exits: output of what it left behind is cut, and they are terminated", async () => {
    const { runner } = newRunner();
    let out = "";
    let leftover = 0;
    const t0 = Date.now();
    const res = await runner.run([sh("(sleep 2; echo late) & echo $!; echo early")], {
      onOutput: (_i, _n, d) => {
        out += d.toString();
        leftover ||= Number(/^(\d+)\n/.exec(out)?.[1] ?? 0);
      },
    });
    assert.equal(res.ok, true);
    assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    assert.match(out, /^\d+\nearly\n$/);
    assert.ok(leftover > 0);
    await waitFor(() => !alive(leftover), 2000, "the leftover to be gone");
  });

  it("the spawner says when a reaped program's group is empty, and only then (the runner skips its own look)", async () => {
    const exitOf = (argv: string[]) =>
      new Promise<{ exit: SpawnerEvent; pgid: number }>((resolve) => {
        let pgid = 0;
        stepSpawner().spawn(
          { argv, cwd: os.tmpdir() },
          {
            onEvent: (e) => {
              if (e.ev === "started") pgid = e.pid;
              else resolve({ exit: e as SpawnerEvent, pgid });
            },
            attach: (sock) => sock.resume(),
          },
        );
      });
    const plain = await exitOf(["true"]);
    assert.deepEqual([plain.exit.ev, (plain.exit as { groupGone?: boolean }).groupGone], ["exit", true]);
    // A background child outlives the program, in its group.
    const left = await exitOf(["sh", "-c", "sleep 30 & exit 0"]);
    try {
      assert.deepEqual([left.exit.ev, (left.exit as { groupGone?: boolean }).groupGone], ["exit", undefined]);
    } finally {
      process.kill(-left.pgid, "SIGKILL");
    }
  });

  it("says so when no python3 can run the spawner (the runner then uses ptys)", async () => {
    const sp = new Spawner("beamflow-no-such-python");
    const events: string[] = [];
    await new Promise<void>((resolve) =>
      sp.spawn(
        { argv: ["true"], cwd: os.tmpdir() },
        {
          onEvent: (e) => {
            events.push(e.ev);
            resolve();
          },
          attach: (s) => s.destroy(),
        },
      ),
    );
    assert.deepEqual(events, ["unavailable"]);
    assert.equal(sp.usable, false);
  });
  it("finds a program in PATH again at once when it is gone from where it was found", async () => {
    const { runner } = newRunner();
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-path-"));
    try {
      const [first, second] = ["first", "second"].map((d) => {
        fs.mkdirSync(path.join(base, d));
        const prog = path.join(base, d, "beamflow-which");
        fs.writeFileSync(prog, `#!/bin/sh\necho ${d}\n`, { mode: 0o755 });
        return prog;
      });
      const env = { PATH: `${path.dirname(first!)}:${path.dirname(second!)}:/usr/bin:/bin` };
      const which = async () => {
        let out = "";
        const res = await runner.run([{ name: "which", argv: ["beamflow-which"], cwd: base, env }], { onOutput: (_i, _n, d) => (out += d.toString()) });
        assert.equal(res.ok, true, res.failed?.error);
        return out.trim();
      };
      assert.equal(await which(), "first");
      assert.equal(await which(), "first");
      fs.chmodSync(first!, 0o644);
      assert.equal(await which(), "second", "no longer executable where it was found");
      fs.rmSync(second!);
      fs.chmodSync(first!, 0o755);
      assert.equal(await which(), "first", "gone from where it was found");
    } finally {
      fs.rmSync(base, { recursive: true, force: true });
    }
  });
});
