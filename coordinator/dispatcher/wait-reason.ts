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
  if (!WAITING.has(job.status)) return "";
  if (job.not_before > nowS) return `retry backoff: it may start again in ${Math.ceil(job.not_before - nowS)} s`;
  const connected = agents.filter((a) => a.connected && !a.leaving);
  if (job.job_type === CANARY_JOB_TYPE) {
    const pinned = canaryAgentOf(job);
    if (pinned && !connected.some((a) => a.id === pinned)) return `its agent ${pinned} is not connected`;
  }
  if (connected.length === 0) return "no agent is connected";
  const open = job.job_type === CANARY_JOB_TYPE ? connected : connected.filter((a) => !a.drained);
  if (open.length === 0) return `all ${connected.length} connected agent${connected.length > 1 ? "s are" : " is"} drained`;
  const type = fitnessTypeOf(job.job_type);
  const able = open.filter((a) => a.unfitFor(type) === undefined);
  if (able.length === 0) {
    const first = open[0]!;
    return `no agent can run ${type} jobs now (${first.id}: ${first.unfitFor(type)}${open.length > 1 ? `; and ${open.length - 1} more` : ""})`;
  }
  const most = (pick: (a: AgentState) => number) => Math.max(...able.map(pick));
  const cores = most((a) => a.resources?.cores ?? 0);
  if (job.cores > cores) return `needs ${job.cores} cores; the largest agent able to run it has ${cores}`;
  const memory = most((a) => a.resources?.memoryTotal ?? 0);
  if (job.memory > memory) return `needs ${formatSize(job.memory)} of memory; the largest agent able to run it has ${formatSize(memory)}`;
  const shm = most((a) => a.resources?.shmTotal ?? 0);
  if (job.shm > shm) return `needs ${formatSize(job.shm)} of /dev/shm; the largest agent able to run it has ${formatSize(shm)}`;
  if (walltime && able.every((a) => !walltime.fits(job, a, nowS))) {
    // Only agents with an end are left, and none has the time: it waits for a longer allocation.
    const e = walltime.expected(job);
    const left = Math.max(0, Math.max(...able.map((a) => walltime.left(a, nowS))));
    const margin = `their end minus dispatch.walltime_margin_s ${walltime.settings.marginS} s`;
    if (!e) return `walltime: the agent${able.length > 1 ? "s" : ""} able to run it ${able.length > 1 ? "have" : "has"} no time left (${margin})`;
    const basis = e.samples > 0 ? `learned from ${e.samples} finished beam${e.samples > 1 ? "s" : ""} of its type and size` : "dispatch.unknown_duration_s";
    return `walltime: expected to take ${Math.ceil(e.seconds)} s (${basis}); the agent${able.length > 1 ? "s" : ""} able to run it ${able.length > 1 ? "have" : "has"} at most ${Math.floor(left)} s left (${margin})`;
  }
  return "waiting for room: every agent able to run it is busy";
}
