// Steps benchmark: what the agent adds to each step, for `true` steps run one after
// another through the step executor (the path command jobs and the search take).
// Per step: from the decision to run it (the executor's run() called) to its outcome
// recorded (run() resolved), less the program's own lifetime as the spawner measured it
// (its spawn call to reaping it). What is left is starting it (the request, the output
// socket, the pgid record), reaping it and recording it. Also the agent's and the
// spawner's CPU per step, and the same steps under a pty (the bash wrapper) to compare.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { StepExecutor } from "../agent/runner/step-executor";
import { stepSpawner } from "../agent/runner/spawner";
import { silentLogger } from "../shared/logging/logger";

/** A process's own user+sys ticks (not its reaped children's, which are the steps). */
function ownTicks(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const r3 = (x: number) => Number(x.toFixed(3));

function summary(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: r3(percentile(s, 50)), p90: r3(percentile(s, 90)), p99: r3(percentile(s, 99)), max: r3(s[s.length - 1]!) };
}

async function runSteps(n: number, pty: boolean, base: string) {
  const log = silentLogger();
  const ex = new StepExecutor({ slots: 1, stateBase: path.join(base, pty ? "pty" : "pipe"), events: {}, killGraceS: 1, log });
  const spec = { name: "true", argv: ["true"], cwd: base, pty };
  // warm up: the spawner's Python, node-pty's module, the page cache
  for (let i = 0; i < 20; i++) await ex.run(spec);
  const spawnerPid = stepSpawner().pid;
  const spawnerTicks0 = ownTicks(spawnerPid);
  const wall: number[] = [];
  const overhead: number[] = [];
  const program: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const a = process.hrtime.bigint();
    const o = await ex.run(spec);
    const ms = Number(process.hrtime.bigint() - a) / 1e6;
    wall.push(ms);
    if (o.programWallS !== undefined) {
      program.push(o.programWallS * 1000);
      overhead.push(ms - o.programWallS * 1000);
    }
  }
  const totalS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const spawnerTicks = ownTicks(spawnerPid) - spawnerTicks0;
  return {
    steps: n,
    steps_per_second: Number((n / totalS).toFixed(1)),
    step_wall_ms: summary(wall),
    ...(program.length && { program_ms: summary(program), overhead_ms: summary(overhead) }),
    agent_cpu_ms_per_step: r3((cpu.user + cpu.system) / 1000 / n),
    ...(!pty && { spawner_cpu_ms_per_step: r3((spawnerTicks * 10) / n) }),
  };
}

export async function stepsBenchmark(opts: { steps?: number; ptySteps?: number } = {}) {
  const base = fs.mkdtempSync(path.join(fs.existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir(), "beamflow-bench-steps-"));
  try {
    const pipes = await runSteps(opts.steps ?? 2000, false, base);
    const ptys = await runSteps(opts.ptySteps ?? 300, true, base);
    return {
      benchmark: "steps",
      program: "true",
      pipes,
      pty: ptys,
      targets: { overhead_ms_p50: 2 },
    };
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
