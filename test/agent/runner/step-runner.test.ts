// StepRunner end to end with real processes, each test with pipes (through the spawner)
// and under a real pty: sequencing, exit status, signals, CPU and wall time, spawn
// failures, argv passing and output streaming.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { StepOutcome, StepStart } from "../../../agent/runner";
import { MODES, newRunner, sh, tmpDir } from "./helpers";

for (const mode of MODES)
  describe(`StepRunner (${mode}): running steps`, function () {
    // a pty turns \n into \r\n
    const nl = mode === "pty" ? "\r\n" : "\n";
    it("runs a sequence of 3 steps with sane timing and counts CPU of the process tree", async () => {
      const { runner, stateDir } = newRunner(undefined, 0.5, mode);
      const starts: StepStart[] = [];
      const finishes: StepOutcome[] = [];
      const before = Date.now() / 1000;
      // Step 1 burns CPU in a grandchild (bash -> bash -c -> sha256sum): the wrapper's
      // `times` must still count it.
      const res = await runner.run(
        [
          sh("echo one"),
          sh("head -c 40000000 /dev/zero | sha256sum > /dev/null; echo burnt", "burn"),
          { name: "three", argv: ["sleep", "0.2"], cwd: os.tmpdir() },
        ],
        { onStart: (s) => starts.push(s), onFinish: (o) => finishes.push(o) },
      );
      const after = Date.now() / 1000;
      assert.equal(res.ok, true);
      assert.equal(res.failed, undefined);
      assert.equal(res.steps.length, 3);
      assert.deepEqual(
        starts.map((s) => s.index),
        [0, 1, 2],
      );
      assert.deepEqual(finishes, res.steps);
      for (const [i, o] of res.steps.entries()) {
        assert.equal(o.index, i);
        assert.equal(o.exitCode, 0);
        assert.equal(o.signal, undefined);
        assert.equal(o.errorClass, undefined);
        assert.equal(o.error, undefined);
        assert.ok(o.startedAt >= before - 0.01 && o.startedAt <= after, `startedAt ${o.startedAt}`);
        assert.ok(o.wallS >= 0 && o.wallS < 5, `wallS ${o.wallS}`);
        assert.ok(o.cpuS >= 0, `cpuS ${o.cpuS}`);
        assert.equal(typeof o.pgid, "number");
        if (i > 0) assert.ok(o.startedAt >= res.steps[i - 1]!.startedAt + res.steps[i - 1]!.wallS - 0.01, "steps run one after another");
      }
      const burn = res.steps[1]!;
      assert.ok(burn.cpuS > 0.05, `burn step cpuS ${burn.cpuS}`);
      assert.ok(burn.cpuS <= burn.wallS * os.cpus().length + 0.05, `cpu ${burn.cpuS} vs wall ${burn.wallS}`);
      const sleeper = res.steps[2]!;
      assert.ok(sleeper.wallS >= 0.19 && sleeper.wallS < 1.5, `sleep 0.2 took ${sleeper.wallS}`);
      assert.ok(sleeper.cpuS < 0.1, `sleep used cpu ${sleeper.cpuS}`);
      // nothing left behind in the state dir once steps are over
      assert.deepEqual(fs.readdirSync(stateDir), []);
    });

    it("stops at a non-zero exit, reports its code and quotes the last output line", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const started: number[] = [];
      const res = await runner.run([sh("echo fine"), sh("echo 'ERROR: beam_0012.fil missing' >&2; exit 3", "bad"), sh("echo never")], {
        onStart: (s) => started.push(s.index),
      });
      assert.equal(res.ok, false);
      assert.deepEqual(started, [0, 1]);
      assert.equal(res.steps.length, 2);
      const f = res.failed!;
      assert.equal(f, res.steps[1]);
      assert.equal(f.name, "bad");
      assert.equal(f.exitCode, 3);
      assert.equal(f.signal, undefined);
      assert.equal(f.errorClass, "exit_code");
      assert.match(f.error!, /exited with code 3/);
      assert.match(f.error!, /ERROR: beam_0012\.fil missing/);
    });

    it("success means exit 0 only: stderr output alone does not fail a step", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const res = await runner.run([sh("echo 'warning: something' >&2; exit 0")], {});
      assert.equal(res.ok, true);
    });

    it("reports death by signal (SIGKILL) by name", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const res = await runner.run([sh("kill -9 $$", "suicide")], {});
      assert.equal(res.ok, false);
      assert.equal(res.failed!.signal, "SIGKILL");
      assert.equal(res.failed!.exitCode, undefined);
      assert.equal(res.failed!.errorClass, "signal");
      assert.match(res.failed!.error!, /killed by SIGKILL/);
    });

    it("reports a program that is not on PATH as a spawn failure naming it", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      let output = "";
      const res = await runner.run([{ name: "nope", argv: ["beamflow-no-such-program", "x"], cwd: os.tmpdir() }], {
        onOutput: (_i, _n, d) => (output += d.toString()),
      });
      assert.equal(res.ok, false);
      assert.equal(res.failed!.errorClass, "spawn");
      assert.match(res.failed!.error!, /beamflow-no-such-program: command not found/);
      assert.match(output, /beamflow-no-such-program: command not found in PATH \(PATH=/, "the log shows the PATH searched");
    });

    it("reports a missing path, a non-executable file and a bad cwd as spawn failures", async () => {
      const dir = tmpDir();
      const plain = path.join(dir, "data.txt");
      fs.writeFileSync(plain, "not a program\n");
      const cases: Array<[string[], string, RegExp]> = [
        [[path.join(dir, "missing")], dir, /no such file/],
        [[plain], dir, /not executable/],
        [["true"], path.join(dir, "no-such-dir"), /cwd .* not usable: ENOENT/],
        [[], dir, /empty argv/],
      ];
      for (const [argv, cwd, re] of cases) {
        const { runner } = newRunner(undefined, 0.5, mode);
        const starts: StepStart[] = [];
        const res = await runner.run([{ name: "s", argv, cwd }], { onStart: (s) => starts.push(s) });
        assert.equal(res.failed?.errorClass, "spawn", JSON.stringify(argv));
        assert.match(res.failed!.error!, re);
        assert.equal(starts.length, 1, "a step that could not start is still announced");
      }
    });

    it("passes argv through literally: spaces, quotes, $HOME, globs, a leading dash", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const args = ["a b", "'single'", '"double"', "$HOME", "*", "`id`", "$(echo x)", "; exit 9", "", "-n"];
      let out = "";
      const res = await runner.run([{ name: "printf", argv: ["printf", "[%s]\\n", ...args], cwd: os.tmpdir() }], {
        onOutput: (_i, _n, d) => (out += d.toString()),
      });
      assert.equal(res.ok, true);
      assert.equal(out, args.map((a) => `[${a}]${nl}`).join(""));
    });

    it("runs in cwd with the agent's env plus the step's env; a wide dumb pty, or no terminal and /dev/null as stdin", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const dir = fs.realpathSync(tmpDir());
      let out = "";
      const script =
        'echo "$PWD|$BEAM|$TERM|${PATH:+haspath}"; if [ -t 1 ]; then echo "tty $(tput cols 2>/dev/null || stty size)"; else read -r x; echo "no tty, read $?"; fi';
      const res = await runner.run([{ name: "env", argv: ["bash", "-c", script], cwd: dir, env: { BEAM: "b 7" } }], {
        onOutput: (_i, _n, d) => (out += d.toString()),
      });
      assert.equal(res.ok, true);
      const second = mode === "pty" ? "tty (250|50 250)" : "no tty, read 1";
      assert.match(out, new RegExp(`^${dir}\\|b 7\\|dumb\\|haspath${nl}${second}${nl}$`));
    });

    it("streams output as it is produced, as raw Buffers", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const chunks: Array<{ t: number; data: Buffer }> = [];
      let finishedAt = 0;
      const res = await runner.run([sh("echo first; sleep 1; echo second")], {
        onOutput: (i, name, data) => {
          assert.equal(i, 0);
          assert.equal(name, "sh");
          assert.ok(Buffer.isBuffer(data));
          chunks.push({ t: Date.now(), data });
        },
        onFinish: () => (finishedAt = Date.now()),
      });
      assert.equal(res.ok, true);
      assert.equal(Buffer.concat(chunks.map((c) => c.data)).toString(), `first${nl}second${nl}`);
      const first = chunks.find((c) => c.data.toString().includes("first"))!;
      assert.ok(finishedAt - first.t > 700, `first line arrived ${finishedAt - first.t} ms before the end`);
    });

    it("delivers a large output completely, in bounded chunks, up to the last byte before exit", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      let bytes = 0;
      let maxChunk = 0;
      let tail = "";
      // 1 M lines of "y\n" (-> "y\r\n" on the pty), then a final marker right before exit
      const res = await runner.run([sh("yes | head -n 1000000; printf END")], {
        onOutput: (_i, _n, d) => {
          bytes += d.length;
          maxChunk = Math.max(maxChunk, d.length);
          tail = (tail + d.toString("latin1")).slice(-8);
        },
      });
      assert.equal(res.ok, true);
      assert.equal(bytes, 1_000_000 * (1 + nl.length) + 3);
      assert.ok(tail.endsWith(`y${nl}END`));
      assert.ok(maxChunk <= 1 << 20, `largest chunk ${maxChunk} bytes`);
    });

    it("loses no output of fast-exiting programs (raw node-pty drops the tail in about half of such runs here)", async () => {
      // `head -c 20000 /dev/zero` writes 20 kB and exits at once: the case where the pty's
      // slave closes while the last KB are still in kernel buffers (node-pty #726).
      const { runner } = newRunner(undefined, 0.5, mode);
      const steps = Array.from({ length: 30 }, (_, i) => ({ name: `z${i}`, argv: ["head", "-c", "20000", "/dev/zero"], cwd: os.tmpdir() }));
      const bytes = new Array<number>(steps.length).fill(0);
      const res = await runner.run(steps, { onOutput: (i, _n, d) => (bytes[i]! += d.length) });
      assert.equal(res.ok, true);
      assert.deepEqual(
        bytes,
        steps.map(() => 20000),
      );
    });

    it("does not re-encode bytes (invalid UTF-8 arrives unchanged)", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const parts: Buffer[] = [];
      const res = await runner.run([sh("printf '\\xff\\xfe\\x00ok'")], { onOutput: (_i, _n, d) => parts.push(d) });
      assert.equal(res.ok, true);
      assert.deepEqual(Buffer.concat(parts), Buffer.from([0xff, 0xfe, 0x00, 0x6f, 0x6b]));
    });

    it("survives an event handler that throws", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const res = await runner.run([sh("echo x"), sh("echo y")], {
        onOutput: () => {
          throw new Error("consumer bug");
        },
        onStart: () => {
          throw new Error("consumer bug");
        },
      });
      assert.equal(res.ok, true);
      assert.equal(res.steps.length, 2);
    });

    it("refuses a second concurrent run()", async () => {
      const { runner } = newRunner(undefined, 0.5, mode);
      const first = runner.run([sh("sleep 0.2")], {});
      await assert.rejects(runner.run([sh("true")], {}), /already running/);
      assert.equal((await first).ok, true);
    });
  });
