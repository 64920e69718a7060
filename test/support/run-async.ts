// A command run without blocking the event loop (for the long ones: playbooks, npm ci),
// its stdout and stderr kept together.
import { spawn } from "node:child_process";

export type RunResult = { status: number | null; out: string };

export function runAsync(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    child.stderr.on("data", (d) => {
      out += d;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, out }));
  });
}
