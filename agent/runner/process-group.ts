// Signalling a step's whole process group. Steps are session leaders under the pty, so
// their pid is the group id, and signalling -pgid reaches grandchildren that a plain
// kill(pid) would orphan (e.g. a script's background helpers, or `mpirun`'s ranks).
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../../shared/logging/logger";
import { groupAlive, groupCpuS } from "./procfs";

/** Sends sig to every process in the group. False if the group no longer exists. */
export function signalGroup(pgid: number, sig: NodeJS.Signals): boolean {
  // A pgid <= 1 would turn process.kill(-pgid) into "every process we may signal": never.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`refusing to signal process group ${pgid}`);
  try {
    process.kill(-pgid, sig);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw e;
  }
}

/** Polls until no live (non-zombie) member remains, or timeoutMs passes. */
export async function waitGroupGone(pgid: number, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!groupAlive(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
}

export interface TerminateResult {
  /** the last signal that had to be sent; undefined if the group was already gone */
  lastSignal?: "SIGTERM" | "SIGKILL";
  /** CPU of the group just before SIGKILL, for when nothing survives to report it */
  cpuBeforeKillS?: number;
  /** false if something was still alive after SIGKILL + killWaitMs (e.g. stuck in D state) */
  gone: boolean;
}

/**
 * SIGTERM, up to graceS for the group to exit, then SIGKILL. Resolves once the group is
 * gone, so callers can promise "nothing of this step is still running".
 */
export async function terminateGroup(pgid: number, graceS: number, logger: Logger, killWaitMs = 5000): Promise<TerminateResult> {
  if (!groupAlive(pgid)) return { gone: true };
  if (!signalGroup(pgid, "SIGTERM")) return { gone: true };
  if (await waitGroupGone(pgid, Math.max(0, graceS) * 1000)) return { lastSignal: "SIGTERM", gone: true };
  const cpuBeforeKillS = groupCpuS(pgid);
  logger.warn({ pgid, graceS }, "process group outlived SIGTERM grace; sending SIGKILL");
  signalGroup(pgid, "SIGKILL");
  const gone = await waitGroupGone(pgid, killWaitMs);
  if (!gone) logger.error({ pgid }, "process group still has live members after SIGKILL");
  return { lastSignal: "SIGKILL", cpuBeforeKillS, gone };
}
