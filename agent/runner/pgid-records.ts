// On-disk records of running steps' process groups, so that an agent restarted after a
// crash can kill what its predecessor left running in a work dir (the steps are in their
// own sessions, so they don't die with the agent unless the pty hangup reaches them).
//
// One small JSON file per running group, written atomically (tmp + rename) right after
// spawn and removed once the group is confirmed gone. Besides the pgid it stores the
// leader's start time and the boot id, because after a reboot or a long outage the same
// number may belong to someone else's process group, and SIGKILLing that would be a
// much worse bug than leaving a leftover alive.
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../../shared/logging/logger";
import { signalGroup, waitGroupGone } from "./process-group";
import { bootId, groupAlive, readProcStat } from "./procfs";

export interface PgidRecord {
  pgid: number;
  /** the group leader's start time (ticks since boot), when /proc could tell */
  startTicks?: number;
  bootId?: string;
  index?: number;
  name?: string;
  /** unix seconds */
  startedAt?: number;
  /** the agent process that started it, for the humans reading the file */
  agentPid?: number;
}

const PREFIX = "pgid-";
const SUFFIX = ".json";

export function pgidRecordPath(stateDir: string, pgid: number): string {
  return path.join(stateDir, `${PREFIX}${pgid}${SUFFIX}`);
}

/** Builds a record for a group whose leader is pid (== pgid), filling identity from /proc. */
export function pgidRecordFor(pgid: number, extra: Omit<PgidRecord, "pgid" | "startTicks" | "bootId"> = {}): PgidRecord {
  return { pgid, startTicks: readProcStat(pgid)?.startTicks, bootId: bootId(), agentPid: process.pid, ...extra };
}

/** Synchronous on purpose: it runs right after spawn, and every tick without a record is a window for leaks. */
export function writePgidRecord(stateDir: string, rec: PgidRecord): void {
  const final = pgidRecordPath(stateDir, rec.pgid);
  const tmp = `${final}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(rec) + "\n");
  fs.renameSync(tmp, final);
}

export function removePgidRecord(stateDir: string, pgid: number): void {
  // One unlink (rmSync would stat first): this runs once per step, thousands of times per beam.
  try {
    fs.unlinkSync(pgidRecordPath(stateDir, pgid));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

export async function readPgidRecords(stateDir: string, logger?: Logger): Promise<PgidRecord[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(stateDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
  const out: PgidRecord[] = [];
  for (const n of names) {
    if (!n.startsWith(PREFIX) || !n.endsWith(SUFFIX)) continue;
    const file = path.join(stateDir, n);
    try {
      const rec = JSON.parse(await fs.promises.readFile(file, "utf8")) as PgidRecord;
      if (!Number.isInteger(rec.pgid) || rec.pgid <= 1) throw new Error(`bad pgid ${String(rec.pgid)}`);
      out.push(rec);
    } catch (e) {
      logger?.warn({ file, err: e }, "ignoring unreadable process-group record");
      await fs.promises.rm(file, { force: true });
    }
  }
  return out;
}

/**
 * Kills (SIGKILL, no grace: their agent is gone and nobody will collect their results)
 * the process groups recorded in stateDir that still exist and are still the same groups.
 * Returns how many groups it killed. Call it only for work dirs no live agent is using.
 */
export async function killStaleProcessGroups(stateDir: string, logger: Logger): Promise<number> {
  let killed = 0;
  const thisBoot = bootId();
  for (const rec of await readPgidRecords(stateDir, logger)) {
    const log = logger.child({ pgid: rec.pgid, step: rec.index, stepName: rec.name });
    const forget = () => removePgidRecord(stateDir, rec.pgid);
    if (rec.bootId && thisBoot && rec.bootId !== thisBoot) {
      log.info("process-group record is from before a reboot; dropping it");
      forget();
      continue;
    }
    if (!groupAlive(rec.pgid)) {
      log.debug("recorded process group already gone");
      forget();
      continue;
    }
    // If a process with pid == pgid exists it is the group's leader; a different start
    // time means the number was reused by an unrelated group. (If the leader is gone but
    // members remain, the kernel can't have reused the number: it stays in use as their pgid.)
    const leader = readProcStat(rec.pgid);
    if (leader && rec.startTicks !== undefined && leader.startTicks !== rec.startTicks) {
      log.warn({ recorded: rec.startTicks, found: leader.startTicks }, "pgid was reused by another process group; not killing it");
      forget();
      continue;
    }
    signalGroup(rec.pgid, "SIGKILL");
    const gone = await waitGroupGone(rec.pgid, 5000);
    killed++;
    if (gone) {
      log.warn("killed process group left by a previous agent");
      forget();
    } else {
      // keep the record so the next restart tries again
      log.error("process group left by a previous agent survived SIGKILL");
    }
  }
  return killed;
}
