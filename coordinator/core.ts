// The coordinator's parts wired together: tracker, agent registry, dispatcher,
// lease clock and log store, plus the few actions that touch several of them.
import { EventEmitter } from "node:events";
import path from "node:path";
import type Database from "better-sqlite3";
import type { Config } from "../shared/config/schema";
import type { Logger } from "../shared/logging/logger";
import { runsSearch, SEARCH_JOB_TYPE } from "../shared/protocol/job-types";
import { Dispatcher } from "./dispatcher/dispatcher";
import { DurationEstimates, ESTIMATE, WalltimeFit } from "./dispatcher/expected-duration";
import { DurationRecords } from "./tracker/durations";
import { LeaseClock } from "./dispatcher/leases";
import { LogStore } from "./logs/log-store";
import { SearchSpecs } from "./search/search-spec";
import { agentLostNotice, noticeForJobChange, type Notifier } from "./notify";
import { deleteRawData } from "./rawdata/delete-rawdata";
import type { SessionDeps } from "./sessions/agent-session";
import { StepRecords } from "./sessions/step-records";
import { HeartbeatRecords } from "./sessions/heartbeat-records";
import { AgentRegistry } from "./sessions/registry";
import { AgentDrains } from "./sessions/agent-drains";
import { AgentAccessControl } from "./sessions/agent-access";
import { LiveProgress } from "./sessions/live-progress";
import { DiskRoom } from "./storage/disk-room";
import { Tracker, type AttemptRow, type DrainedBy } from "./tracker/tracker";
import { IllegalTransition } from "./tracker/transitions";
import { JobUploader, openResultsDb, resultsDbConfigFrom } from "./uploader";
import { Downloader } from "./downloader/downloader";
import { CanaryRuns } from "./canary/canary-runs";
import { isNewsOfTheBeam, JobLifecycle } from "./lifecycle/job-lifecycle";
import type { CoordinatorEvents, CoreEvents } from "./lifecycle/coordinator-events";

export interface CoreSettings {
  leaseS: number;
  acceptTimeoutS: number;
  maxAttempts: number;
  /** after a restart, live attempts keep at least this long for their agents to re-attach */
  reattachGraceS: number;
}

export function settingsFrom(cfg: Config): CoreSettings {
  return {
    leaseS: cfg.jobs.lease_s,
    acceptTimeoutS: cfg.jobs.accept_timeout_s,
    maxAttempts: cfg.jobs.max_attempts,
    reattachGraceS: Math.max(60, 3 * cfg.agent.heartbeat_s),
  };
}

export type { CoreEvents } from "./lifecycle/coordinator-events";

export class CoordinatorCore extends EventEmitter<CoreEvents> {
  /** the coordinator's announcements, for listeners that need nothing else of it */
  get events(): CoordinatorEvents {
    return this;
  }

  readonly tracker: Tracker;
  readonly registry = new AgentRegistry();
  readonly dispatcher: Dispatcher;
  readonly leases: LeaseClock;
  readonly logs: LogStore;
  readonly uploader: JobUploader;
  /** getting data in: watched directories and restore archives (downloader.sources) */
  readonly downloader: Downloader;
  readonly drains: AgentDrains;
  /** revoked and removed agents, ephemeral ones removed when they leave or are gone */
  readonly access: AgentAccessControl;
  readonly canaries: CanaryRuns;
  /** every move of a job and its consequences, in one place */
  readonly lifecycle: JobLifecycle;
  /** what running searches last said of their progress */
  readonly progress = new LiveProgress();
  /** agents' step reports, written in batches */
  readonly steps: StepRecords;
  /** agents' heartbeats (last seen, resources), written in batches */
  readonly heartbeats: HeartbeatRecords;
  readonly startedAt = Date.now() / 1000;
  /** beams' expected durations, and whether one fits before an agent's end (agent.end_time) */
  readonly walltime: WalltimeFit;
  /** whether the data dir has room: while it is full, no new work is assigned or accepted */
  readonly room: DiskRoom;
  /** lost attempts per agent, gathered over one lease-clock firing so an agent's loss is one notice */
  private lostByAgent = new Map<string, AttemptRow[]>();

  constructor(
    db: Database.Database,
    readonly config: Config,
    readonly settings: CoreSettings,
    readonly log: Logger,
    readonly notifier?: Notifier,
  ) {
    super();
    this.tracker = new Tracker(db);
    this.room = new DiskRoom(config.data_dir, log.child({ part: "disk" }), () => {
      // What was refused meanwhile (results, step records, log output) is re-sent by each agent
      // when it connects again: the simplest way to have all of it again, in order.
      for (const agent of this.registry.all()) agent.link?.close("the coordinator's disk has room again: send what it could not store");
      this.dispatcher.schedule();
    });
    this.steps = new StepRecords({
      tracker: this.tracker,
      storageFailed: (err, what) => this.room.failed(err, what),
      log: log.child({ part: "steps" }),
    });
    this.heartbeats = new HeartbeatRecords({
      tracker: this.tracker,
      storageFailed: (err, what) => this.room.failed(err, what),
      log: log.child({ part: "heartbeats" }),
    });
    this.logs = new LogStore(path.join(config.data_dir, "logs"), { maxBytes: config.coordinator.log_max_bytes });
    this.lifecycle = new JobLifecycle({
      tracker: this.tracker,
      release: (attemptId, agentId) => this.registry.release(attemptId, agentId),
      announce: (outcome, cause) => this.emit("jobChanged", outcome, cause),
      afterFailure: (agentId) => this.drains.afterFailure(agentId),
      cancelOnAgent: (agentId, attemptId, reason) => this.cancelOnAgent(agentId, attemptId, reason),
      schedule: () => this.dispatcher.schedule(),
      maxAttempts: settings.maxAttempts,
      retryBackoffS: config.jobs.retry_backoff_s,
    });
    this.access = new AgentAccessControl({
      tracker: this.tracker,
      registry: this.registry,
      lifecycle: this.lifecycle,
      logs: this.logs,
      progress: this.progress,
      ephemeralGoneS: config.coordinator.ephemeral_gone_s,
      log: log.child({ part: "access" }),
    });
    this.leases = new LeaseClock({ tracker: this.tracker, onExpired: (a) => this.expire(a), leaseS: settings.leaseS, log: log.child({ part: "leases" }) });
    // Beams' expected durations, for agents with an end (batch pilots): learned from the newest
    // processed attempts now, and from each one as it is processed.
    const durations = new DurationRecords(db);
    const estimates = new DurationEstimates(durations.recent(ESTIMATE.keepPerType * 4));
    this.walltime = new WalltimeFit(estimates, (jobId) => durations.rawBytesOfJob(jobId), {
      marginS: config.dispatch.walltime_margin_s,
      unknownS: config.dispatch.unknown_duration_s,
    });
    this.on("jobChanged", (outcome, cause) => {
      if (cause !== "attempt" || outcome.status !== "processed" || outcome.attempt === null) return;
      const sample = durations.ofAttempt(outcome.attempt);
      if (sample) estimates.add(sample);
    });
    const specs = new SearchSpecs(
      config,
      () => this.dispatcher.schedule(),
      () => this.tracker.downloads.latestZaplist(),
    );
    this.dispatcher = new Dispatcher({
      tracker: this.tracker,
      registry: this.registry,
      settings: { acceptTimeoutS: settings.acceptTimeoutS, leaseS: settings.leaseS, batch: 256 },
      log: log.child({ part: "dispatcher" }),
      searchSpec: (jobId, beam, spec) => specs.get(jobId, beam, spec),
      onDeadline: (t) => this.leases.arm(t),
      failPrecheck: (jobId, details) => this.lifecycle.failPrecheck(jobId, details),
      held: () => this.room.full,
      walltime: this.walltime,
    });
    this.drains = new AgentDrains(
      this.tracker,
      this.registry,
      config.dispatch.drain_after_failures,
      {
        schedule: () => this.dispatcher.schedule(),
        notify: (e) => void notifier?.notify(e),
      },
      log.child({ part: "drains" }),
    );
    const resultsDb = resultsDbConfigFrom(config.data_dir, config.results.db);
    this.downloader = new Downloader(this.tracker, config, log.child({ part: "downloader" }), () => this.dispatcher.schedule());
    this.uploader = new JobUploader(
      this.tracker,
      () => openResultsDb(resultsDb),
      {
        maxAttempts: config.results.upload_max_attempts,
        retryS: config.results.upload_retry_s,
        dbBackoffMaxS: config.results.db_backoff_max_s,
      },
      log.child({ part: "uploader" }),
      (outcome) => this.emit("jobChanged", outcome, "upload"),
    );
    this.on("jobChanged", (outcome) => {
      if (outcome.status !== "processed" || !runsSearch(outcome.jobType)) return;
      // Only a survey search has results to upload (a canary's are judged, not kept).
      if (outcome.jobType === SEARCH_JOB_TYPE) this.uploader.add(outcome.job);
      // The result records the archive zaplist version its search was sent (zaplist_versions).
      const zaplistVersion = specs.zaplistVersion(outcome.job);
      if (zaplistVersion && outcome.attempt !== null) this.tracker.downloads.recordAttemptZaplist(outcome.attempt, zaplistVersion);
    });
    this.canaries = new CanaryRuns(
      this.tracker,
      this.registry,
      config,
      {
        schedule: () => this.dispatcher.schedule(),
        drain: (agentId, reason) => this.drainAgent(agentId, reason, "auto"),
        undrain: (agentId) => this.undrainAgent(agentId),
      },
      log.child({ part: "canary" }),
    );
    // Before the dispatcher's next pass (it runs on setImmediate): a failed canary job leaves the queue.
    this.on("jobChanged", (outcome, cause) => {
      if (isNewsOfTheBeam(cause)) this.canaries.onJobChanged(outcome);
    });
    this.on("toolchainChanged", (agentId) => this.canaries.onToolchainChanged(agentId));
    // Registered before the notifier's listener, so a failure notice can say the data is gone.
    if (config.jobs.delete_rawdata) {
      this.on("jobChanged", (outcome, cause) => {
        if (!isNewsOfTheBeam(cause)) return;
        if (outcome.status === "uploaded" || outcome.status === "terminal_failure") {
          deleteRawData(
            this.tracker,
            outcome.job,
            outcome.status === "uploaded" ? "results uploaded" : "the job failed for good",
            log.child({ part: "rawdata" }),
          );
        }
      });
    }
    if (notifier) {
      this.on("jobChanged", (outcome, cause) => {
        if (!isNewsOfTheBeam(cause)) return;
        const notice = noticeForJobChange(this.tracker, outcome, { maxAttempts: settings.maxAttempts });
        if (notice) void notifier.notify(notice);
      });
    }
  }

  /** What each agent's stream session reads and moves. */
  get sessionDeps(): SessionDeps {
    return {
      tracker: this.tracker,
      registry: this.registry,
      lifecycle: this.lifecycle,
      logs: this.logs,
      steps: this.steps,
      heartbeats: this.heartbeats,
      progress: this.progress,
      leases: this.leases,
      schedule: () => this.dispatcher.schedule(),
      scheduleSoon: () => this.dispatcher.scheduleSoon(),
      toolchainChanged: (agentId) => this.emit("toolchainChanged", agentId),
      leaseS: this.settings.leaseS,
      storageFailed: (err, what) => this.room.failed(err, what),
      agentLeft: (agentId) => this.access.left(agentId),
      log: this.log,
    };
  }

  /** Rebuilds memory from the tracker after a (re)start; nothing is run twice. */
  restore(): void {
    for (const row of this.tracker.agents()) this.registry.get(row.id).drained = row.drained === 1;
    const live = this.tracker.liveAttempts();
    for (const a of live) this.registry.get(a.agent_id).reserve(a.id, { cores: a.cores, memory: a.memory, shm: a.shm });
    if (live.length) {
      const extended = this.tracker.extendLiveLeases(Date.now() / 1000 + this.settings.reattachGraceS);
      this.log.info({ live: live.length, extended }, "restored live attempts; waiting for their agents to re-attach");
    }
    this.leases.rearm();
    this.uploader.start();
    void this.downloader.start();
    this.canaries.start();
    this.access.start();
  }

  /**
   * Stops giving jobs to an agent (what it runs finishes), with why and who decided:
   * persisted, shown by `beamflow agents` and the status page; `by: "auto"` also sends an
   * agent_drained notice. For the coordinator's own checks (failure streaks, canary runs)
   * and the operator's `drain`. Returns whether this call drained it (an automatic drain
   * leaves an agent that is drained already as it is).
   */
  drainAgent(agentId: string, reason: string, by: DrainedBy): boolean {
    return this.drains.drain(agentId, reason, by);
  }

  /** Lets an agent take jobs again; its failure streak starts over. */
  undrainAgent(agentId: string): void {
    this.drains.undrain(agentId);
  }

  /** Tells the agent holding an attempt to stop it, if that agent is connected. */
  cancelOnAgent(agentId: string, attemptId: number, reason: string): void {
    this.registry.find(agentId)?.link?.send({ body: { $case: "cancel", value: { attemptId, reason } } });
  }

  private expire(a: AttemptRow): void {
    const log = this.log.child({ attempt: a.id, job: a.job_id, agent: a.agent_id });
    try {
      if (a.status === "assigned") {
        // The accept timeout, or lease_s for an agent that holds its accepts back (renewed by its heartbeats).
        this.lifecycle.withdraw(a.id, a.agent_id, `not accepted within ${Math.round(a.lease_expires_at - a.created_at)} s of its assignment`);
        log.warn("assignment not accepted in time: withdrawn");
      } else {
        this.lifecycle.lose(a.id, a.agent_id, `lease expired: no heartbeat from agent ${a.agent_id} for ${this.settings.leaseS} s`);
        log.warn("lease expired: attempt lost, job requeued");
        this.noteLost(a);
      }
      this.cancelOnAgent(a.agent_id, a.id, "the attempt's lease expired");
      this.logs.close(a.id);
      this.progress.forget(a.id);
    } catch (err) {
      // Renewed or ended between the query and the move: nothing to do.
      if (!(err instanceof IllegalTransition)) throw err;
    }
  }

  private noteLost(a: AttemptRow): void {
    if (!this.notifier) return;
    const first = this.lostByAgent.size === 0;
    const list = this.lostByAgent.get(a.agent_id) ?? [];
    list.push(a);
    this.lostByAgent.set(a.agent_id, list);
    if (!first) return;
    setImmediate(() => {
      const lost = this.lostByAgent;
      this.lostByAgent = new Map();
      for (const [agent, attempts] of lost) void this.notifier!.notify(agentLostNotice(this.tracker, agent, attempts));
    });
  }

  stop(): void {
    this.steps.close();
    this.heartbeats.close();
    this.room.stop();
    this.canaries.stop();
    this.dispatcher.stop();
    this.leases.stop();
    this.access.stop();
  }

  /** Lets an upload in progress finish (it is one transaction either way) and closes the results DB. */
  async stopUploads(): Promise<void> {
    await this.downloader.stop();
    await this.uploader.stop();
  }
}
