// The private directories that hold each agent's step-output socket (spawner.ts). An agent
// removes its own when it exits; one killed outright (kill -9, the OOM killer, a node's
// crash) cannot, and a node that restarts agents for months would gather thousands of them in
// its temp dir. So each agent, when its spawner starts, removes those of agents that are gone:
// this user's, old enough not to be another agent's that is just starting, and with nobody
// listening on their socket (asking the socket works across PID namespaces, where a pid does not).
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

export const SOCKET_DIR_PREFIX = "beamflow-spawner-";
export const SOCKET_NAME = "out.sock";
/** A directory younger than this may be an agent's that has not started listening yet. */
export const SWEEP_MIN_AGE_MS = 60_000;

export function makeSocketDir(tmp = os.tmpdir()): string {
  return fs.mkdtempSync(path.join(tmp, SOCKET_DIR_PREFIX));
}

/** Whether something listens on the Unix socket at `p` (false: no such socket, or nobody there). */
function listening(p: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", (err: NodeJS.ErrnoException) => {
      // Refused or gone: dead. Anything else (too many open files...): not known to be dead.
      resolve(!(err.code === "ECONNREFUSED" || err.code === "ENOENT"));
    });
  });
}

/** Removes the socket directories of agents that are gone; returns how many. Never touches `own`. */
export async function sweepDeadSocketDirs(own: string | undefined, tmp = os.tmpdir(), now = Date.now()): Promise<number> {
  const uid = process.getuid?.();
  let names: string[];
  try {
    names = fs.readdirSync(tmp).filter((n) => n.startsWith(SOCKET_DIR_PREFIX));
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const dir = path.join(tmp, name);
    if (dir === own) continue;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(dir);
    } catch {
      continue;
    }
    if (!st.isDirectory() || st.uid !== uid || now - st.mtimeMs < SWEEP_MIN_AGE_MS) continue;
    if (await listening(path.join(dir, SOCKET_NAME))) continue;
    fs.rmSync(dir, { recursive: true, force: true });
    removed++;
  }
  return removed;
}
