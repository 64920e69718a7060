// Matches waiting beams to agents by free resources, among the agents fit for
// the job's type (an agent that cannot search gets no beams, but still command
// jobs). Event-driven: anything that may let a job start (a new job, a freed
// slot, a heartbeat, a connect, an undrain) calls schedule(); calls in the same
// tick coalesce into one pass.
import type { Assign, SearchSpec } from "../../shared/gen/agent";
import { PrecheckFailed } from "../search/search-spec";
import { CANARY_JOB_TYPE, fitnessTypeOf, jobTypeToWire, KNOWN_JOB_TYPES, runsSearch } from "../../shared/protocol/job-types";
import { canaryAgentOf } from "./wait-reason";
import type { WalltimeFit } from "./expected-duration";
import type { Logger } from "../../shared/logging/logger";
import type { AgentRegistry, AgentState } from "../sessions/registry";
import type { JobRow, Reservation, Tracker } from "../tracker/tracker";

export interface DispatchSettings {
  acceptTimeoutS: number;
  /** how long an assignment to an agent that holds its accepts back is leased (jobs.lease_s) */
  leaseS: number;
  /** jobs considered per pass; the rest wait for the next pass */
  batch: number;
}

function fits(free: Reservation, need: Reservation): boolean {
  return free.cores >= need.cores && free.memory >= need.memory && free.shm >= need.shm;
}

export interface DispatcherDeps {
  tracker: Tracker;
  registry: AgentRegistry;
  settings: DispatchSettings;
  log: Logger;
  /** A palfa-search job's spec (parameters, zaplist), undefined while it is prepared; may throw PrecheckFailed. */
  searchSpec?: (jobId: number, beam: string, spec: { params?: Record<string, unknown> }) => SearchSpec | undefined;
  /** Called with each new lease deadline so the lease clock can arm itself. */
  onDeadline: (t: number) => void;
  /** Fails a job whose precheck failed, with its consequences (JobLifecycle.failPrecheck). */
  failPrecheck: (jobId: number, details: string) => void;
  /** Why nothing may be assigned now (the coordinator's disk is full), or null. */
  held?: () => string | null;
  /** Whether a job is expected to finish before an agent's end (agents with agent.end_time); none: every job fits. */
  walltime?: WalltimeFit;
}

/** An agent that may take a job in this pass, and what it has free now. */
interface Offer {
  agent: AgentState;
  free: Reservation;
}

/** An assignment written in the pass's transaction, to be sent once it is committed. */
interface Planned {
  agent: AgentState;
  msg: Assign;
  deadline: number;
  /** the job as it was read, waiting */
  job: JobRow;
  /** when its attempt was written (unix seconds) */
  at: number;
}

/** What the dispatcher tells of each assignment it made. */
export interface Assigned {
  /** the job as it was before the assignment (new or retrying) */
  job: JobRow;
  attemptId: number;
  agentId: string;
  /** unix seconds */
  at: number;
}

const noSearches = (): never => {
  throw new PrecheckFailed("this coordinator was not set up for palfa-search jobs");
};

/** How long scheduleSoon may wait. */
export const SOON_MS = 100;

export class Dispatcher {
  private pending = false;
  private soon: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly held: () => string | null;
  private readonly tracker: Tracker;
  private readonly registry: AgentRegistry;
  private readonly settings: DispatchSettings;
  private readonly log: Logger;
  private readonly searchSpec: NonNullable<DispatcherDeps["searchSpec"]>;
  private readonly onDeadline: DispatcherDeps["onDeadline"];
  private readonly failPrecheck: DispatcherDeps["failPrecheck"];
  readonly walltime: WalltimeFit | undefined;
  /** Called after each assignment; the metrics hook themselves in here (and take themselves out). */
  onAssigned: (a: Assigned) => void = () => {};

  constructor(deps: DispatcherDeps) {
    this.tracker = deps.tracker;
    this.registry = deps.registry;
    this.settings = deps.settings;
    this.log = deps.log;
    this.searchSpec = deps.searchSpec ?? noSearches;
    this.onDeadline = deps.onDeadline;
    this.failPrecheck = deps.failPrecheck;
    this.held = deps.held ?? (() => null);
    this.walltime = deps.walltime;
  }

  schedule(): void {
    if (this.pending || this.stopped) return;
    this.pending = true;
    setImmediate(() => {
      this.pending = false;
      if (this.stopped) return;
      // A write failure during the pass (a full disk) is reported through the assignment's own path.
      if (this.held()) return;
      try {
        const more = this.pass();
        if (more) this.schedule();
      } catch (err) {
        this.log.error({ err }, "dispatch pass failed");
      }
    });
  }

  /**
   * A pass within SOON_MS: for what may have let a job start without anyone waiting on it (a
   * heartbeat's new free figures). Thousands of agents heartbeat hundreds of times a second;
   * each pass with jobs waiting looks at every agent, so their passes are one per SOON_MS.
   */
  scheduleSoon(): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.schedule();
    }, SOON_MS);
    this.soon.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.soon);
    this.soon = undefined;
  }

  /**
   * One pass; returns true when it filled a whole batch and more may fit. Its reads and the
   * attempts it writes are one transaction, and the agents hear of their assignments only once
   * it is committed (a write refused by a full disk leaves nothing sent, nothing reserved).
   */
  pass(): boolean {
    const planned: Planned[] = [];
    const prechecksFailed: { job: JobRow; why: string }[] = [];
    let more: boolean;
    try {
      more = this.tracker.transaction(() => this.plan(planned, prechecksFailed));
    } catch (err) {
      for (const p of planned) p.agent.release(p.msg.attemptId);
      throw err;
    }
    for (const p of planned) this.tell(p);
    for (const { job, why } of prechecksFailed) {
      this.failPrecheck(job.id, why);
      this.log.error({ job: job.id, beam: job.beam, err: why }, "precheck failed: job failed for good");
    }
    return more;
  }

  private plan(planned: Planned[], prechecksFailed: { job: JobRow; why: string }[]): boolean {
    // Heartbeats wake the dispatcher thousands of times a minute on a big cluster: with nothing
    // waiting, that costs one index probe, not a walk over every agent.
    if (!this.tracker.anyWaiting()) return false;
    const offers = this.offers();
    if (offers.length === 0) return false;
    let freeCores = 0;
    let ending = false;
    const largest = { cores: 0, memory: 0, shm: 0 };
    for (const o of offers) {
      freeCores += o.free.cores;
      ending ||= o.agent.endTime > 0;
      largest.cores = Math.max(largest.cores, o.free.cores);
      largest.memory = Math.max(largest.memory, o.free.memory);
      largest.shm = Math.max(largest.shm, o.free.shm);
    }
    // Only jobs that could start on some agent now are read: a job too big for every agent,
    // or of a type none can run, never holds back the ones behind it (its reason: waitReason).
    // Drained agents still take canary runs pinned to them: an operator checks a mended node
    // with `beamflow canary NODE` before giving it beams again.
    const types = KNOWN_JOB_TYPES.filter(
      (t) => t === CANARY_JOB_TYPE || offers.some((o) => !o.agent.drained && o.agent.unfitFor(fitnessTypeOf(t)) === undefined),
    );
    // A job takes at least one core, so a few rows per free core is enough to fill them; with
    // agents that have an end, a whole batch, for the first jobs may be too long for them.
    const walltimeBound = this.walltime !== undefined && ending;
    const jobs = this.tracker.waitingJobs(walltimeBound ? this.settings.batch : Math.min(this.settings.batch, freeCores * 4), { ...largest, types });
    let assigned = 0;
    for (const job of jobs) {
      if (freeCores <= 0) break;
      const offer = this.choose(job, offers);
      if (!offer) continue;
      let spec: Assign["spec"];
      try {
        spec = this.spec(job);
      } catch (err) {
        if (!(err instanceof PrecheckFailed)) throw err;
        prechecksFailed.push({ job, why: err.message });
        continue;
      }
      if (!spec) continue;
      planned.push(this.assign(job, offer.agent, spec));
      freeCores -= offer.free.cores;
      offer.free = offer.agent.free();
      freeCores += offer.free.cores;
      assigned++;
    }
    return assigned === jobs.length && jobs.length > 0;
  }

  /**
   * The connected agents that are not stopping and have a core free, with what they have free:
   * read once per pass (a pass may look at thousands of agents for each job), and again only
   * for an agent given a job.
   */
  private offers(): Offer[] {
    const offers: Offer[] = [];
    for (const agent of this.registry.values()) {
      if (!agent.connected || agent.leaving) continue;
      const free = agent.free();
      if (free.cores > 0) offers.push({ agent, free });
    }
    return offers;
  }

  /**
   * The fitting agent with the most free cores; for a retry, one that has not tried the job if
   * any fits, so a beam that failed on a node (counted or through the node's fault) goes elsewhere.
   */
  private choose(job: JobRow, offers: Offer[]): Offer | undefined {
    const need = { cores: job.cores, memory: job.memory, shm: job.shm };
    const pinned = job.job_type === CANARY_JOB_TYPE ? canaryAgentOf(job) : undefined;
    const fitness = fitnessTypeOf(job.job_type);
    const tried = job.status === "retrying" ? this.tracker.agentsThatTried(job.id) : undefined;
    const now = Date.now() / 1000;
    let best: Offer | undefined;
    let bestUntried: Offer | undefined;
    for (const o of offers) {
      const a = o.agent;
      if (pinned !== undefined ? a.id !== pinned : a.drained) continue;
      if (!fits(o.free, need) || a.unfitFor(fitness) !== undefined || !(this.walltime?.fits(job, a, now) ?? true)) continue;
      if (!best || o.free.cores > best.free.cores) best = o;
      if (tried && !tried.has(a.id) && (!bestUntried || o.free.cores > bestUntried.free.cores)) bestUntried = o;
    }
    return bestUntried ?? best;
  }

  /** Writes the job's attempt on the agent and reserves what it takes there; the agent is told later (tell). */
  private assign(job: JobRow, agent: AgentState, spec: Assign["spec"]): Planned {
    const reservation = { cores: job.cores, memory: job.memory, shm: job.shm };
    const at = Date.now() / 1000;
    // An agent that holds its accept back is leased from the start, like a running attempt, so
    // that its lease fence covers the attempt even if it is paused before the accept goes out.
    const deadline = at + (agent.holdsAccepts ? this.settings.leaseS : this.settings.acceptTimeoutS);
    // The attempt and its deadline are stored before the agent hears of it: a
    // crash right after this leaves a row the lease clock will withdraw.
    const attemptId = this.tracker.assign(job.id, agent.id, reservation, deadline);
    const files = this.tracker.filesOfJob(job.id).map((f) => ({
      fileId: f.id,
      name: f.filename.split("/").pop()!,
      path: f.filename,
      size: f.size,
      sha256: f.sha256 ?? "",
    }));
    const msg: Assign = { attemptId, jobId: job.id, jobType: jobTypeToWire(job.job_type), beam: job.beam, files, reservation, spec };
    // Last, once nothing here can throw: what a failed pass reserved is released from its plan.
    agent.reserve(attemptId, reservation);
    return { agent, msg, deadline, job, at };
  }

  /** Sends a committed assignment to its agent. */
  private tell(p: Planned): void {
    this.onDeadline(p.deadline);
    this.log.info({ job: p.msg.jobId, attempt: p.msg.attemptId, agent: p.agent.id, beam: p.msg.beam }, "assigned");
    p.agent.link?.send({ body: { $case: "assign", value: p.msg } });
    this.onAssigned({ job: p.job, attemptId: p.msg.attemptId, agentId: p.agent.id, at: p.at });
  }

  /** The job type's part of the Assign message. */
  private spec(job: JobRow): Assign["spec"] {
    const spec = JSON.parse(job.spec_json) as {
      commands?: { name: string; argv: string[]; timeout_s?: number; idle_timeout_s?: number }[];
      params?: Record<string, unknown>;
    };
    if (runsSearch(job.job_type)) {
      const search = this.searchSpec(job.id, job.beam, spec);
      return search && { $case: "search", value: search };
    }
    return {
      $case: "commands",
      value: { steps: (spec.commands ?? []).map((s) => ({ name: s.name, argv: s.argv, timeoutS: s.timeout_s ?? 0, idleTimeoutS: s.idle_timeout_s ?? 0 })) },
    };
  }
}
