// The agent's side of the stream: register, heartbeat with resources, take
// assignments, run them, and keep everything owed to the coordinator until it
// is acknowledged. A dropped stream does not stop running attempts; the agent
// reconnects with exponential backoff and jitter and re-attaches them.
import fs from "node:fs";
import os from "node:os";
import * as grpc from "@grpc/grpc-js";
import {
  AgentServiceClient, AttemptOutcome, StepState, type AgentMessage, type Assign, type AttemptResult, type CoordinatorMessage, type FileRef, type HeldAttempt,
  type Resources,
} from "../../shared/gen/agent";
import type { Logger } from "../../shared/logging/logger";
import { bearerMetadata } from "../../shared/protocol/auth";
import { channelCredentials, type TlsFiles } from "../../shared/protocol/credentials";
import { killStaleProcessGroups } from "../runner";
import { measureResources } from "../resources/resources";
import { AttemptExecution, type AttemptSettings } from "./attempt";
import { Outbox } from "./outbox";
import { LogSpool } from "./log-spool";
import { outputGate } from "../runner/output-gate";
import { pushResults } from "./results-push";
import { AgentMetrics } from "../metrics/agent-metrics";
import { startMetricsServer, type MetricsServer } from "../metrics/metrics-server";
import { PassThrough, type Readable } from "node:stream";
import { FitnessMonitor, type FitnessChecks, type FitnessSettings } from "../fitness/monitor";

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
  heartbeatS: number;
  reconnectInitialS: number;
  reconnectMaxS: number;
  attempts: AttemptSettings;
  /** what this agent can run (its toolchain, its work dir), and how often to look again */
  fitness: FitnessSettings & { checks: FitnessChecks };
  log: Logger;
  /** Called when the coordinator refuses this agent's credentials: retrying cannot help. */
  onFatal?: (err: Error) => void;
}

const jitter = (x: number, spread: number) => x * (1 - spread + Math.random() * 2 * spread);

/** gRPC codes after which the same push may succeed later (the coordinator or the link was down). */
const PUSH_AGAIN: readonly grpc.status[] = [grpc.status.UNAVAILABLE, grpc.status.CANCELLED, grpc.status.DEADLINE_EXCEEDED, grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.RESOURCE_EXHAUSTED];

const OUTCOME_NAMES: Partial<Record<AttemptOutcome, string>> = {
  [AttemptOutcome.OUTCOME_SUCCEEDED]: "succeeded", [AttemptOutcome.OUTCOME_FAILED]: "failed", [AttemptOutcome.OUTCOME_CANCELLED]: "cancelled",
};

interface AwaitingPush { result: AttemptResult; dir: string; log: Logger; tries: number; timer: NodeJS.Timeout | null }

export class Agent {
  private readonly client: AgentServiceClient;
  private call: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage> | null = null;
  private welcomed = false;
  private stopping = false;
  private backoffS: number;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  readonly running = new Map<number, AttemptExecution>();
  private readonly finishing = new Set<Promise<void>>();
  readonly outbox = new Outbox();
  readonly spool: LogSpool;
  readonly metrics: AgentMetrics;
  private metricsServer: MetricsServer | null = null;
  /** results written to the current stream (each goes once per stream, after its attempt's log) */
  private readonly resultsSent = new Set<number>();
  /** the stream is full: pumpOut waits for its "drain" */
  private pumpBlocked = false;
  /** succeeded searches whose results the coordinator does not have yet: their result waits for the push */
  private readonly awaitingPush = new Map<number, AwaitingPush>();
  private readonly pushing = new Set<number>();
  drained = false;
  readonly fitness: FitnessMonitor;
  /** the last measured resources, for a heartbeat that cannot wait for a new measurement */
  private lastResources: Resources | undefined;
  private readonly log: Logger;

  constructor(private readonly o: AgentOptions) {
    this.log = o.log.child({ agent: o.id });
    // A change of what the agent can run is told at once, not at the next heartbeat.
    this.fitness = new FitnessMonitor(o.fitness.checks, o.fitness, this.log, () => this.beatNow());
    this.backoffS = o.reconnectInitialS;
    this.metrics = new AgentMetrics({
      runningAttempts: () => this.running.size, spooledBytes: () => this.spool.bytes, workBase: o.attempts.workBase, scratchDir: o.scratchDir,
    });
    // Per agent id: several agents may share a scratch dir, and each clears its own at start.
    this.spool = new LogSpool(`${o.scratchDir}/beamflow-spool/${o.id}`, o.logSpoolBytes, (full) => {
      if (full) outputGate.close();
      else outputGate.open();
      this.log.warn({ spooled: this.spool.bytes, full }, full ? "log spool full: steps are held back until the coordinator catches up" : "log spool drained: steps go on");
    });
    this.client = new AgentServiceClient(o.coordinator, channelCredentials(o.coordinator, o.tls), {
      "grpc.keepalive_time_ms": 20_000,
      "grpc.keepalive_timeout_ms": 10_000,
      "grpc.keepalive_permit_without_calls": 1,
      "grpc.max_receive_message_length": 64 << 20,
      // Certificates are checked against the address dialled unless the config names the server.
      ...(o.tls?.server_name ? { "grpc.ssl_target_name_override": o.tls.server_name, "grpc.default_authority": o.tls.server_name } : {}),
    });
  }

  /** Clears what a previous run of this agent left behind, checks what it can run, then connects. */
  async start(): Promise<void> {
    await this.cleanStaleWorkDirs();
    this.spool.clearStale();
    await this.fitness.start();
    if (this.o.metricsListen) this.metricsServer = await startMetricsServer(this.metrics, { listen: this.o.metricsListen, token: this.o.token, log: this.log });
    this.connect();
  }

  private async cleanStaleWorkDirs(): Promise<void> {
    const base = this.o.attempts.workBase;
    try {
      fs.mkdirSync(base, { recursive: true, mode: 0o700 });
    } catch (err) {
      // Not fatal: the agent still connects, reports that it can run nothing, and is given nothing.
      this.log.error({ dir: base, err: (err as Error).message }, "cannot create the work base");
      return;
    }
    for (const name of fs.readdirSync(base)) {
      const dir = `${base}/${name}`;
      const killed = await killStaleProcessGroups(dir, this.log);
      fs.rmSync(dir, { recursive: true, force: true });
      this.log.warn({ dir, killed }, "removed a stale work dir left by an earlier run");
    }
  }

  private held(): HeldAttempt[] {
    return [
      ...[...this.running.keys()].map((attemptId) => ({ attemptId, finished: false })),
      ...[...new Set([...this.outbox.finishedAttempts(), ...this.awaitingPush.keys()])].filter((id) => !this.running.has(id)).map((attemptId) => ({ attemptId, finished: true })),
    ];
  }

  private send(msg: AgentMessage): void {
    if (this.call && this.welcomed) this.call.write(msg);
  }

  /**
   * Writes spooled log chunks, then finished attempts' results, as fast as the stream
   * takes them: when it is full, the rest waits on disk for its "drain". A result goes
   * only after all of its attempt's log, so `logs -f` never ends before the last line.
   */
  private pumpOut(): void {
    const call = this.call;
    if (!call || !this.welcomed || this.pumpBlocked) return;
    for (const chunk of this.spool.unsent()) {
      this.metrics.logSent(chunk.data.length);
      if (!call.write({ body: { $case: "logChunk", value: chunk } })) return this.waitForDrain(call);
    }
    for (const r of this.outbox.pendingResults()) {
      if (this.resultsSent.has(r.attemptId) || !this.spool.allSent(r.attemptId)) continue;
      this.resultsSent.add(r.attemptId);
      if (!call.write({ body: { $case: "attemptResult", value: r } })) return this.waitForDrain(call);
    }
  }

  private waitForDrain(call: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>): void {
    this.pumpBlocked = true;
    call.once("drain", () => {
      this.pumpBlocked = false;
      if (this.call === call) this.pumpOut();
    });
  }

  private connect(): void {
    if (this.stopping) return;
    const call = this.client.connect(bearerMetadata(this.o.token, this.o.id));
    this.call = call;
    this.welcomed = false;
    this.pumpBlocked = false;
    call.on("data", (msg: CoordinatorMessage) => this.receive(msg));
    call.on("error", (err: grpc.ServiceError) => this.lost(call, err));
    call.on("end", () => this.lost(call, null));
    void measureResources({ cores: this.o.cores, workBase: this.o.attempts.workBase, scratchDir: this.o.scratchDir }).then((resources) => {
      this.lastResources = resources;
      if (this.call !== call) return;
      call.write({ body: { $case: "hello", value: {
        agentId: this.o.id, hostname: os.hostname(), version: this.o.version, labels: this.o.labels, held: this.held(), resources, capabilities: this.fitness.current,
      } } });
    });
  }

  private lost(call: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>, err: grpc.ServiceError | null): void {
    if (this.call !== call) return;
    this.call = null;
    this.welcomed = false;
    this.stopHeartbeat();
    if (this.stopping) return;
    if (err?.code === grpc.status.UNAUTHENTICATED) {
      this.log.error({ reason: err.details }, "the coordinator refused this agent's credentials");
      this.o.onFatal?.(new Error(err.details));
      return;
    }
    const delay = jitter(this.backoffS, 0.5);
    this.backoffS = Math.min(this.o.reconnectMaxS, this.backoffS * 2);
    this.log.warn({ reason: err ? err.details || err.message : "stream ended", retryInS: Number(delay.toFixed(2)), running: [...this.running.keys()] }, "lost the coordinator; attempts keep running");
    this.reconnectTimer = setTimeout(() => { this.reconnectTimer = null; this.connect(); }, delay * 1000);
  }

  private receive(msg: CoordinatorMessage): void {
    const b = msg.body;
    if (!b) return;
    switch (b.$case) {
      case "welcome":
        this.welcomed = true;
        this.backoffS = this.o.reconnectInitialS;
        this.drained = b.value.drained;
        this.log.info({ drained: this.drained, held: this.held().map((h) => h.attemptId) }, "connected to the coordinator");
        for (const m of this.outbox.replay()) this.call!.write(m);
        this.spool.rewind();
        this.resultsSent.clear();
        this.pumpOut();
        for (const id of this.awaitingPush.keys()) void this.pushThenReport(id);
        this.startHeartbeat(b.value.heartbeatIntervalMs ? b.value.heartbeatIntervalMs / 1000 : this.o.heartbeatS);
        return;
      case "assign": return this.assign(b.value);
      case "cancel": {
        const { attemptId, reason } = b.value;
        const run = this.running.get(attemptId);
        if (run) {
          this.log.warn({ attempt: attemptId, reason }, "cancelling on the coordinator's word");
          void run.cancel(reason);
        } else {
          this.forget(attemptId);
        }
        return;
      }
      case "drain":
        this.drained = b.value.drained;
        this.log.info({ drained: this.drained }, "drain changed");
        return;
      case "logAck": return this.spool.ack(b.value.attemptId, b.value.seq);
      case "resultAck": return this.forget(b.value.attemptId);
    }
  }

  private assign(a: Assign): void {
    const log = this.log.child({ job: a.jobId, attempt: a.attemptId });
    const refuse = (reason: string) => {
      log.warn({ reason }, "refusing an assignment");
      this.send({ body: { $case: "assignReply", value: { attemptId: a.attemptId, accepted: false, reason } } });
    };
    if (this.stopping) return refuse("the agent is shutting down");
    if (this.running.has(a.attemptId) || this.outbox.hasResult(a.attemptId)) {
      // A re-sent Assign for an attempt already under way: accept again, run once.
      this.send({ body: { $case: "assignReply", value: { attemptId: a.attemptId, accepted: true, reason: "" } } });
      return;
    }
    if (a.spec?.$case !== "commands" && a.spec?.$case !== "search") return refuse(`job type '${a.jobType}' is not supported by this agent`);
    // Sent before the coordinator heard that this agent can no longer run it: not counted, it goes elsewhere.
    const unfit = this.fitness.unfitFor(a.jobType);
    if (unfit !== undefined) {
      // What it can run goes first (the stream keeps order), so the refused job is not sent straight back.
      if (this.lastResources) this.send({ body: { $case: "heartbeat", value: { resources: this.lastResources, held: this.held(), capabilities: this.fitness.current } } });
      return refuse(`this agent cannot run ${a.jobType} jobs now: ${unfit}`);
    }
    const sendUpdate = (m: AgentMessage) => {
      const b = m.body;
      if (b?.$case === "stepUpdate" && b.value.state === StepState.STEP_FINISHED && b.value.step) this.metrics.stepFinished(b.value.step.name, b.value.step.wallS);
      this.send(m);
    };
    const exec = new AttemptExecution(a, this.o.attempts, sendUpdate, (f) => this.fetch(a.attemptId, f), log, (step, data) => {
      this.spool.add(a.attemptId, step, data);
      this.pumpOut();
    }, (d) => {
      this.outbox.addDiagnostic(d);
      this.send({ body: { $case: "diagnostic", value: d } });
    }, (p) => {
      this.outbox.setProgress(p);
      this.send({ body: { $case: "progress", value: p } });
    });
    this.running.set(a.attemptId, exec);
    this.send({ body: { $case: "assignReply", value: { attemptId: a.attemptId, accepted: true, reason: "" } } });
    log.info({ beam: a.beam, files: a.files.length }, "attempt started");
    const done = exec.run().then(async (result) => {
      log.info({ outcome: result.outcome, error: result.errorMessage || undefined }, "attempt finished");
      // A failure may be the node's (a program gone, the work dir unwritable): what the agent
      // can run is checked again and told before the failure, so the beam is not sent back here.
      if (result.outcome === AttemptOutcome.OUTCOME_FAILED) {
        await this.fitness.recheck(`attempt ${a.attemptId} failed (${result.errorClass})`).catch((err: Error) => log.error({ err }, "fitness check failed"));
      }
      this.metrics.attemptFinished(OUTCOME_NAMES[result.outcome] ?? "unknown");
      if (result.outcome === AttemptOutcome.OUTCOME_SUCCEEDED && a.spec?.$case === "search") {
        this.awaitingPush.set(a.attemptId, { result, dir: exec.resultsDir, log, tries: 0, timer: null });
        this.running.delete(a.attemptId);
        await this.pushThenReport(a.attemptId);
        return;
      }
      this.report(result);
      this.running.delete(a.attemptId);
    });
    this.finishing.add(done);
    void done.finally(() => this.finishing.delete(done));
  }

  private report(result: AttemptResult): void {
    this.outbox.addResult(result);
    this.pumpOut();
  }

  /**
   * Success is reported only once the coordinator holds the verified results. A push
   * that fails for want of the coordinator is tried again (after a pause, and at every
   * reconnect); one the coordinator refuses — bytes that do not match their manifest
   * twice, a path it will not take — turns the attempt into a bad_output failure.
   */
  private async pushThenReport(attemptId: number): Promise<void> {
    const w = this.awaitingPush.get(attemptId);
    if (!w || !this.welcomed || this.pushing.has(attemptId) || this.stopping) return;
    if (w.timer) { clearTimeout(w.timer); w.timer = null; }
    this.pushing.add(attemptId);
    w.tries++;
    let result = w.result;
    try {
      const receipt = await pushResults(this.client, bearerMetadata(this.o.token, this.o.id), attemptId, w.dir);
      w.log.info({ dir: receipt.resultsDir, bytes: receipt.bytes }, "results delivered to the coordinator");
    } catch (err) {
      const e = err as grpc.ServiceError;
      const again = PUSH_AGAIN.includes(e.code) || (e.code === grpc.status.DATA_LOSS && w.tries < 2);
      if (again && this.awaitingPush.has(attemptId)) {
        const delayS = Math.min(30, 2 ** w.tries);
        w.log.warn({ err: e.details ?? e.message, code: e.code, retryInS: delayS }, "results push failed; trying again");
        w.timer = setTimeout(() => { w.timer = null; void this.pushThenReport(attemptId); }, delayS * 1000);
        return;
      }
      w.log.error({ err: e.details ?? e.message, code: e.code }, "the coordinator refused the results");
      result = { ...result, outcome: AttemptOutcome.OUTCOME_FAILED, errorClass: "bad_output", errorMessage: `results refused by the coordinator: ${e.details ?? e.message}` };
    } finally {
      this.pushing.delete(attemptId);
    }
    if (!this.awaitingPush.delete(attemptId)) return; // cancelled meanwhile
    this.report(result);
  }

  /** The coordinator has the attempt's result (or no longer wants it): drop everything kept for it. */
  private forget(attemptId: number): void {
    this.outbox.forget(attemptId);
    this.spool.forget(attemptId);
    this.resultsSent.delete(attemptId);
    const w = this.awaitingPush.get(attemptId);
    if (w?.timer) clearTimeout(w.timer);
    this.awaitingPush.delete(attemptId);
    fs.rmSync(`${this.o.attempts.resultsBase}/${attemptId}`, { recursive: true, force: true });
  }

  private fetch(attemptId: number, f: FileRef): Readable {
    const out = new PassThrough();
    const stream = this.client.fetchFile({ attemptId, fileId: f.fileId, offset: 0 }, bearerMetadata(this.o.token, this.o.id));
    stream.on("data", (c: { data: Buffer }) => { if (!out.write(c.data)) { stream.pause(); out.once("drain", () => stream.resume()); } });
    stream.on("end", () => out.end());
    stream.on("error", (err) => out.destroy(err));
    return out;
  }

  private async beatNow(): Promise<void> {
    if (!this.call || !this.welcomed) return;
    const resources = await measureResources({ cores: this.o.cores, workBase: this.o.attempts.workBase, scratchDir: this.o.scratchDir });
    this.lastResources = resources;
    this.send({ body: { $case: "heartbeat", value: { resources, held: this.held(), capabilities: this.fitness.current } } });
  }

  private startHeartbeat(intervalS: number): void {
    this.stopHeartbeat();
    const next = () => {
      this.heartbeatTimer = setTimeout(() => { void this.beatNow().finally(() => { if (this.heartbeatTimer) next(); }); }, jitter(intervalS, 0.1) * 1000);
    };
    next();
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /** Stops: cancels running attempts (killing their process groups), reports them, closes. */
  async stop(reason = "agent shutting down"): Promise<void> {
    this.stopping = true;
    this.fitness.stop();
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    for (const w of this.awaitingPush.values()) if (w.timer) clearTimeout(w.timer);
    await Promise.all([...this.running.values()].map((r) => r.cancel(reason)));
    await Promise.all([...this.finishing]);
    this.stopHeartbeat();
    // Give the results a moment to leave before the stream closes.
    await new Promise((r) => setTimeout(r, 50));
    this.call?.end();
    this.call = null;
    this.client.close();
    await this.metricsServer?.close();
  }
}
