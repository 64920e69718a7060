// Runs an attempt's steps one after another, stopping at the first failure, and lets the
// agent cancel the attempt at any moment.
import fs from "node:fs";
import type { Logger } from "../../shared/logging/logger";
import { StepProcess } from "./step-process";
import type { RunResult, StepEvents, StepOutcome, StepSpec } from "./types";

export interface StepRunnerOptions {
  /** seconds between SIGTERM and SIGKILL when stopping a step */
  killGraceS: number;
  logger: Logger;
  /** where running process-group ids and step status files go (inside the attempt's work dir) */
  stateDir: string;
}

export class StepRunner {
  private readonly opts: StepRunnerOptions;
  private running = false;
  private current?: StepProcess;
  private cancelReason?: string;

  constructor(opts: StepRunnerOptions) {
    this.opts = opts;
  }

  async run(steps: StepSpec[], events: StepEvents): Promise<RunResult> {
    // One attempt per runner at a time: the cancel and state-dir bookkeeping assume it.
    if (this.running) throw new Error("StepRunner.run() is already running");
    this.running = true;
    this.cancelReason = undefined;
    const outcomes: StepOutcome[] = [];
    try {
      // Synchronous: a few µs on the work dir's tmpfs, less than a trip through libuv's thread pool.
      fs.mkdirSync(this.opts.stateDir, { recursive: true });
      for (let index = 0; index < steps.length; index++) {
        const spec = steps[index]!;
        if (this.cancelReason !== undefined) {
          // Cancelled between steps: this one never starts, but the result still says why
          // the attempt stopped here.
          const failed: StepOutcome = {
            index,
            name: spec.name,
            argv: spec.argv,
            startedAt: Date.now() / 1000,
            wallS: 0,
            cpuS: 0,
            errorClass: "cancelled",
            error: `cancelled before start: ${this.cancelReason}`,
          };
          outcomes.push(failed);
          return { ok: false, steps: outcomes, failed };
        }
        const proc = new StepProcess({ index, spec, events, ...this.opts });
        this.current = proc;
        const outcome = await proc.start();
        this.current = undefined;
        outcomes.push(outcome);
        if (outcome.errorClass !== undefined) return { ok: false, steps: outcomes, failed: outcome };
      }
      return { ok: true, steps: outcomes };
    } finally {
      this.current = undefined;
      this.running = false;
    }
  }

  /**
   * Stops the attempt: the running step's process group gets SIGTERM, then SIGKILL after
   * killGraceS; no later step starts. Resolves once that group is gone. No-op when idle.
   */
  async cancel(reason: string): Promise<void> {
    if (!this.running) return;
    this.cancelReason ??= reason;
    await this.current?.stop({ cls: "cancelled", message: `cancelled: ${reason}` });
  }
}
