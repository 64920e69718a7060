// One step, start to finish: spawn it under a pty (inside the wrapper), stream its output,
// watch its time limits, stop its process group when asked, and produce its outcome.
import fs from "node:fs";
import path from "node:path";
import * as pty from "node-pty";
import type { Logger } from "../../shared/logging/logger";
import { EndMarkerScanner, newEndMarker } from "./end-marker";
import { classify, type StopCause } from "./outcome";
import { OutputTail } from "./output-tail";
import { outputGate, type GatedOutput } from "./output-gate";
import { removePgidRecord, pgidRecordFor, writePgidRecord } from "./pgid-records";
import { terminateGroup, type TerminateResult } from "./process-group";
import { groupAlive } from "./procfs";
import type { StepEvents, StepOutcome, StepSpec } from "./types";
import { bashPath, parseStatus, wrapperArgs, type WrapperStatus } from "./wrapper";

// Wide enough that survey programs' tables and progress lines don't get wrapped by the
// terminal; the rows don't matter for line-oriented output.
const PTY_COLS = 250;
const PTY_ROWS = 50;

export interface StepProcessOptions {
  index: number;
  spec: StepSpec;
  stateDir: string;
  killGraceS: number;
  logger: Logger;
  events: StepEvents;
}

/**
 * The agent's environment, read once: process.env is a getenv() per key, which
 * costs more than the fork itself when thousands of short steps run. BASH_ENV
 * would make the wrapper run a file before every step, so it is left out.
 */
let baseEnv: Record<string, string> | undefined;
function stepEnv(extra: Record<string, string> | undefined): Record<string, string> {
  if (!baseEnv) {
    baseEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) baseEnv[k] = v;
    // These describe the agent's own terminal (if any), not the pty, and would mislead
    // programs that format for the screen width.
    delete baseEnv.COLUMNS;
    delete baseEnv.LINES;
    delete baseEnv.BASH_ENV;
    baseEnv.TERM = "dumb"; // no colour/cursor escapes in the logs, unless the step asks for them
  }
  return { ...baseEnv, ...extra };
}

/** Why the process can't be created, checked up front because forkpty's child would only `_exit(1)`. */
function precheck(spec: StepSpec): string | undefined {
  if (!Array.isArray(spec.argv) || spec.argv.length === 0 || spec.argv[0] === "") return "empty argv";
  if (spec.argv.some((a) => typeof a !== "string" || a.includes("\0"))) return "argv must be strings without NUL bytes";
  try {
    if (!fs.statSync(spec.cwd).isDirectory()) return `cwd ${spec.cwd} is not a directory`;
  } catch (e) {
    return `cwd ${spec.cwd} is not usable: ${(e as NodeJS.ErrnoException).code ?? String(e)}`;
  }
  return undefined;
}

export class StepProcess implements GatedOutput {
  private readonly o: StepProcessOptions;
  private readonly log: Logger;
  private readonly statusFile: string;
  private readonly tail = new OutputTail();
  private readonly endMarker = newEndMarker();
  private readonly scanner = new EndMarkerScanner(this.endMarker);
  private term?: pty.IPty;
  private readonly done: Promise<StepOutcome>;
  private resolveDone!: (o: StepOutcome) => void;
  private startedAt = 0;
  private t0 = 0n;
  private pgid?: number;
  private exited = false;
  private cause?: StopCause;
  private killing?: Promise<TerminateResult>;
  private timeoutTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;

  constructor(o: StepProcessOptions) {
    this.o = o;
    this.log = o.logger;
    this.statusFile = path.join(o.stateDir, `step-${o.index}.status`);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Starts the step; the promise resolves (never rejects) once it and its process group are gone. */
  start(): Promise<StepOutcome> {
    const { index, spec } = this.o;
    this.startedAt = Date.now() / 1000;
    this.t0 = process.hrtime.bigint();
    let spawnError = precheck(spec);
    let term: pty.IPty | undefined;
    if (spawnError === undefined) {
      try {
        fs.rmSync(this.statusFile, { force: true }); // a previous attempt's, must not be mistaken for ours
        const env = stepEnv(spec.env);
        term = pty.spawn(bashPath(), wrapperArgs(this.statusFile, this.endMarker, spec.argv), {
          name: env.TERM ?? "dumb",
          cols: PTY_COLS,
          rows: PTY_ROWS,
          cwd: spec.cwd,
          env,
          encoding: null, // raw Buffers: the log layer decodes, and a chunk may split a UTF-8 sequence
        });
      } catch (e) {
        spawnError = `could not create the step's process: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    if (!term) {
      this.emit("onStart", { index, name: spec.name, argv: spec.argv, startedAt: this.startedAt });
      void this.finish({ spawnError });
      return this.done;
    }

    // forkpty made the child a session (and so process-group) leader: pid == pgid.
    this.term = term;
    const pgid = (this.pgid = term.pid);
    try {
      writePgidRecord(this.o.stateDir, pgidRecordFor(pgid, { index, name: spec.name, startedAt: this.startedAt }));
    } catch (e) {
      // Not fatal for this run; only a crash-restart would miss the record.
      this.log.error({ err: e, pgid }, "could not record the step's process group");
    }
    this.log.info({ step: index, stepName: spec.name, argv: spec.argv, cwd: spec.cwd, pgid }, "step started");
    this.emit("onStart", { index, name: spec.name, argv: spec.argv, startedAt: this.startedAt, pgid });

    // node-pty types data as string, but with encoding null it delivers Buffers.
    term.onData((d: string | Buffer) => this.onData(typeof d === "string" ? Buffer.from(d) : d));
    term.onExit((e) => {
      this.exited = true;
      this.clearTimers();
      const rest = this.scanner.flush(); // only non-empty if the wrapper died before its marker
      if (rest.length) this.deliver(rest);
      void this.finish({ ptyExit: e });
    });

    if (spec.timeoutS && spec.timeoutS > 0) {
      const t = spec.timeoutS;
      this.timeoutTimer = setTimeout(() => void this.stop({ cls: "timeout", message: `exceeded its time limit of ${t} s (timeoutS)` }), t * 1000);
    }
    this.armIdleTimer();
    outputGate.join(this);
    return this.done;
  }

  private armIdleTimer(): void {
    const t = this.o.spec.idleTimeoutS;
    if (!t || t <= 0 || this.exited || this.cause || this.scanner.found) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.stop({ cls: "no_output", message: `produced no output for ${t} s (idleTimeoutS)` }), t * 1000);
  }

  /** The log spool is full: stop reading, so the program blocks on write; not idleness. */
  pauseOutput(): void {
    clearTimeout(this.idleTimer);
    this.term?.pause();
  }

  resumeOutput(): void {
    this.term?.resume();
    this.armIdleTimer();
  }

  /**
   * Stops the step's whole process group (SIGTERM, grace, SIGKILL). The first cause wins,
   * and a step that has already exited on its own keeps its own outcome. Resolves with the
   * outcome once the group is gone.
   */
  stop(cause: StopCause): Promise<StepOutcome> {
    // Once the marker is in, the program has ended by itself; only the wrapper is left.
    if (this.pgid !== undefined && !this.exited && !this.scanner.found && !this.cause) {
      this.cause = cause;
      this.clearTimers();
      this.log.info({ step: this.o.index, stepName: this.o.spec.name, pgid: this.pgid, reason: cause.cls }, "stopping step");
      this.killing = terminateGroup(this.pgid, this.o.killGraceS, this.log).catch((e: unknown) => {
        this.log.error({ err: e, pgid: this.pgid }, "could not signal the step's process group");
        return { gone: false };
      });
    }
    return this.done;
  }

  private onData(chunk: Buffer): void {
    this.idleTimer?.refresh();
    const wasFound = this.scanner.found;
    const buf = this.scanner.push(chunk);
    if (buf.length) this.deliver(buf);
    if (!wasFound && this.scanner.found) {
      // Everything the program wrote has now been read: let the wrapper exit.
      this.clearTimers();
      try {
        this.term?.write("\n");
      } catch (e) {
        this.log.warn({ err: e }, "could not answer the step wrapper; it exits on its own after 10 s");
      }
    }
  }

  private deliver(buf: Buffer): void {
    this.tail.push(buf);
    this.emit("onOutput", this.o.index, this.o.spec.name, buf);
  }

  private clearTimers(): void {
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    // Ending (marker seen, exited, or being stopped): read whatever is left, or the pty never closes.
    outputGate.leave(this);
    if (outputGate.isShut) this.term?.resume();
  }

  private async finish(end: { spawnError?: string; ptyExit?: { exitCode: number; signal?: number } }): Promise<void> {
    const wallS = Number(process.hrtime.bigint() - this.t0) / 1e9;
    let terminate: TerminateResult | undefined;
    let status: WrapperStatus | undefined;
    const pgid = this.pgid;
    try {
      if (this.killing) {
        terminate = await this.killing;
      } else if (pgid !== undefined && groupAlive(pgid)) {
        // The step is over but something it started (e.g. a daemonised helper that ignores
        // SIGHUP) is still in its group. Nothing will wait for it, so it goes.
        this.log.warn({ step: this.o.index, pgid }, "step left processes running in its group; terminating them");
        terminate = await terminateGroup(pgid, this.o.killGraceS, this.log);
        terminate = { gone: terminate.gone }; // the step's own outcome stands; only keep "gone"
      }
      if (pgid !== undefined) {
        status = await fs.promises.readFile(this.statusFile, "utf8").then(parseStatus, () => undefined);
        fs.rmSync(this.statusFile, { force: true });
        // Keep the record if something survived SIGKILL, so a later killStaleProcessGroups retries.
        if (terminate?.gone !== false) removePgidRecord(this.o.stateDir, pgid);
      }
    } catch (e) {
      this.log.error({ err: e, pgid }, "error while cleaning up after a step");
    }

    const c = classify({
      spawnError: end.spawnError,
      ptyExit: end.ptyExit,
      cause: this.cause,
      status,
      terminate,
      pgid,
      lastOutputLine: this.tail.lastLine(),
    });
    const { index, spec } = this.o;
    const outcome: StepOutcome = {
      index,
      name: spec.name,
      argv: spec.argv,
      startedAt: this.startedAt,
      wallS: Math.round(wallS * 1000) / 1000,
      cpuS: c.cpuS,
      ...(c.exitCode !== undefined && { exitCode: c.exitCode }),
      ...(c.signal !== undefined && { signal: c.signal }),
      ...(c.error !== undefined && { error: c.error }),
      ...(c.errorClass !== undefined && { errorClass: c.errorClass }),
      ...(pgid !== undefined && { pgid }),
    };
    this.log.info(
      {
        step: index,
        stepName: spec.name,
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        wallS: outcome.wallS,
        cpuS: outcome.cpuS,
        errorClass: outcome.errorClass,
        error: outcome.error,
      },
      "step finished",
    );
    this.emit("onFinish", outcome);
    this.resolveDone(outcome);
  }

  /** Caller callbacks must not be able to break the runner (they run inside pty event handlers). */
  private emit<K extends keyof StepEvents>(name: K, ...args: Parameters<NonNullable<StepEvents[K]>>): void {
    const fn = this.o.events[name] as ((...a: unknown[]) => void) | undefined;
    if (!fn) return;
    try {
      fn.apply(this.o.events, args);
    } catch (e) {
      this.log.error({ err: e, event: name }, "step event handler threw");
    }
  }
}
