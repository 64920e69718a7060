// Runs an attempt's steps (a command job's list or the search's), several at once
// up to the attempt's reserved cores, each under its own StepRunner (so each has
// its own process group and pgid record), numbered in one sequence for the whole
// attempt. A failed step stops the attempt: the first failure cancels everything
// still running.
import fs from "node:fs";
import type { Logger } from "../../shared/logging/logger";
import { StepRunner } from "./step-runner";
import type { StepErrorClass, StepEvents, StepOutcome, StepSpec } from "./types";

export class StepFailed extends Error {
  constructor(
    readonly outcome: StepOutcome,
    readonly errorClass: StepErrorClass,
  ) {
    super(`step '${outcome.name}' (${outcome.argv.join(" ")}): ${outcome.error ?? "failed"}`);
    this.name = "StepFailed";
  }
}

export class AttemptCancelled extends Error {
  constructor(reason: string) {
    super(`cancelled: ${reason}`);
    this.name = "AttemptCancelled";
  }
}

export interface StepOptions {
  /** also write the step's output to this file (PALFA kept e.g. rfifind's stdout as <base>_rfifind.out) */
  teeTo?: string;
  /** the stage the step's wall time counts toward in the .report */
  stage?: string;
}

/** Limits a step gets unless its own spec sets them. */
export interface StepDefaults {
  timeoutS?: number;
  idleTimeoutS?: number;
}

export interface StepExecutorOptions {
  /** steps run at once (the attempt's reserved cores); at least 1 */
  slots: number;
  /** the steps' runner state: their pgid records (a restarted agent kills what they left), pty status files */
  stateBase: string;
  events: StepEvents;
  killGraceS: number;
  log: Logger;
  defaults?: StepDefaults;
}

export class StepExecutor {
  private next = 0;
  private readonly active = new Set<StepRunner>();
  private free: number;
  private readonly waiting: (() => void)[] = [];
  private cancelled: string | null = null;
  readonly outcomes: StepOutcome[] = [];
  /** wall seconds per stage, for the .report */
  readonly stageSeconds = new Map<string, number>();

  readonly slots: number;
  private readonly stateBase: string;
  private readonly events: StepEvents;
  private readonly killGraceS: number;
  private readonly log: Logger;
  private readonly defaults: StepDefaults;

  constructor(o: StepExecutorOptions) {
    this.slots = o.slots;
    this.stateBase = o.stateBase;
    this.events = o.events;
    this.killGraceS = o.killGraceS;
    this.log = o.log;
    this.defaults = o.defaults ?? {};
    this.free = Math.max(1, o.slots);
  }

  get isCancelled(): boolean {
    return this.cancelled !== null;
  }

  private async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const w = this.waiting.shift();
    if (w) w();
    else this.free++;
  }

  /** Runs one step when a slot is free; throws StepFailed (and cancels the rest) if it fails. */
  async run(spec: StepSpec, opts: StepOptions = {}): Promise<StepOutcome> {
    await this.acquire();
    try {
      if (this.cancelled !== null) throw new AttemptCancelled(this.cancelled);
      const index = this.next++;
      // One state dir for all of them: pgid records are named by their group, pty status files by a sequence.
      const runner = new StepRunner({ killGraceS: this.killGraceS, logger: this.log, stateDir: this.stateBase });
      this.active.add(runner);
      const tee = opts.teeTo ? fs.openSync(opts.teeTo, "w") : undefined;
      try {
        const full: StepSpec = { timeoutS: this.defaults.timeoutS, idleTimeoutS: this.defaults.idleTimeoutS, ...spec };
        const result = await runner.run([full], {
          onStart: (s) => this.events.onStart?.({ ...s, index }),
          onOutput: (_i, name, data) => {
            if (tee !== undefined) fs.writeSync(tee, data);
            this.events.onOutput?.(index, name, data);
          },
          onFinish: (o) => this.events.onFinish?.({ ...o, index }),
        });
        const outcome = { ...result.steps[0]!, index };
        this.outcomes.push(outcome);
        if (opts.stage) this.stageSeconds.set(opts.stage, (this.stageSeconds.get(opts.stage) ?? 0) + outcome.wallS);
        if (!result.ok) {
          if (outcome.errorClass === "cancelled") throw new AttemptCancelled(this.cancelled ?? outcome.error ?? "cancelled");
          const err = new StepFailed(outcome, outcome.errorClass ?? "exit_code");
          void this.cancel(`step '${outcome.name}' failed`);
          throw err;
        }
        return outcome;
      } finally {
        if (tee !== undefined) fs.closeSync(tee);
        this.active.delete(runner);
      }
    } finally {
      this.release();
    }
  }

  /** Runs tasks concurrently (each may run several steps); the first failure rejects after all have settled. */
  async all<T>(tasks: (() => Promise<T>)[]): Promise<T[]> {
    const settled = await Promise.allSettled(tasks.map((t) => t()));
    const failed =
      settled.find((s): s is PromiseRejectedResult => s.status === "rejected" && !(s.reason instanceof AttemptCancelled)) ??
      settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
  }

  async cancel(reason: string): Promise<void> {
    if (this.cancelled !== null) return;
    this.cancelled = reason;
    await Promise.all([...this.active].map((r) => r.cancel(reason)));
  }
}
