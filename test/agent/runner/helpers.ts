// Shared bits for the runner tests: temp dirs, a quiet logger, and process liveness that
// treats zombies as dead (orphans may never be reaped where PID 1 isn't a real init).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { silentLogger } from "../../../shared/logging/logger";
import { groupMembers, isProcessLive } from "../../../agent/runner/procfs";
import { StepRunner } from "../../../agent/runner";

export const logger = silentLogger();

const made: string[] = [];
// mocha runs with exit: true, so "exit" is the last moment; it must be synchronous.
process.on("exit", () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

export function tmpDir(prefix = "beamflow-runner-"): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** How the runner tests run their steps: through the spawner with pipes, or under a pty. */
export type Mode = "pipe" | "pty";
export const MODES: Mode[] = ["pipe", "pty"];

/** A runner whose steps run in mode unless a step says otherwise. */
export function newRunner(
  stateDir = path.join(tmpDir(), "state"),
  killGraceS = 0.5,
  mode: Mode = "pipe",
): { runner: Pick<StepRunner, "run" | "cancel">; stateDir: string } {
  const inner = new StepRunner({ killGraceS, logger, stateDir });
  const pty = mode === "pty";
  return {
    runner: {
      run: (steps, events) =>
        inner.run(
          steps.map((s) => ({ pty, ...s })),
          events,
        ),
      cancel: (reason) => inner.cancel(reason),
    },
    stateDir,
  };
}

export const alive = isProcessLive;

/** Live (non-zombie) pids in a process group. */
export function livePids(pgid: number): number[] {
  return groupMembers(pgid)
    .filter((m) => m.state !== "Z" && m.state !== "X")
    .map((m) => m.pid);
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function sh(script: string, name = "sh"): { name: string; argv: string[]; cwd: string } {
  return { name, argv: ["bash", "-c", script], cwd: os.tmpdir() };
}
