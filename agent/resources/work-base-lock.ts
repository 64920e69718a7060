// One agent per work base. Attempts' work dirs live directly under it and an agent
// removes, at start, every dir it finds there as left by its own earlier run; a second
// agent on the same base would delete the first one's running attempts. So the agent
// locks the base (the lock lives in it, so another path to the same dir finds it too)
// and refuses to start when another agent holds it.
import fs from "node:fs";
import path from "node:path";
import { HeldLock, LockBusyError } from "../../shared/files/held-lock";

/** Names in the work base that are not attempts' work dirs. */
export const LOCK_FILE = ".beamflow-agent.lock";
export const LOCK_OWNER_FILE = ".beamflow-agent.owner";
export const isBookkeeping = (name: string): boolean => name === LOCK_FILE || name === LOCK_OWNER_FILE || name.startsWith(`${LOCK_FILE}-`);

export class WorkBaseInUseError extends Error {
  constructor(workBase: string, holder: string) {
    super(
      `the work base ${workBase} is in use by ${holder}: two agents on one work base would delete each other's work; give each agent its own agent.work_base (the default, /dev/shm/beamflow/{agent}, has the agent id in it)`,
    );
    this.name = "WorkBaseInUseError";
  }
}

export function lockWorkBase(workBase: string, agentId: string): HeldLock {
  fs.mkdirSync(workBase, { recursive: true, mode: 0o700 });
  try {
    return HeldLock.acquire(path.join(workBase, LOCK_FILE), path.join(workBase, LOCK_OWNER_FILE), `agent ${agentId}`);
  } catch (err) {
    if (err instanceof LockBusyError) throw new WorkBaseInUseError(workBase, err.holder);
    throw err;
  }
}
