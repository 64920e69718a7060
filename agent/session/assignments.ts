// The coordinator's assignments: each accepted, or refused with why (the agent is
// stopping, the job type is unknown, or the agent can no longer run it), and run as
// an AttemptExecution whose step updates, log output, diagnostics and progress go
// out as they happen. A finished attempt's result is reported, a succeeded search's
// only once its results are pushed.
import { jobTypeName } from "../../shared/protocol/job-types";
import {
  AttemptOutcome,
  ErrorClass,
  type AgentMessage,
  type Assign,
  type AttemptResult,
  type FileRef,
  StepState,
  type StepUpdate,
} from "../../shared/gen/agent";
import type { Logger } from "../../shared/logging/logger";
import type { Readable } from "node:stream";
import type { FitnessMonitor } from "../fitness/monitor";
import type { AgentMetrics } from "../metrics/agent-metrics";
import { AttemptExecution, type AttemptSettings } from "./attempt";
import type { LogPump } from "./log-pump";
import type { LogSpool } from "./log-spool";
import type { Outbox } from "./outbox";
import type { ResultsPusher } from "./results-push";

const OUTCOME_NAMES: Partial<Record<AttemptOutcome, string>> = {
  [AttemptOutcome.OUTCOME_SUCCEEDED]: "succeeded",
  [AttemptOutcome.OUTCOME_FAILED]: "failed",
  [AttemptOutcome.OUTCOME_CANCELLED]: "cancelled",
};

export interface AssignmentsOptions {
  settings: AttemptSettings;
  fitness: FitnessMonitor;
  spool: LogSpool;
  pump: LogPump;
  outbox: Outbox;
  pusher: ResultsPusher;
  metrics: AgentMetrics;
  /** keeps a finished attempt's result until acknowledged and sends it after the attempt's log */
  report: (result: AttemptResult) => void;
  /** sends on the welcomed stream (dropped without one) */
  send: (msg: AgentMessage) => void;
  /** the attempt is taken: told soon, unless its result goes first (Holdback) */
  accept: (attemptId: number) => void;
  /** a step started or ended: told soon, unless the attempt's result goes first (Holdback) */
  stepUpdate: (u: StepUpdate) => void;
  /** tells the coordinator at once what the agent can run now */
  sendCapabilities: () => void;
  /** a raw file of the beam, read from the coordinator */
  fetch: (attemptId: number, f: FileRef) => Readable;
  /** why the attempts were fenced (the lease may have run out), if they were */
  fencedWhy: () => string | undefined;
  /** why nothing new may start because the lease may have run out (LeaseFence.lapsed) */
  leaseLapsed: () => string | undefined;
  /** why an attempt that started at `since` (monotonic ms) was stopped by the fence watchdog, if it may have been */
  watchdogKilled: (since: number) => string | undefined;
  /** the agent is shutting down: nothing new is taken */
  stopping: () => boolean;
  log: Logger;
}

export class Assignments {
  private readonly running = new Map<number, AttemptExecution>();
  private readonly finishing = new Set<Promise<void>>();

  constructor(private readonly o: AssignmentsOptions) {}

  /** Attempts running now. */
  runningIds(): number[] {
    return [...this.running.keys()];
  }

  get runningCount(): number {
    return this.running.size;
  }

  isRunning(attemptId: number): boolean {
    return this.running.has(attemptId);
  }

  assign(a: Assign): void {
    const log = this.o.log.child({ job: a.jobId, attempt: a.attemptId });
    const refuse = (reason: string) => {
      log.warn({ reason }, "refusing an assignment");
      this.o.send({ body: { $case: "assignReply", value: { attemptId: a.attemptId, accepted: false, reason } } });
    };
    if (this.o.stopping()) return refuse("the agent is shutting down");
    if (this.running.has(a.attemptId) || this.o.outbox.hasResult(a.attemptId)) {
      // A re-sent Assign for an attempt already under way: accept again, run once.
      this.o.accept(a.attemptId);
      return;
    }
    // Read after a pause longer than the lease: the coordinator may have given it to another agent.
    const lapsed = this.o.leaseLapsed();
    if (lapsed !== undefined) return refuse(lapsed);
    if (a.spec?.$case !== "commands" && a.spec?.$case !== "search") return refuse(`job type '${jobTypeName(a.jobType)}' is not supported by this agent`);
    // Sent before the coordinator heard that this agent can no longer run it: not counted, it goes elsewhere.
    const unfit = this.o.fitness.unfitFor(a.jobType);
    if (unfit !== undefined) {
      // What it can run goes first (the stream keeps order), so the refused job is not sent straight back.
      this.o.sendCapabilities();
      return refuse(`this agent cannot run ${jobTypeName(a.jobType)} jobs now: ${unfit}`);
    }
    const exec = this.execution(a, log);
    const startedAt = performance.now();
    this.running.set(a.attemptId, exec);
    this.o.accept(a.attemptId);
    log.info({ beam: a.beam, files: a.files.length }, "attempt started");
    const done = exec.run().then((result) => this.finished(a, exec, result, log, startedAt));
    this.finishing.add(done);
    void done.finally(() => this.finishing.delete(done));
  }

  private execution(a: Assign, log: Logger): AttemptExecution {
    return new AttemptExecution({
      assign: a,
      settings: this.o.settings,
      log,
      openRemote: (f) => this.o.fetch(a.attemptId, f),
      send: (m) => {
        const b = m.body;
        if (b?.$case !== "stepUpdate") return this.o.send(m);
        if (b.value.state === StepState.STEP_FINISHED && b.value.step) this.o.metrics.stepFinished(b.value.step.name, b.value.step.wallS);
        this.o.stepUpdate(b.value);
      },
      chunkSink: (step, data) => {
        this.o.spool.add(a.attemptId, step, data);
        this.o.pump.pumpSoon();
      },
      onDiagnostic: (d) => {
        this.o.outbox.addDiagnostic(d);
        this.o.send({ body: { $case: "diagnostic", value: d } });
      },
      onProgress: (p) => {
        this.o.outbox.setProgress(p);
        this.o.send({ body: { $case: "progress", value: p } });
      },
    });
  }

  private async finished(a: Assign, exec: AttemptExecution, resultAsRun: AttemptResult, log: Logger, startedAt: number): Promise<void> {
    let result = resultAsRun;
    // Killed by the fence (the watchdog may have been first, while the agent was paused, and a
    // renewal may have come since): not the beam's failure.
    const fenced = result.outcome === AttemptOutcome.OUTCOME_FAILED ? (this.o.fencedWhy() ?? this.o.watchdogKilled(startedAt)) : undefined;
    if (fenced) result = { ...result, outcome: AttemptOutcome.OUTCOME_CANCELLED, errorClass: ErrorClass.ERROR_CLASS_CANCELLED, errorMessage: fenced };
    log.info({ outcome: result.outcome, error: result.errorMessage || undefined }, "attempt finished");
    // A failure may be the node's (a program gone, the work dir unwritable): what the agent
    // can run is checked again and told before the failure, so the beam is not sent back here.
    if (result.outcome === AttemptOutcome.OUTCOME_FAILED) {
      await this.o.fitness.recheck(`attempt ${a.attemptId} failed (${result.errorClass})`).catch((err: Error) => log.error({ err }, "fitness check failed"));
    }
    this.o.metrics.attemptFinished(OUTCOME_NAMES[result.outcome] ?? "unknown");
    if (result.outcome === AttemptOutcome.OUTCOME_SUCCEEDED && a.spec?.$case === "search") {
      this.running.delete(a.attemptId);
      // Not awaited: a stop hands back a search still pushing without waiting for the push.
      void this.o.pusher.add(result, exec.resultsDir, log);
      return;
    }
    this.o.report(result);
    this.running.delete(a.attemptId);
  }

  /** Cancels the attempt if it runs here; false if it does not. */
  cancel(attemptId: number, reason: string): boolean {
    const run = this.running.get(attemptId);
    if (!run) return false;
    this.o.log.warn({ attempt: attemptId, reason }, "cancelling on the coordinator's word");
    void run.cancel(reason);
    return true;
  }

  /** Stops every running attempt at once (the lease may run out): each is reported cancelled, with why. */
  fenceAll(reason: string): void {
    for (const run of this.running.values()) void run.cancel(reason);
  }

  /**
   * Cancels every running attempt (killing their process groups) and waits until all are
   * reported, each once its steps are gone (a search that succeeded meanwhile goes to its push).
   */
  async stopAll(reason: string): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.cancel(reason)));
    await Promise.all([...this.finishing]);
  }
}
