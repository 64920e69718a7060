// Why a waiting job is not running, as Slurm's pending reasons say it: worked out from
// the agents as they are now, when someone asks (`job`, `jobs`, the status page), so it
// is never stale and costs nothing while nobody looks.
import type { JobRow } from "../tracker/rows";
import { WAITING_JOB_STATES } from "../tracker/states";
import type { AgentState } from "../sessions/registry";
import { CANARY_JOB_TYPE, fitnessTypeOf } from "../../shared/protocol/job-types";
import { formatSize } from "../../shared/config/sizes";
import type { WalltimeFit } from "./expected-duration";

const WAITING: ReadonlySet<string> = new Set(WAITING_JOB_STATES);

/** The agent a canary job is pinned to (its spec names it). */
export function canaryAgentOf(job: Pick<JobRow, "spec_json">): string | undefined {
  try {
    const spec = JSON.parse(job.spec_json) as { agent?: unknown };
    return typeof spec.agent === "string" ? spec.agent : undefined;
  } catch {
    return undefined;
  }
}

/** Why the job waits, or "" if it does not (it runs, or is over). */
export function waitReason(job: JobRow, agents: readonly AgentState[], nowS = Date.now() / 1000, walltime?: WalltimeFit): string {
  return waitReasons(agents, nowS, walltime)(job);
}

/** The agents that may take jobs of one kind, and the most any of them has. */
interface Takers {
  /** connected, not stopping, and not drained (drained ones too for a canary) */
  pool: AgentState[];
  /** of those, the ones that can run the kind */
  able: AgentState[];
  cores: number;
  memory: number;
  shm: number;
}

/**
 * Why each of many jobs waits (a page of `jobs`): what the agents offer is summed up once per
 * kind of job, not once per job; with thousands of agents, a page of waiting jobs took ~0.5 s.
 */
export function waitReasons(agents: readonly AgentState[], nowS = Date.now() / 1000, walltime?: WalltimeFit): (job: JobRow) => string {
  const connected = agents.filter((a) => a.connected && !a.leaving);
  const connectedIds = new Set(connected.map((a) => a.id));
  const open = connected.filter((a) => !a.drained);
  const byKind = new Map<string, Takers>();
  const takers = (canary: boolean, type: string): Takers => {
    const key = `${canary}:${type}`;
    let t = byKind.get(key);
    if (!t) {
      const pool = canary ? connected : open;
      const able = pool.filter((a) => a.unfitFor(type) === undefined);
      const most = (pick: (a: AgentState) => number) => able.reduce((m, a) => Math.max(m, pick(a)), 0);
      t = {
        pool,
        able,
        cores: most((a) => a.resources?.cores ?? 0),
        memory: most((a) => a.resources?.memoryTotal ?? 0),
        shm: most((a) => a.resources?.shmTotal ?? 0),
      };
      byKind.set(key, t);
    }
    return t;
  };
  return (job) => {
    if (!WAITING.has(job.status)) return "";
    if (job.not_before > nowS) return `retry backoff: it may start again in ${Math.ceil(job.not_before - nowS)} s`;
    const canary = job.job_type === CANARY_JOB_TYPE;
    if (canary) {
      const pinned = canaryAgentOf(job);
      if (pinned && !connectedIds.has(pinned)) return `its agent ${pinned} is not connected`;
    }
    if (connected.length === 0) return "no agent is connected";
    const type = fitnessTypeOf(job.job_type);
    const { pool, able, cores, memory, shm } = takers(canary, type);
    if (pool.length === 0) return `all ${connected.length} connected agent${connected.length > 1 ? "s are" : " is"} drained`;
    if (able.length === 0) {
      const first = pool[0]!;
      return `no agent can run ${type} jobs now (${first.id}: ${first.unfitFor(type)}${pool.length > 1 ? `; and ${pool.length - 1} more` : ""})`;
    }
    if (job.cores > cores) return `needs ${job.cores} cores; the largest agent able to run it has ${cores}`;
    if (job.memory > memory) return `needs ${formatSize(job.memory)} of memory; the largest agent able to run it has ${formatSize(memory)}`;
    if (job.shm > shm) return `needs ${formatSize(job.shm)} of /dev/shm; the largest agent able to run it has ${formatSize(shm)}`;
    if (walltime && able.every((a) => !walltime.fits(job, a, nowS))) {
      // Only agents with an end are left, and none has the time: it waits for a longer allocation.
      const e = walltime.expected(job);
      const left = able.reduce((m, a) => Math.max(m, walltime.left(a, nowS)), 0);
      const margin = `their end minus dispatch.walltime_margin_s ${walltime.settings.marginS} s`;
      if (!e) return `walltime: the agent${able.length > 1 ? "s" : ""} able to run it ${able.length > 1 ? "have" : "has"} no time left (${margin})`;
      const basis = e.samples > 0 ? `learned from ${e.samples} finished beam${e.samples > 1 ? "s" : ""} of its type and size` : "dispatch.unknown_duration_s";
      return `walltime: expected to take ${Math.ceil(e.seconds)} s (${basis}); the agent${able.length > 1 ? "s" : ""} able to run it ${able.length > 1 ? "have" : "has"} at most ${Math.floor(left)} s left (${margin})`;
    }
    return "waiting for room: every agent able to run it is busy";
  };
}
