// The agent: its parts wired together. Each part does one thing and gets what it
// needs through its constructor:
//
//   connection.ts    the stream to the coordinator, reconnecting with backoff and jitter
//   heartbeat.ts     resources, held attempts and capabilities every interval
//   log-pump.ts      spooled log output, then results, as fast as the stream takes them
//   assignments.ts   accepting or refusing Assigns and running the attempts
//   results-push.ts  a succeeded search's results delivered before its success is told
//   stale-dirs.ts    what an earlier run of the agent left in the work base
//
// What is owed to the coordinator is kept until acknowledged: log output in the
// LogSpool (on disk), results, diagnostics and progress in the Outbox. A dropped
// stream does not stop running attempts; they re-attach at the next Hello.
import fs from "node:fs";
import os from "node:os";
import type { AgentMessage, AgentServiceClient, AttemptResult, CoordinatorMessage, HeldAttempt, Welcome } from "../../shared/gen/agent";
import type { Logger } from "../../shared/logging/logger";
import { bearerMetadata } from "../../shared/protocol/auth";
import type { TlsFiles } from "../../shared/protocol/credentials";
import { measureResources } from "../resources/resources";
import { type AttemptSettings } from "./attempt";
import { Outbox } from "./outbox";
import { LogSpool } from "./log-spool";
import { outputGate } from "../runner/output-gate";
import { ResultsPusher } from "./results-push";
import { AgentMetrics } from "../metrics/agent-metrics";
import { startMetricsServer, type MetricsServer } from "../metrics/metrics-server";
import { FitnessMonitor, type FitnessChecks, type FitnessSettings } from "../fitness/monitor";
import { fetchFromCoordinator } from "../staging/fetch";
import { Assignments } from "./assignments";
import { coordinatorClient } from "./coordinator-client";
import { Connection } from "./connection";
import { diagnoseTlsRefusal } from "../tls/diagnose";
import { Heartbeat } from "./heartbeat";
import { Holdback } from "./holdback";
import { FenceWatchdog } from "./fence-watchdog";
import { LeaseFence } from "./lease-fence";
import { LogPump } from "./log-pump";
import { cleanStaleWorkDirs } from "./stale-dirs";
import type { HeldLock } from "../../shared/files/held-lock";
import { lockWorkBase } from "../resources/work-base-lock";

export interface AgentOptions {
  id: string;
  token: string;
  coordinator: string;
  tls?: TlsFiles;
  version: string;
  labels: Record<string, string>;
  cores?: number;
  scratchDir: string;
  /** unacknowledged log output kept on disk before the steps are held back (agent.log_spool_bytes) */
  logSpoolBytes: number;
  /** HOST:PORT (loopback) for GET /metrics; "" for none (agent.metrics_listen) */
  metricsListen?: string;
  /** the read-only token /metrics asks scrapers for (agent.metrics_token_file), never the agent's credential */
  metricsToken?: string;
  heartbeatS: number;
  reconnectInitialS: number;
  reconnectMaxS: number;
  /** on a graceful stop, how long running attempts may go on before they are handed back (agent.stop_timeout_s) */
  stopTimeoutS?: number;
  /** when the agent must be done (unix seconds; 0: no end), told to the coordinator (agent.end_time) */
  endTime?: number;
  /** seconds with nothing to run or deliver after which onIdle is called (agent.idle_exit_s; 0: never) */
  idleExitS?: number;
  onIdle?: (idleS: number) => void;
  attempts: AttemptSettings;
  /** what this agent can run (its toolchain, its work dir), and how often to look again */
  fitness: FitnessSettings & { checks: FitnessChecks };
  log: Logger;
  /** Called when the coordinator refuses this agent's credentials: retrying cannot help. */
  onFatal?: (err: Error) => void;
}

export class Agent {
  private readonly client: AgentServiceClient;
  private readonly connection: Connection;
  private readonly heartbeat: Heartbeat;
  private readonly pump: LogPump;
  private readonly pusher: ResultsPusher;
  private readonly assignments: Assignments;
  private readonly outbox = new Outbox();
  private readonly spool: LogSpool;
  private readonly metrics: AgentMetrics;
  private readonly fitness: FitnessMonitor;
  private readonly fence: LeaseFence;
  private readonly watchdog: FenceWatchdog;
  private metricsServer: MetricsServer | null = null;
  private workBaseLock: HeldLock | null = null;
  private readonly resendTimers = new Map<number, NodeJS.Timeout>();
  /** the connection is being torn down: no reconnect, no push */
  private stopping = false;
  /** a graceful stop began (Leaving sent): nothing new is taken, what runs may finish */
  private leaving = false;
  private stopped: Promise<void> | null = null;
  /** ends a graceful stop's wait: what still runs is handed back now */
  private hurry: (() => void) | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private idleSince = 0;
  private readonly log: Logger;
  /** accepts and step started/ended news, held briefly so that a newer one or the result can replace them */
  private readonly holdback: Holdback;

  constructor(private readonly o: AgentOptions) {
    this.log = o.log.child({ agent: o.id });
    const metadata = () => bearerMetadata(o.token, o.id);
    const stopping = () => this.stopping;
    const leaving = () => this.leaving || this.stopping;
    this.client = coordinatorClient(o.coordinator, o.tls);
    // A change of what the agent can run is told at once, not at the next heartbeat.
    this.fitness = new FitnessMonitor(o.fitness.checks, o.fitness, this.log, () => this.heartbeat.beatNow());
    this.metrics = new AgentMetrics({
      runningAttempts: () => this.assignments.runningCount,
      spooledBytes: () => this.spool.bytes,
      workBase: o.attempts.workBase,
      scratchDir: o.scratchDir,
    });
    // Per agent id: several agents may share a scratch dir, and each clears its own at start.
    // Steps are held back while the spool is at its bound or the scratch disk is full.
    let spoolFull = false;
    let diskFull = false;
    const gate = () => (spoolFull || diskFull ? outputGate.close() : outputGate.open());
    this.spool = new LogSpool(`${o.scratchDir}/beamflow-spool/${o.id}`, o.logSpoolBytes, (full) => {
      spoolFull = full;
      gate();
      this.log.warn(
        { spooled: this.spool.bytes, full },
        full ? "log spool full: steps are held back until the coordinator catches up" : "log spool drained: steps go on",
      );
    });
    this.spool.onDiskFull = (err) => {
      diskFull = err !== null;
      gate();
      this.metrics.diskFull(diskFull);
      if (err)
        this.log.error(
          { dir: o.scratchDir, err: err.message },
          "the scratch disk is full: log output waits in memory and steps are held back until the coordinator has it",
        );
      else this.log.warn({ dir: o.scratchDir }, "log output held in memory is delivered: steps go on");
    };
    this.connection = new Connection({
      client: this.client,
      metadata,
      reconnectInitialS: o.reconnectInitialS,
      reconnectMaxS: o.reconnectMaxS,
      hello: () => this.hello(),
      onWelcome: (w) => this.welcomed(w),
      onMessage: (b) => this.receive(b),
      onLost: () => this.heartbeat.stop(),
      onFatal: o.onFatal,
      diagnose: () => diagnoseTlsRefusal(o.coordinator, o.tls),
      stopping,
      running: () => this.assignments.runningIds(),
      log: this.log,
    });
    const send = (msg: AgentMessage) => this.connection.send(msg);
    this.holdback = new Holdback(send);
    this.watchdog = new FenceWatchdog(this.log);
    this.fence = new LeaseFence({
      killGraceS: o.attempts.killGraceS,
      watchdog: this.watchdog,
      fence: (why) => this.assignments.fenceAll(why),
      running: () => this.assignments.runningCount > 0,
      log: this.log,
    });
    this.heartbeat = new Heartbeat({
      nextSeq: () => this.fence.nextSeq(),
      measure: () => measureResources({ cores: o.cores, workBase: o.attempts.workBase, scratchDir: o.scratchDir }),
      held: () => this.held(),
      capabilities: () => this.fitness.current,
      endTime: () => o.endTime ?? 0,
      connected: () => this.connection.stream !== null,
      send,
    });
    this.pump = new LogPump({
      spool: this.spool,
      outbox: this.outbox,
      metrics: this.metrics,
      stream: () => this.connection.stream,
      // The result is the accept too (Welcome's accept_with_result): one still held would come after it.
      resultWritten: (attemptId) => this.holdback.forget(attemptId),
    });
    const report = (result: AttemptResult) => this.report(result);
    this.pusher = new ResultsPusher({ client: this.client, metadata, canPush: () => this.connection.stream !== null && !this.stopping, report });
    this.assignments = new Assignments({
      settings: o.attempts,
      fitness: this.fitness,
      spool: this.spool,
      pump: this.pump,
      outbox: this.outbox,
      pusher: this.pusher,
      metrics: this.metrics,
      report,
      send,
      accept: (attemptId) => this.holdback.accept(attemptId),
      stepUpdate: (u) => this.holdback.update(u),
      sendCapabilities: () => this.heartbeat.sendLast(),
      fetch: (attemptId, f) =>
        fetchFromCoordinator(this.client, metadata(), attemptId, f, {
          onResume: (offset, err) => this.log.warn({ attempt: attemptId, file: f.name, offset, err: err.message }, "stage-in stream dropped: resuming"),
          onProgress: (bytes, size, rate) => this.log.info({ attempt: attemptId, file: f.name, bytes, size, rate: Math.round(rate) }, "stage-in progress"),
        }),
      fencedWhy: () => this.fence.check(),
      leaseLapsed: () => this.fence.lapsed(),
      watchdogKilled: (since) => this.fence.watchdogKilled(since),
      stopping: leaving,
      log: this.log,
    });
  }

  /** A finished attempt's result, kept until acknowledged; the coordinator acknowledges it once it has stored all of its log. */
  private report(result: AttemptResult): void {
    // The result lists every step: updates still held for it would only repeat it.
    this.holdback.reported(result.attemptId);
    this.outbox.addResult({ ...result, logSeq: this.spool.lastSeq(result.attemptId) });
    this.pump.pump();
  }

  /** Clears what a previous run of this agent left behind, checks what it can run, then connects. */
  async start(): Promise<void> {
    // Before anything in it is touched: another agent's running work must never look stale.
    this.workBaseLock = lockWorkBase(this.o.attempts.workBase, this.o.id);
    await cleanStaleWorkDirs(this.o.attempts.workBase, this.log);
    this.spool.clearStale();
    await this.fitness.start();
    this.watchdog.start();
    if (this.o.metricsListen)
      this.metricsServer = await startMetricsServer(this.metrics, { listen: this.o.metricsListen, token: this.o.metricsToken ?? "", log: this.log });
    this.connection.connect();
    this.watchIdle();
  }

  /** Calls onIdle once the agent has had nothing to run or deliver for idleExitS (a pilot then exits). */
  private watchIdle(): void {
    const idleExitS = this.o.idleExitS ?? 0;
    if (!(idleExitS > 0) || !this.o.onIdle) return;
    this.idleSince = performance.now();
    this.idleTimer = setInterval(
      () => {
        if (this.leaving || this.stopping) return;
        if (this.assignments.runningCount > 0 || this.held().length > 0) {
          this.idleSince = performance.now();
          return;
        }
        const idleS = (performance.now() - this.idleSince) / 1000;
        if (idleS < idleExitS) return;
        clearInterval(this.idleTimer!);
        this.idleTimer = null;
        this.o.onIdle!(idleS);
      },
      Math.min(1000, idleExitS * 250),
    );
    this.idleTimer.unref();
  }

  /** Attempts this agent holds: running ones, and finished ones whose results the coordinator has not acknowledged. */
  private held(): HeldAttempt[] {
    const running = this.assignments.runningIds();
    return [
      ...running.map((attemptId) => ({ attemptId, finished: false })),
      ...[...new Set([...this.outbox.finishedAttempts(), ...this.pusher.attempts()])]
        .filter((id) => !this.assignments.isRunning(id))
        .map((attemptId) => ({ attemptId, finished: true })),
    ];
  }

  private async hello(): Promise<AgentMessage> {
    const resources = await this.heartbeat.measure();
    this.fence.helloSent();
    return {
      body: {
        $case: "hello",
        value: {
          agentId: this.o.id,
          hostname: os.hostname(),
          version: this.o.version,
          labels: this.o.labels,
          held: this.held(),
          resources,
          capabilities: this.fitness.current,
          endTime: this.o.endTime ?? 0,
          leaving: this.leaving,
          // Its accepts are held back when the coordinator allows it (Holdback).
          holdsAccepts: true,
        },
      },
    };
  }

  /** A welcomed stream: everything owed goes again, and heartbeats start. */
  private welcomed(w: Welcome): void {
    this.log.info({ drained: w.drained, leaseS: w.leaseS, held: this.held().map((h) => h.attemptId) }, "connected to the coordinator");
    this.fence.welcomed(w.leaseS);
    // A graceful stop under way: the Hello said so already; Leaving again for an older coordinator.
    if (this.leaving) this.connection.send({ body: { $case: "leaving", value: { reason: "the agent is stopping" } } });
    for (const m of this.outbox.replay()) this.connection.send(m);
    this.holdback.restart(w.acceptWithResult);
    this.pump.restart(w.logBatches);
    this.pusher.pushAll();
    this.heartbeat.start(this.o.heartbeatS);
  }

  private receive(b: NonNullable<CoordinatorMessage["body"]>): void {
    switch (b.$case) {
      case "assign":
        return this.assignments.assign(b.value);
      case "cancel":
        if (!this.assignments.cancel(b.value.attemptId, b.value.reason)) this.forget(b.value.attemptId);
        return;
      case "drain":
        // Nothing on the agent depends on it: the coordinator simply sends no new work.
        this.log.info({ drained: b.value.drained }, "drain changed");
        return;
      case "logAck":
        this.spool.ack(b.value.attemptId, b.value.seq);
        if (b.value.notStored) this.resendLater(b.value.attemptId, b.value.seq);
        return;
      case "resultAck":
        return this.forget(b.value.attemptId);
      case "heartbeatAck":
        return this.fence.acked(b.value.seq);
    }
  }

  /**
   * The coordinator could not store log output (its disk is full): it goes again after a
   * pause, not at once, so a coordinator without room is not flooded. One timer per attempt.
   */
  private resendLater(attemptId: number, seq: number): void {
    if (this.resendTimers.has(attemptId)) return;
    this.log.warn({ attempt: attemptId, storedSeq: seq }, "the coordinator did not store log output: sending it again in 2 s");
    const t = setTimeout(() => {
      this.resendTimers.delete(attemptId);
      this.spool.resendFrom(attemptId, seq);
      this.pump.pump();
    }, 2000);
    t.unref();
    this.resendTimers.set(attemptId, t);
  }

  /** The coordinator has the attempt's result (or no longer wants it): drop everything kept for it. */
  private forget(attemptId: number): void {
    this.holdback.forget(attemptId);
    this.outbox.forget(attemptId);
    this.spool.forget(attemptId);
    this.pump.forget(attemptId);
    this.pusher.forget(attemptId);
    // Only a search has results kept here; looking first costs one stat, not an error per job.
    const results = `${this.o.attempts.resultsBase}/${attemptId}`;
    if (fs.existsSync(results)) fs.rmSync(results, { recursive: true, force: true });
  }

  /**
   * Stops, gracefully: tells the coordinator it is leaving and takes nothing new; the running
   * attempts may finish (their results and logs delivered) for `graceS` (agent.stop_timeout_s),
   * then what still runs is handed back (handBack). Called again, it returns the same stop.
   */
  stop(reason = "the agent is stopping", graceS = this.o.stopTimeoutS ?? 0): Promise<void> {
    this.stopped ??= this.stopGracefully(reason, graceS);
    return this.stopped;
  }

  /** Ends a graceful stop's wait at once (a second SIGTERM): what still runs is handed back now. */
  handBackNow(): void {
    this.hurry?.();
  }

  /** Nothing runs and nothing is owed: every result acknowledged, so its whole log is stored. */
  private quiet(): boolean {
    return this.assignments.runningCount === 0 && this.held().length === 0;
  }

  private async stopGracefully(reason: string, graceS: number): Promise<void> {
    this.leaving = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    // First, so that nothing more is assigned here.
    this.connection.send({ body: { $case: "leaving", value: { reason } } });
    this.fitness.stop();
    if (graceS > 0 && !this.quiet()) {
      this.log.info({ running: this.assignments.runningIds(), held: this.held().map((h) => h.attemptId), graceS }, "stopping: running attempts may finish");
      const finished = await new Promise<boolean>((resolve) => {
        const poll = setInterval(() => this.quiet() && done(true), 100);
        const timer = setTimeout(() => done(false), graceS * 1000);
        this.hurry = () => done(false);
        const done = (v: boolean) => {
          clearInterval(poll);
          clearTimeout(timer);
          this.hurry = null;
          resolve(v);
        };
      });
      if (finished) this.log.info("stopping: every attempt finished and was delivered");
    }
    await this.handBack(`handed back: ${reason}`);
  }

  /**
   * Stops what still runs (killing their process groups) and reports each attempt cancelled
   * once its steps are gone, so the coordinator requeues it without counting it; a search whose
   * results were still being pushed is handed back the same way. Then closes.
   */
  private async handBack(reason: string): Promise<void> {
    this.stopping = true;
    this.leaving = true;
    this.fence.stop();
    this.connection.stopReconnecting();
    this.pusher.stop();
    const running = this.assignments.runningIds();
    if (running.length) this.log.warn({ attempts: running, reason }, "handing back the attempts still running");
    await this.assignments.stopAll(reason);
    for (const r of this.pusher.handBack(reason)) {
      this.log.warn({ attempt: r.attemptId, reason }, "handing back a search whose results were not delivered");
      this.report(r);
    }
    this.heartbeat.stop();
    // Give the results a moment to leave before the stream closes.
    const until = Date.now() + 2000;
    await new Promise((r) => setTimeout(r, 50));
    while (this.connection.stream !== null && this.outbox.finishedAttempts().length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    this.holdback.close();
    this.connection.close();
    this.watchdog.stop();
    await this.metricsServer?.close();
    this.workBaseLock?.release();
    this.workBaseLock = null;
  }
}
