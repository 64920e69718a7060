// One assigned attempt on this agent: work dir, stage-in, the job type's steps
// under the runner, live step updates and log chunks, the final result, and
// the work dir removed whatever happened.
import fs from "node:fs";
import path from "node:path";
import type { AgentMessage, Assign, AttemptResult } from "../../shared/gen/agent";
import { AttemptOutcome, StepState } from "../../shared/gen/agent";
import type { StepRecord } from "../../shared/gen/common";
import type { Logger } from "../../shared/logging/logger";
import { StepRunner, type StepOutcome, type StepSpec } from "../runner";
import { LogChunker } from "./log-chunker";
import { StagingError, stageFiles, type RemoteOpener } from "../staging/stage";

export interface AttemptSettings {
  workBase: string;
  killGraceS: number;
  stepTimeoutS: number;
  idleTimeoutS: number;
}

export function workDirOf(workBase: string, attemptId: number): string {
  return path.join(workBase, String(attemptId));
}

function record(o: StepOutcome): StepRecord {
  return {
    index: o.index, name: o.name, argv: o.argv, startedAt: o.startedAt, wallS: o.wallS, cpuS: o.cpuS,
    exitCode: o.exitCode, signal: o.signal ?? "", error: o.error ?? "",
  };
}

/** Command steps may name the attempt's facts: {workdir}, {beam}, {job}, {attempt}, {cores}; an argument that is exactly {files} becomes the staged paths. */
export function expandCommand(argv: string[], facts: { workdir: string; beam: string; job: number; attempt: number; cores: number; files: string[] }): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    if (arg === "{files}") { out.push(...facts.files); continue; }
    out.push(arg.replace(/\{(workdir|beam|job|attempt|cores)\}/g, (_, k: keyof typeof facts) => String(facts[k])));
  }
  return out;
}

export class AttemptExecution {
  readonly id: number;
  readonly workDir: string;
  private readonly runner: StepRunner;
  private cancelled: string | null = null;
  private readonly chunker: LogChunker;

  constructor(
    readonly assign: Assign,
    private readonly settings: AttemptSettings,
    private readonly send: (msg: AgentMessage) => void,
    private readonly openRemote: RemoteOpener,
    private readonly log: Logger,
    chunkSink: (step: string, data: Buffer) => void,
  ) {
    this.id = assign.attemptId;
    this.workDir = workDirOf(settings.workBase, assign.attemptId);
    this.runner = new StepRunner({ killGraceS: settings.killGraceS, logger: log, stateDir: this.workDir });
    this.chunker = new LogChunker(chunkSink);
  }

  async cancel(reason: string): Promise<void> {
    this.cancelled = reason;
    await this.runner.cancel(reason);
  }

  private result(outcome: AttemptOutcome, steps: StepOutcome[], errorClass = "", errorMessage = ""): AttemptResult {
    return { attemptId: this.id, outcome, errorClass, errorMessage, steps: steps.map(record) };
  }

  async run(): Promise<AttemptResult> {
    try {
      fs.mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
      const staged = await stageFiles(this.assign.files, this.workDir, this.openRemote);
      if (this.cancelled) return this.result(AttemptOutcome.OUTCOME_CANCELLED, [], "cancelled", this.cancelled);
      const steps = this.steps(staged.map((s) => s.path));
      const run = await this.runner.run(steps, {
        onStart: (s) => this.send({ body: { $case: "stepUpdate", value: { attemptId: this.id, state: StepState.STEP_STARTED, step: { index: s.index, name: s.name, argv: s.argv, startedAt: s.startedAt, wallS: 0, cpuS: 0, signal: "", error: "" } } } }),
        onOutput: (_i, name, data) => this.chunker.write(name, data),
        onFinish: (o) => {
          this.chunker.flush();
          this.send({ body: { $case: "stepUpdate", value: { attemptId: this.id, state: StepState.STEP_FINISHED, step: record(o) } } });
        },
      });
      if (run.ok) return this.result(AttemptOutcome.OUTCOME_SUCCEEDED, run.steps);
      const failed = run.failed!;
      if (this.cancelled || failed.errorClass === "cancelled") return this.result(AttemptOutcome.OUTCOME_CANCELLED, run.steps, "cancelled", this.cancelled ?? failed.error ?? "");
      return this.result(AttemptOutcome.OUTCOME_FAILED, run.steps, failed.errorClass ?? "exit_code", `step '${failed.name}': ${failed.error ?? "failed"}`);
    } catch (err) {
      if (err instanceof StagingError) return this.result(AttemptOutcome.OUTCOME_FAILED, [], err.errorClass, err.message);
      this.log.error({ err }, "attempt crashed in the agent");
      return this.result(AttemptOutcome.OUTCOME_FAILED, [], "agent", (err as Error).message);
    } finally {
      this.chunker.flush();
      this.chunker.close();
      fs.rmSync(this.workDir, { recursive: true, force: true });
    }
  }

  private steps(files: string[]): StepSpec[] {
    const a = this.assign;
    if (a.spec?.$case !== "commands") throw new Error(`job type '${a.jobType}' is not supported by this agent`);
    const facts = { workdir: this.workDir, beam: a.beam, job: a.jobId, attempt: a.attemptId, cores: a.reservation?.cores ?? 1, files };
    return a.spec.value.steps.map((s) => ({
      name: s.name,
      argv: expandCommand(s.argv, facts),
      cwd: this.workDir,
      env: { BEAMFLOW_JOB: String(a.jobId), BEAMFLOW_ATTEMPT: String(a.attemptId), BEAMFLOW_WORKDIR: this.workDir, OMP_NUM_THREADS: String(facts.cores) },
      timeoutS: s.timeoutS || this.settings.stepTimeoutS || undefined,
      idleTimeoutS: s.idleTimeoutS || this.settings.idleTimeoutS || undefined,
    }));
  }
}
