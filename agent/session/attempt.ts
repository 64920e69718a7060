// One assigned attempt on this agent: work dir, stage-in, the job type's steps
// under the runner, live step updates and log chunks, the final result, and
// the work dir removed whatever happened.
import { jobTypeName } from "../../shared/protocol/job-types";
import fs from "node:fs";
import path from "node:path";
import type { AgentMessage, Assign, AttemptResult, CommandStep, Diagnostic, Progress, SearchSpec } from "../../shared/gen/agent";
import { AttemptOutcome, StepState } from "../../shared/gen/agent";
import type { StepRecord } from "../../shared/gen/common";
import type { Logger } from "../../shared/logging/logger";
import type { StepEvents, StepOutcome } from "../runner";
import { AttemptCancelled, StepExecutor, StepFailed } from "../runner/step-executor";
import { runSearch, SearchFailure } from "../search/search-attempt";
import type { Toolchain } from "../search/toolchain/toolchain";
import { diskSpace, diskUsage } from "../resources/resources";
import { formatSize } from "../../shared/config/sizes";
import { type ErrorClassName, errorClassToWire } from "../../shared/protocol/error-classes";
import { searchPhaseToWire } from "../../shared/protocol/search-phases";
import { LogChunker } from "./log-chunker";
import { StagingError, stageFiles, type RemoteOpener } from "../staging/stage";

export interface AttemptSettings {
  workBase: string;
  /** where a search's results are kept (node-local scratch, not /dev/shm) until the coordinator has them */
  resultsBase: string;
  toolchain: (opts: { mock: boolean }) => Promise<Toolchain>;
  killGraceS: number;
  stepTimeoutS: number;
  idleTimeoutS: number;
}

/** Where an attempt's step runner keeps its process-group records, inside the work dir. */
export const STEP_STATE_DIR = ".steps";

/**
 * Removes an attempt's work dir. A command job's is usually left empty but for the step
 * records' dir, emptied as its steps ended: two rmdirs then, not a walk of the tree.
 */
function removeWorkDir(dir: string): void {
  try {
    fs.rmdirSync(path.join(dir, STEP_STATE_DIR));
    fs.rmdirSync(dir);
    return;
  } catch {
    // not empty (or never made): the whole tree goes
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

export function workDirOf(workBase: string, attemptId: number): string {
  return path.join(workBase, String(attemptId));
}

function record(o: StepOutcome): StepRecord {
  return {
    index: o.index,
    name: o.name,
    argv: o.argv,
    startedAt: o.startedAt,
    wallS: o.wallS,
    cpuS: o.cpuS,
    exitCode: o.exitCode,
    signal: o.signal ?? "",
    error: o.error ?? "",
  };
}

/** Command steps may name the attempt's facts (agent/runner/command-template.ts): never through a shell. */
import { expandCommand } from "../runner/command-template";
export { expandCommand };

export interface AttemptExecutionOptions {
  assign: Assign;
  settings: AttemptSettings;
  /** step updates, as they happen */
  send: (msg: AgentMessage) => void;
  /** reads a raw file of the beam from the coordinator, for stage-in */
  openRemote: RemoteOpener;
  log: Logger;
  /** the steps' output, in chunks */
  chunkSink: (step: string, data: Buffer) => void;
  onDiagnostic: (d: Diagnostic) => void;
  onProgress?: (p: Progress) => void;
}

export class AttemptExecution {
  readonly id: number;
  readonly workDir: string;
  readonly resultsDir: string;
  private executor: StepExecutor | null = null;
  private cancelled: string | null = null;
  private readonly chunker: LogChunker;

  readonly assign: Assign;
  private readonly settings: AttemptSettings;
  private readonly send: (msg: AgentMessage) => void;
  private readonly openRemote: RemoteOpener;
  private readonly log: Logger;
  private readonly onDiagnostic: (d: Diagnostic) => void;
  private readonly onProgress: (p: Progress) => void;

  constructor(o: AttemptExecutionOptions) {
    this.assign = o.assign;
    this.settings = o.settings;
    this.send = o.send;
    this.openRemote = o.openRemote;
    this.log = o.log;
    this.onDiagnostic = o.onDiagnostic;
    this.onProgress = o.onProgress ?? (() => undefined);
    this.id = o.assign.attemptId;
    this.workDir = workDirOf(o.settings.workBase, o.assign.attemptId);
    this.resultsDir = path.join(o.settings.resultsBase, String(o.assign.attemptId));
    this.chunker = new LogChunker(o.chunkSink);
  }

  async cancel(reason: string): Promise<void> {
    this.cancelled = reason;
    await this.executor?.cancel(reason);
  }

  private result(outcome: AttemptOutcome, errorClass: ErrorClassName | "" = "", errorMessage = ""): AttemptResult {
    const steps = (this.executor?.outcomes ?? [])
      .slice()
      .sort((a, b) => a.index - b.index)
      .map(record);
    return {
      attemptId: this.id,
      outcome,
      errorClass: errorClassToWire(errorClass),
      errorMessage,
      steps,
      resultsDir: this.assign.spec?.$case === "search" ? this.resultsDir : "",
      logSeq: 0, // set when it is reported, after all of its log (Agent.report)
    };
  }

  private events(): StepEvents {
    return {
      onStart: (s) =>
        this.send({
          body: {
            $case: "stepUpdate",
            value: {
              attemptId: this.id,
              state: StepState.STEP_STARTED,
              step: { index: s.index, name: s.name, argv: s.argv, startedAt: s.startedAt, wallS: 0, cpuS: 0, signal: "", error: "" },
            },
          },
        }),
      onOutput: (_i, name, data) => this.chunker.write(name, data),
      onFinish: (o) => {
        this.chunker.flush();
        this.send({ body: { $case: "stepUpdate", value: { attemptId: this.id, state: StepState.STEP_FINISHED, step: record(o) } } });
      },
    };
  }

  private newExecutor(slots: number): StepExecutor {
    const ex = new StepExecutor({
      slots,
      stateBase: path.join(this.workDir, STEP_STATE_DIR),
      events: this.events(),
      killGraceS: this.settings.killGraceS,
      log: this.log,
      defaults: { timeoutS: this.settings.stepTimeoutS || undefined, idleTimeoutS: this.settings.idleTimeoutS || undefined },
    });
    this.executor = ex;
    if (this.cancelled) void ex.cancel(this.cancelled);
    return ex;
  }

  async run(): Promise<AttemptResult> {
    try {
      this.makeWorkDir();
      const staged = (await stageFiles(this.assign.files, this.workDir, this.openRemote)).map((s) => s.path);
      if (this.cancelled) return this.result(AttemptOutcome.OUTCOME_CANCELLED, "cancelled", this.cancelled);
      const spec = this.assign.spec;
      if (spec?.$case === "commands") await this.runCommands(spec.value.steps, staged);
      else if (spec?.$case === "search") await this.runSearch(spec.value, staged);
      else throw new Error(`job type '${jobTypeName(this.assign.jobType)}' is not supported by this agent`);
      return this.result(AttemptOutcome.OUTCOME_SUCCEEDED);
    } catch (err) {
      return this.failure(err);
    } finally {
      this.chunker.flush();
      this.chunker.close();
      try {
        removeWorkDir(this.workDir);
      } catch (err) {
        this.log.error({ dir: this.workDir, err: (err as Error).message }, "cannot remove the work dir");
      }
    }
  }

  private makeWorkDir(): void {
    try {
      fs.mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOSPC") throw err;
      throw new StagingError(`cannot create the work dir ${this.workDir}: ${e.message}`, "workdir");
    }
  }

  /**
   * Classifies why the attempt ended; a full work filesystem is named as such whatever step
   * hit it, and a program of the search that cannot even be started is the toolchain's fault.
   */
  private failure(err: unknown): AttemptResult {
    if (err instanceof AttemptCancelled || this.cancelled)
      return this.result(AttemptOutcome.OUTCOME_CANCELLED, "cancelled", this.cancelled ?? (err as Error).message);
    if (err instanceof StepFailed) {
      if (workDirFull(this.workDir)) return this.shmFull(`${this.workDir} filled up: ${err.message}`);
      if (err.errorClass === "spawn" && this.assign.spec?.$case === "search") return this.result(AttemptOutcome.OUTCOME_FAILED, "toolchain", err.message);
      return this.result(AttemptOutcome.OUTCOME_FAILED, err.errorClass, err.message);
    }
    if ((err instanceof SearchFailure || err instanceof StagingError) && err.errorClass === "shm_full") return this.shmFull(err.message);
    if (err instanceof SearchFailure || err instanceof StagingError) return this.result(AttemptOutcome.OUTCOME_FAILED, err.errorClass, err.message);
    if ((err as NodeJS.ErrnoException).code === "ENOSPC") return this.shmFull((err as Error).message);
    this.log.error({ err }, "attempt crashed in the agent");
    return this.result(AttemptOutcome.OUTCOME_FAILED, "agent", (err as Error).message);
  }

  /**
   * Whose fault a full work filesystem is: the beam's (shm_full, counted) when the attempt used
   * at least what it reserved, the node's (shm_occupied, not counted) when it used less, for then
   * the space went to something else on the node: leftovers, other tenants.
   */
  private shmFull(message: string): AttemptResult {
    const reserved = this.assign.reservation?.shm ?? 0;
    const used = diskUsage(this.workDir);
    const { total, free } = diskSpace(this.workDir);
    // With nothing reserved (a command job that said nothing of its space), the beam's fault only
    // if the attempt itself holds most of what is in use.
    const itsOwn = reserved > 0 ? used >= reserved : used >= (total - free) / 2;
    if (itsOwn) return this.result(AttemptOutcome.OUTCOME_FAILED, "shm_full", message);
    return this.result(
      AttemptOutcome.OUTCOME_FAILED,
      "shm_occupied",
      `${message} (this attempt used ${formatSize(used)} of the ${formatSize(reserved)} it reserved; ${formatSize(total - free)} of ${formatSize(total)} is in use on the node)`,
    );
  }

  private async runCommands(steps: CommandStep[], files: string[]): Promise<void> {
    const a = this.assign;
    const facts = { workdir: this.workDir, beam: a.beam, job: a.jobId, attempt: a.attemptId, cores: a.reservation?.cores ?? 1, files };
    const ex = this.newExecutor(1);
    for (const s of steps) {
      await ex.run({
        name: s.name,
        argv: expandCommand(s.argv, facts),
        cwd: this.workDir,
        env: { BEAMFLOW_JOB: String(a.jobId), BEAMFLOW_ATTEMPT: String(a.attemptId), BEAMFLOW_WORKDIR: this.workDir, OMP_NUM_THREADS: String(facts.cores) },
        timeoutS: s.timeoutS || this.settings.stepTimeoutS || undefined,
        idleTimeoutS: s.idleTimeoutS || this.settings.idleTimeoutS || undefined,
      });
    }
  }

  private async runSearch(spec: SearchSpec, files: string[]): Promise<void> {
    fs.rmSync(this.resultsDir, { recursive: true, force: true });
    await runSearch({
      assign: this.assign,
      spec,
      stagedFiles: files,
      workDir: this.workDir,
      resultsDir: this.resultsDir,
      cores: this.assign.reservation?.cores || 1,
      toolchain: this.settings.toolchain,
      killGraceS: this.settings.killGraceS,
      stepTimeoutS: this.settings.stepTimeoutS,
      idleTimeoutS: this.settings.idleTimeoutS,
      log: this.log,
      events: this.events(),
      onDiagnostic: (d) => this.onDiagnostic({ attemptId: this.id, name: d.name, value: d.value, text: d.text ?? (d.file ? path.basename(d.file) : "") }),
      onProgress: (x) => this.onProgress({ attemptId: this.id, ...x, phase: searchPhaseToWire(x.phase) }),
      newExecutor: (slots) => this.newExecutor(slots),
    });
  }
}

/** Less than 1 % or 16 MiB left: a step that failed here most likely failed for want of space. */
function workDirFull(dir: string): boolean {
  const { total, free } = diskSpace(dir);
  return total > 0 && (free < total * 0.01 || free < 16 * 2 ** 20);
}
