// One connected agent's stream: Hello and re-attachment, heartbeats and lease
// renewal, assignment replies, step updates, diagnostics, log chunks, results.
// Anything about an attempt that is not this agent's current one is refused and
// answered with Cancel.
import * as grpc from "@grpc/grpc-js";
import type {
  AgentMessage,
  AssignReply,
  AttemptResult,
  CoordinatorMessage,
  Diagnostic,
  Heartbeat,
  Hello,
  HeldAttempt,
  LogChunk,
  Progress,
  StepUpdate,
} from "../../shared/gen/agent";
import { AttemptOutcome, StepState } from "../../shared/gen/agent";
import type { Capabilities, StepRecord } from "../../shared/gen/common";
import type { Logger } from "../../shared/logging/logger";
import type { LeaseClock } from "../dispatcher/leases";
import type { JobLifecycle } from "../lifecycle/job-lifecycle";
import type { LogStore } from "../logs/log-store";
import { IllegalTransition } from "../tracker/transitions";
import type { AttemptRow, Tracker } from "../tracker/tracker";
import { errorClassName } from "../../shared/protocol/error-classes";
import { jobTypeName, runsSearch } from "../../shared/protocol/job-types";
import type { LiveProgress } from "./live-progress";
import type { HeartbeatRecords } from "./heartbeat-records";
import type { StepRecords } from "./step-records";
import type { AgentLink, AgentRegistry, AgentState } from "./registry";
import { isLiveAttempt } from "../tracker/states";

/** What a session reads and moves; given by the coordinator's wiring (core.ts). */
export interface SessionDeps {
  tracker: Tracker;
  registry: AgentRegistry;
  /** ends attempts, with every consequence */
  lifecycle: JobLifecycle;
  logs: LogStore;
  /** step reports, written in batches; a result's list with the attempt's end */
  steps: StepRecords;
  /** when each agent was last seen, written in batches */
  heartbeats: HeartbeatRecords;
  progress: LiveProgress;
  leases: LeaseClock;
  /** wakes the dispatcher */
  schedule: () => void;
  /** wakes the dispatcher within a short while (what a heartbeat may have freed), one pass for many calls */
  scheduleSoon: () => void;
  /** the agent reported a toolchain other than the one it had (a canary run may follow) */
  toolchainChanged: (agentId: string) => void;
  leaseS: number;
  /** a write to the coordinator's disk failed (it may be full): new work waits until it has room */
  storageFailed: (err: Error, what: string) => boolean;
  /** the agent's stream ended after it said it was leaving (an ephemeral agent is removed) */
  agentLeft?: (agentId: string) => void;
  log: Logger;
}

export function stepFromRecord(s: StepRecord) {
  return {
    idx: s.index,
    name: s.name,
    argv: s.argv,
    startedAt: s.startedAt,
    wallS: s.wallS,
    cpuS: s.cpuS,
    exitCode: s.exitCode,
    signal: s.signal,
    error: s.error,
  };
}

export class AgentSession implements AgentLink {
  private agent: AgentState | null = null;
  /** results stored but not acknowledged yet: their log is still short of this seq (a full disk refused some) */
  private readonly ackWhenLogged = new Map<number, number>();
  private closed = false;
  private log: Logger;

  constructor(
    private readonly deps: SessionDeps,
    private readonly call: grpc.ServerDuplexStream<AgentMessage, CoordinatorMessage>,
    private readonly agentId: string,
  ) {
    this.log = deps.log.child({ agent: agentId });
    call.on("data", (msg: AgentMessage) => this.receive(msg));
    call.on("end", () => this.detach("the agent closed the stream"));
    call.on("error", (err) => this.detach(`stream error: ${err.message}`));
    call.on("close", () => this.detach("stream closed"));
  }

  send(msg: CoordinatorMessage): void {
    if (!this.closed) this.call.write(msg);
  }

  close(reason: string, refusal?: string): void {
    if (this.closed) return;
    this.log.info({ reason }, "closing agent stream");
    this.detach(reason);
    if (refusal === undefined) this.call.end();
    else this.call.emit("error", Object.assign(new Error(refusal), { code: grpc.status.UNAUTHENTICATED, details: refusal, metadata: new grpc.Metadata() }));
  }

  private cancel(attemptId: number, reason: string): void {
    this.log.warn({ attempt: attemptId, reason }, "telling the agent to cancel");
    this.send({ body: { $case: "cancel", value: { attemptId, reason } } });
  }

  private receive(msg: AgentMessage): void {
    const body = msg.body;
    if (!body) return;
    try {
      if (body.$case === "hello") return this.hello(body.value);
      if (!this.agent) {
        this.call.destroy(new Error("the first message on the stream must be Hello"));
        return;
      }
      switch (body.$case) {
        case "heartbeat":
          return this.heartbeat(body.value);
        case "assignReply":
          return this.assignReply(body.value);
        case "stepUpdate":
          return this.stepUpdate(body.value);
        case "logChunk":
          return this.logChunks([body.value]);
        case "logChunks":
          return this.logChunks(body.value.chunks);
        case "diagnostic":
          return this.diagnostic(body.value);
        case "progress":
          return this.progress(body.value);
        case "attemptResult":
          return this.result(body.value);
        case "leaving":
          this.agent.leaving = true;
          this.log.info({ reason: body.value.reason }, "the agent is stopping: it gets nothing new");
          return;
      }
    } catch (err) {
      // A full disk (the tracker cannot renew, record, end): nothing was acknowledged; new work waits.
      if (!this.deps.storageFailed(err as Error, `an agent's ${body.$case}`)) this.log.error({ err, message: body.$case }, "could not handle an agent message");
    }
  }

  private hello(h: Hello): void {
    if (this.agent) return;
    if (h.agentId !== this.agentId) {
      this.call.destroy(new Error(`Hello names agent '${h.agentId}' but the stream authenticated as '${this.agentId}'`));
      return;
    }
    const d = this.deps;
    const agent = d.registry.get(this.agentId);
    // A newer stream from the same agent replaces an older one that has not noticed it died.
    agent.link?.close("replaced by a new connection from the same agent");
    agent.link = this;
    // A graceful stop under way when it reconnected: still nothing new for it.
    agent.leaving = h.leaving === true;
    agent.holdsAccepts = h.holdsAccepts === true;
    agent.endTime = h.endTime || 0;
    agent.connectedAt = Date.now() / 1000;
    agent.hostname = h.hostname;
    agent.version = h.version;
    agent.labels = h.labels;
    agent.drained = d.tracker.agent(this.agentId)?.drained === 1;
    agent.heartbeat(h.resources, Date.now() / 1000);
    this.agent = agent;
    d.tracker.recordHello(this.agentId, { hostname: h.hostname, version: h.version, labels: h.labels, resources: h.resources });
    agent.capabilities = undefined;
    this.noteCapabilities(h.capabilities);
    this.log.info(
      {
        hostname: h.hostname,
        version: h.version,
        held: h.held.map((a) => a.attemptId),
        endTime: agent.endTime || undefined,
        leaving: agent.leaving || undefined,
      },
      "agent connected",
    );
    this.reattach(h.held);
    this.send({
      body: { $case: "welcome", value: { agentId: this.agentId, drained: agent.drained, leaseS: d.leaseS, logBatches: true, acceptWithResult: true } },
    });
    d.schedule();
  }

  /** Reconciles what the agent holds with what the tracker says it should hold. */
  private reattach(held: HeldAttempt[]): void {
    const d = this.deps;
    const heldIds = new Set(held.map((a) => a.attemptId));
    const lease = Date.now() / 1000 + d.leaseS;
    for (const h of held) {
      const a = d.tracker.attempt(h.attemptId);
      const ours = a && a.agent_id === this.agentId && isLiveAttempt(a.status);
      // Its own finished attempt, already ended here: the result's re-send settles it, and its
      // acknowledgement may still wait for log output a full disk refused (a cancel would drop it).
      if (!ours && a?.agent_id === this.agentId && h.finished) continue;
      if (!ours) {
        this.cancel(
          h.attemptId,
          a ? `attempt ${h.attemptId} is ${a.status}${a.agent_id !== this.agentId ? ` on agent ${a.agent_id}` : ""}` : `no attempt ${h.attemptId}`,
        );
        continue;
      }
      // The accept may have been lost with the old stream: holding it means accepted.
      if (a.status === "assigned") d.tracker.accept(a.id, this.agentId, lease);
      else d.tracker.renewLeases(this.agentId, [a.id], lease);
      this.agent!.reserve(a.id, { cores: a.cores, memory: a.memory, shm: a.shm });
    }
    // What the tracker gave this agent but the agent does not hold: it restarted, or
    // the Assign never arrived. Neither counts against the job. (Only this agent's: after a
    // coordinator restart thousands of agents say Hello at once.)
    for (const a of d.tracker.access.liveAttemptsOf(this.agentId)) {
      if (heldIds.has(a.id)) continue;
      if (a.status === "assigned") d.lifecycle.withdraw(a.id, this.agentId, "the agent reconnected without having received the assignment");
      else d.lifecycle.lose(a.id, this.agentId, "the agent reconnected without the attempt (it restarted)");
    }
  }

  /** Keeps what the agent says it can run; stored and logged when its fitness changes. */
  private noteCapabilities(c: Capabilities | undefined): void {
    const agent = this.agent!;
    const before = agent.capabilities;
    const key = (x: Capabilities | undefined) => JSON.stringify([x?.jobTypes ?? null, x?.toolchain ?? ""]);
    if (before !== undefined && key(before) === key(c)) {
      agent.capabilities = c;
      return;
    }
    // What it reported before this connection too: a coordinator restart is no toolchain change.
    const known = before ?? this.deps.tracker.capabilitiesOf(this.agentId);
    agent.capabilities = c;
    this.deps.tracker.recordCapabilities(this.agentId, c);
    if (c?.toolchain && c.toolchain !== known?.toolchain) this.deps.toolchainChanged(this.agentId);
    for (const f of c?.jobTypes ?? []) {
      const was = before?.jobTypes.find((x) => x.jobType === f.jobType);
      if (was?.fit === f.fit && was.reason === f.reason) continue;
      const type = jobTypeName(f.jobType);
      if (f.fit) this.log.info({ jobType: type }, `the agent can run ${type} jobs`);
      else this.log.warn({ jobType: type, reason: f.reason }, `the agent cannot run ${type} jobs: it gets none`);
    }
  }

  /** Its credential was revoked or the agent removed (the tracker refused its heartbeat): cut off. */
  private refused(): void {
    const row = this.deps.tracker.agent(this.agentId);
    const why = row?.revoked_at != null ? "revoked" : "removed";
    this.close(`the agent was ${why}`, `agent '${this.agentId}' was ${why} by an operator: its credential is refused`);
  }

  private heartbeat(hb: Heartbeat): void {
    const d = this.deps;
    if (this.closed) return;
    // Finished attempts keep their lease too while the agent holds them: their results may
    // take longer than a lease to push, and their end is told only after all of their log.
    const heldIds = hb.held.map((a) => a.attemptId);
    let stale: Set<number>;
    if (heldIds.length === 0) {
      // Nothing to renew: written with other agents' heartbeats, and a revoked or removed
      // agent is cut off then.
      d.heartbeats.report(this.agentId, hb.resources, () => this.refused());
      stale = new Set();
    } else {
      // A revoked or removed agent renews nothing: seen, then renewed, in one transaction.
      d.heartbeats.drop(this.agentId);
      const renewed = d.tracker.transaction(() =>
        d.tracker.recordSeen(this.agentId, hb.resources) ? d.tracker.renewLeases(this.agentId, heldIds, Date.now() / 1000 + d.leaseS) : undefined,
      );
      if (!renewed) return this.refused();
      stale = new Set(renewed);
    }
    this.agent!.heartbeat(hb.resources, Date.now() / 1000);
    if (hb.endTime !== undefined) this.agent!.endTime = hb.endTime || 0;
    if (hb.capabilities) this.noteCapabilities(hb.capabilities);
    // Renewed: the agent counts its fence from when it sent this heartbeat (docs/leases.md).
    if (hb.seq) this.send({ body: { $case: "heartbeatAck", value: { seq: hb.seq } } });
    for (const h of hb.held) {
      // A finished one is settled by its result (or its re-send), which may be on its way.
      if (!stale.has(h.attemptId) || h.finished) continue;
      const a = d.tracker.attempt(h.attemptId);
      this.cancel(h.attemptId, a ? `attempt ${h.attemptId} is ${a.status}` : `no attempt ${h.attemptId}`);
    }
    // A reservation outlives its attempt only if the attempt's end never reached us
    // through this agent (e.g. stopped while the agent was away): the heartbeat says
    // what the agent still holds, the tracker whether the rest is over.
    const held = new Set(hb.held.map((a) => a.attemptId));
    for (const id of [...this.agent!.reserved.keys()]) {
      if (held.has(id)) continue;
      const a = d.tracker.attempt(id);
      if (!a || !isLiveAttempt(a.status)) this.agent!.release(id);
    }
    d.scheduleSoon();
  }

  private assignReply(r: AssignReply): void {
    const d = this.deps;
    if (r.accepted) {
      try {
        d.tracker.accept(r.attemptId, this.agentId, Date.now() / 1000 + d.leaseS);
        d.leases.arm(Date.now() / 1000 + d.leaseS);
      } catch (err) {
        if (!(err instanceof IllegalTransition)) throw err;
        this.cancel(r.attemptId, err.message);
      }
      return;
    }
    this.log.warn({ attempt: r.attemptId, reason: r.reason }, "agent refused an assignment");
    try {
      d.lifecycle.withdraw(r.attemptId, this.agentId, `refused by agent ${this.agentId}: ${r.reason}`);
    } catch (err) {
      // Refused after it was over here (an Assign read late, after a pause): nothing to undo.
      if (!(err instanceof IllegalTransition)) throw err;
    }
  }

  /** Progress of an attempt that is no longer live here is stale news, dropped without a word. */
  private progress(p: Progress): void {
    const a = this.deps.tracker.attempt(p.attemptId);
    if (a && a.agent_id === this.agentId && isLiveAttempt(a.status)) this.deps.progress.report(p);
  }

  /** True when the attempt is this agent's and still live; otherwise tells the agent to cancel it. */
  private current(attemptId: number): boolean {
    const a = this.deps.tracker.attempt(attemptId);
    if (a && a.agent_id === this.agentId && isLiveAttempt(a.status)) return true;
    this.cancel(attemptId, a ? `attempt ${attemptId} is ${a.status}` : `no attempt ${attemptId}`);
    return false;
  }

  private stepUpdate(u: StepUpdate): void {
    if (!u.step) return;
    // An attempt reserved on this agent needs no read here: the write checks whose it is.
    if (!this.agent!.reserved.has(u.attemptId) && !this.current(u.attemptId)) return;
    this.deps.steps.report(u.attemptId, this.agentId, stepFromRecord(u.step));
    if (u.state === StepState.STEP_FINISHED) {
      this.log.debug({ attempt: u.attemptId, step: u.step.name, exit: u.step.exitCode }, "step finished");
    }
  }

  private diagnostic(d: Diagnostic): void {
    if (!this.current(d.attemptId)) return;
    this.deps.tracker.recordDiagnostic(d.attemptId, d.name, d.value ?? null, d.text);
  }

  /**
   * Output of one of this agent's attempts, in whatever state (a lost attempt's log still
   * tells what happened); another agent's attempt, or none, gets nothing stored: the chunks are
   * acknowledged so the sender drops them, and the attempt cancelled on it. A batch is stored
   * a run of one attempt's chunks at a time (one write, one LogAck for each run).
   */
  private logChunks(chunks: LogChunk[]): void {
    for (let i = 0; i < chunks.length; ) {
      const attemptId = chunks[i]!.attemptId;
      let j = i + 1;
      while (j < chunks.length && chunks[j]!.attemptId === attemptId) j++;
      this.logRun(attemptId, chunks.slice(i, j));
      i = j;
    }
  }

  private logRun(attemptId: number, run: LogChunk[]): void {
    const last = run[run.length - 1]!.seq;
    const a = this.deps.tracker.attempt(attemptId);
    if (!a || a.agent_id !== this.agentId) {
      this.log.warn({ attempt: attemptId, owner: a?.agent_id }, "log output for an attempt this agent does not hold: not stored");
      this.cancel(attemptId, a ? `attempt ${attemptId} belongs to agent ${a.agent_id}` : `no attempt ${attemptId}`);
      this.send({ body: { $case: "logAck", value: { attemptId, seq: last, notStored: false } } });
      return;
    }
    let stored: number;
    try {
      stored = this.deps.logs.appendMany(attemptId, run);
    } catch (err) {
      // Nothing of the failed chunk (nor after it) is kept; the agent keeps them and sends them again later.
      this.deps.storageFailed(err as Error, `log output of attempt ${attemptId}`);
      stored = this.deps.logs.storedSeq(attemptId);
    }
    this.send({ body: { $case: "logAck", value: { attemptId, seq: stored, notStored: stored < last } } });
    const owed = this.ackWhenLogged.get(attemptId);
    if (owed !== undefined && stored >= owed) {
      this.ackWhenLogged.delete(attemptId);
      this.deps.logs.close(attemptId);
      this.send({ body: { $case: "resultAck", value: { attemptId } } });
    }
  }

  private result(r: AttemptResult): void {
    const d = this.deps;
    // Made only when something is logged: most results log nothing.
    const log = () => this.log.child({ attempt: r.attemptId });
    const a = d.tracker.attempt(r.attemptId);
    const ack = () => this.send({ body: { $case: "resultAck", value: { attemptId: r.attemptId } } });
    if (!a || a.agent_id !== this.agentId) {
      log().warn("result for an attempt this agent does not hold: ignored");
      ack();
      return;
    }
    // Its steps as the result lists them are the record; they land with the attempt's end.
    const steps = r.steps.map(stepFromRecord);
    const settle = () => d.steps.settle(r.attemptId, steps);
    try {
      if (r.outcome === AttemptOutcome.OUTCOME_SUCCEEDED && this.resultsMissing(a)) {
        // The output dir is set only by a verified PushResults: without it there is nothing to upload.
        const why = `the agent reported success but its results never arrived (they stayed at ${r.resultsDir || "an unknown place"} on ${this.agentId})`;
        d.lifecycle.fail(r.attemptId, this.agentId, "results_missing", why, settle);
        log().warn({ error: why }, "attempt failed");
      } else if (r.outcome === AttemptOutcome.OUTCOME_SUCCEEDED) {
        d.lifecycle.succeed(r.attemptId, this.agentId, settle);
      } else if (r.outcome === AttemptOutcome.OUTCOME_FAILED) {
        const errorClass = errorClassName(r.errorClass);
        const details = `${errorClass}: ${r.errorMessage}`;
        d.lifecycle.fail(r.attemptId, this.agentId, errorClass, r.errorMessage, settle);
        log().warn({ error: details }, "attempt failed");
      } else if (isLiveAttempt(a.status)) {
        // Cancelled by the agent itself (it is shutting down): requeue, not the beam's fault.
        d.lifecycle.lose(r.attemptId, this.agentId, `agent ${this.agentId} cancelled it: ${r.errorMessage}`, settle);
      } else {
        // Cancelled on our word: the tracker moved the job when the cancel was decided.
        settle();
        d.registry.release(r.attemptId, this.agentId);
        d.schedule();
      }
    } catch (err) {
      if (!(err instanceof IllegalTransition)) throw err;
      log().warn({ err: err.message }, "result refused: the attempt is no longer current");
      // Still what ran on this agent for that attempt.
      settle();
      d.registry.release(r.attemptId, this.agentId);
    }
    d.progress.forget(r.attemptId);
    // Stored (or refused for good): the agent may forget the attempt once its whole log is stored
    // too. The agent sends a result after all of its log, but a full disk may have refused some:
    // then the acknowledgement waits for the re-sent chunks, and the agent keeps them meanwhile.
    // An attempt that logged nothing (logSeq 0) has nothing to look up.
    if (r.logSeq === 0 || d.logs.storedSeq(r.attemptId) >= r.logSeq) {
      d.logs.close(r.attemptId);
      ack();
    } else {
      this.ackWhenLogged.set(r.attemptId, r.logSeq);
      log().warn({ storedSeq: d.logs.storedSeq(r.attemptId), logSeq: r.logSeq }, "result stored; its acknowledgement waits for the rest of its log");
    }
  }

  private resultsMissing(a: AttemptRow): boolean {
    if (a.output_dir) return false;
    const job = this.deps.tracker.job(a.job_id);
    return job !== undefined && runsSearch(job.job_type);
  }

  private detach(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    if (this.agent && this.agent.link === this) {
      this.agent.link = null;
      this.log.warn({ reason }, "agent disconnected; its attempts keep their leases");
      if (this.agent.leaving) this.deps.agentLeft?.(this.agentId);
    }
  }
}
