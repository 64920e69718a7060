// One step, start to finish: start it (with pipes through the agent's spawner, or under
// a pty inside the bash wrapper when the step asks for a terminal), stream its output,
// watch its time limits, stop its process group when asked, and produce its outcome.
import fs from "node:fs";
import type net from "node:net";
import path from "node:path";
import * as pty from "node-pty";
import type { Logger } from "../../shared/logging/logger";
import { EndMarkerScanner, newEndMarker } from "./end-marker";
import { classify, type StepStatus, type StopCause } from "./outcome";
import { OutputTail } from "./output-tail";
import { outputGate, type GatedOutput } from "./output-gate";
import { type PgidRecord, pgidRecordFor, removePgidRecord, writePgidRecord } from "./pgid-records";
import { terminateGroup, type TerminateResult } from "./process-group";
import { bootId, groupAlive } from "./procfs";
import { type SpawnClient, type SpawnerEvent, stepSpawner } from "./spawner";
import { stepEnv } from "./step-env";
import type { StepEvents, StepOutcome, StepSpec } from "./types";
import { bashPath, parseStatus, signalName, wrapperArgs } from "./wrapper";

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

let statusFileSeq = 0;

export class StepProcess implements GatedOutput, SpawnClient {
  private readonly o: StepProcessOptions;
  private readonly log: Logger;
  private readonly statusFile: string;
  private readonly tail = new OutputTail();
  private readonly done: Promise<StepOutcome>;
  private resolveDone!: (o: StepOutcome) => void;
  private startedAt = 0;
  private t0 = 0n;
  private pgid?: number;
  private announced = false;
  private finishing = false;
  /** the program has ended by itself (pipe: reaped; pty: its wrapper exited) */
  private exited = false;
  private cause?: StopCause;
  private killing?: Promise<TerminateResult>;
  private timeoutTimer?: NodeJS.Timeout;
  private idleTimer?: NodeJS.Timeout;
  private paused = false;

  // pty steps
  private term?: pty.IPty;
  private endMarker?: Buffer;
  private scanner?: EndMarkerScanner;

  // pipe steps
  private sock?: net.Socket;
  private eof = false;
  private waited?: { status: StepStatus; lifeS: number };
  /** the spawner found the step's group empty when it reaped the program */
  private groupGone = false;

  constructor(o: StepProcessOptions) {
    this.o = o;
    this.log = o.logger;
    // unique: steps running at once may share a state dir (the step executor's)
    this.statusFile = path.join(o.stateDir, `step-${o.index}-${++statusFileSeq}.status`);
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  /** Starts the step; the promise resolves (never rejects) once it and its process group are gone. */
  start(): Promise<StepOutcome> {
    const { spec } = this.o;
    this.startedAt = Date.now() / 1000;
    this.t0 = process.hrtime.bigint();
    const spawnError = precheck(spec);
    if (spawnError !== undefined) {
      this.announce();
      void this.finish({ spawnError });
      return this.done;
    }
    if (spec.timeoutS && spec.timeoutS > 0) {
      const t = spec.timeoutS;
      this.timeoutTimer = setTimeout(() => void this.stop({ cls: "timeout", message: `exceeded its time limit of ${t} s (timeoutS)` }), t * 1000);
    }
    this.armIdleTimer();
    outputGate.join(this);
    const spawner = stepSpawner(this.log);
    if (spec.pty || !spawner.usable) this.startPty();
    else spawner.spawn({ argv: spec.argv, cwd: spec.cwd, env: spec.env }, this);
    return this.done;
  }

  private announce(): void {
    if (this.announced) return;
    this.announced = true;
    const { index, spec } = this.o;
    this.emit("onStart", { index, name: spec.name, argv: spec.argv, startedAt: this.startedAt, ...(this.pgid !== undefined && { pgid: this.pgid }) });
  }

  /** The step's group exists: record it (for a restarted agent) and announce it. */
  private started(pgid: number, startTicks?: number): void {
    const { index, spec } = this.o;
    this.pgid = pgid;
    try {
      const extra = { index, name: spec.name, startedAt: this.startedAt };
      // the spawner read the leader's start time already; a pty step's is read here
      const rec: PgidRecord = startTicks !== undefined ? { pgid, startTicks, bootId: bootId(), agentPid: process.pid, ...extra } : pgidRecordFor(pgid, extra);
      writePgidRecord(this.o.stateDir, rec);
    } catch (e) {
      // Not fatal for this run; only a crash-restart would miss the record.
      this.log.error({ err: e, pgid }, "could not record the step's process group");
    }
    this.log.info({ step: index, stepName: spec.name, argv: spec.argv, cwd: spec.cwd, pgid, pty: this.term !== undefined }, "step started");
    this.announce();
  }

  // ---- pipe steps (through the spawner) -----------------------------------------------------

  onEvent(e: SpawnerEvent | { ev: "unavailable"; why: string } | { ev: "lost"; why: string }): void {
    switch (e.ev) {
      case "started":
        this.started(e.pid, e.startTicks ?? undefined);
        // Stopped before it had started: it goes now.
        if (this.cause && !this.killing) this.kill();
        return;
      case "failed":
        // The same report as the wrapper's: a line in the log, and a spawn failure.
        this.announce();
        this.deliver(Buffer.from(`beamflow: ${e.message}${e.detail}\n`));
        this.exited = true;
        this.eof = true;
        this.waited = { status: { kind: "spawn", rc: e.rc, message: e.message }, lifeS: 0 };
        this.clearTimers();
        void this.finish({});
        return;
      case "exit":
        this.exited = true;
        this.groupGone = e.groupGone === true;
        this.waited = {
          status: {
            kind: "waited",
            cpuS: e.cpu,
            ...(e.signal !== undefined ? { signal: signalName(e.signal) ?? `signal ${e.signal}` } : { exitCode: e.code }),
          },
          lifeS: e.lifeS,
        };
        this.clearTimers(); // also reads on if the gate is shut: the end of file is behind the output
        this.maybeFinishPipe();
        return;
      case "unavailable":
        if (!this.finishing) this.startPty();
        return;
      case "lost":
        this.exited = true;
        this.eof = true;
        this.sock?.destroy();
        this.clearTimers();
        this.announce();
        void this.finish({ spawnError: e.why });
        return;
    }
  }

  attach(sock: net.Socket, head: Buffer): void {
    if (this.finishing || this.eof) {
      sock.destroy();
      return;
    }
    this.sock = sock;
    const onData = (d: Buffer) => {
      this.idleTimer?.refresh();
      this.deliver(d);
    };
    if (head.length) onData(head);
    sock.on("data", onData);
    sock.once("end", () => {
      this.eof = true;
      sock.destroy();
      this.maybeFinishPipe();
    });
    sock.once("close", () => {
      if (this.eof) return;
      this.eof = true;
      this.maybeFinishPipe();
    });
    if (!this.paused) sock.resume();
  }

  private maybeFinishPipe(): void {
    if (this.exited && this.eof && !this.finishing) void this.finish({});
  }

  // ---- pty steps (node-pty, inside the bash wrapper) --------------------------------------

  private startPty(): void {
    const { spec } = this.o;
    this.endMarker = newEndMarker();
    const scanner = (this.scanner = new EndMarkerScanner(this.endMarker));
    let term: pty.IPty;
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
      this.clearTimers();
      this.announce();
      void this.finish({ spawnError: `could not create the step's process: ${e instanceof Error ? e.message : String(e)}` });
      return;
    }
    // forkpty made the child a session (and so process-group) leader: pid == pgid.
    this.term = term;
    this.started(term.pid);
    if (this.paused) term.pause();

    // node-pty types data as string, but with encoding null it delivers Buffers.
    term.onData((d: string | Buffer) => this.onPtyData(typeof d === "string" ? Buffer.from(d) : d));
    term.onExit((e) => {
      this.exited = true;
      this.clearTimers();
      const rest = scanner.flush(); // only non-empty if the wrapper died before its marker
      if (rest.length) this.deliver(rest);
      void this.finish({ ptyExit: e });
    });
    if (this.cause && !this.killing) this.kill();
  }

  private onPtyData(chunk: Buffer): void {
    this.idleTimer?.refresh();
    const scanner = this.scanner!;
    const wasFound = scanner.found;
    const buf = scanner.push(chunk);
    if (buf.length) this.deliver(buf);
    if (!wasFound && scanner.found) {
      // Everything the program wrote has now been read: let the wrapper exit.
      this.clearTimers();
      try {
        this.term?.write("\n");
      } catch (e) {
        this.log.warn({ err: e }, "could not answer the step wrapper; it exits on its own after 10 s");
      }
    }
  }

  // ---- both ------------------------------------------------------------------------------

  /** Ended by itself: a pipe step's program was reaped, or a pty step's end marker came. */
  private get programEnded(): boolean {
    return this.exited || this.scanner?.found === true;
  }

  private armIdleTimer(): void {
    const t = this.o.spec.idleTimeoutS;
    if (!t || t <= 0 || this.programEnded || this.cause || this.paused) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.stop({ cls: "no_output", message: `produced no output for ${t} s (idleTimeoutS)` }), t * 1000);
  }

  /** The log spool is full: stop reading, so the program blocks on write; not idleness. */
  pauseOutput(): void {
    this.paused = true;
    clearTimeout(this.idleTimer);
    this.term?.pause();
    this.sock?.pause();
  }

  resumeOutput(): void {
    this.paused = false;
    this.term?.resume();
    this.sock?.resume();
    this.armIdleTimer();
  }

  /**
   * Stops the step's whole process group (SIGTERM, grace, SIGKILL). The first cause wins,
   * and a step that has already exited on its own keeps its own outcome. Resolves with the
   * outcome once the group is gone.
   */
  stop(cause: StopCause): Promise<StepOutcome> {
    if (this.programEnded || this.cause || this.finishing) return this.done;
    this.cause = cause;
    this.clearTimers();
    // Not started yet (the spawner has not answered): it is stopped as soon as it has.
    if (this.pgid !== undefined) this.kill();
    return this.done;
  }

  private kill(): void {
    const pgid = this.pgid!;
    this.log.info({ step: this.o.index, stepName: this.o.spec.name, pgid, reason: this.cause?.cls }, "stopping step");
    this.killing = terminateGroup(pgid, this.o.killGraceS, this.log).catch((e: unknown) => {
      this.log.error({ err: e, pgid }, "could not signal the step's process group");
      return { gone: false };
    });
  }

  private deliver(buf: Buffer): void {
    this.tail.push(buf);
    this.emit("onOutput", this.o.index, this.o.spec.name, buf);
  }

  private clearTimers(): void {
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    // Ending (ended, or being stopped): read whatever is left, or the output never closes.
    outputGate.leave(this);
    if (this.paused) {
      this.paused = false;
      this.term?.resume();
      this.sock?.resume();
    }
  }

  private async finish(end: { spawnError?: string; ptyExit?: { exitCode: number; signal?: number } }): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    const wallS = Number(process.hrtime.bigint() - this.t0) / 1e9;
    let terminate: TerminateResult | undefined;
    let status: StepStatus | undefined = this.waited?.status;
    const pgid = this.pgid;
    try {
      if (this.killing) {
        terminate = await this.killing;
      } else if (pgid !== undefined && !this.groupGone && groupAlive(pgid)) {
        // The step is over but something it started (e.g. a daemonised helper that ignores
        // SIGHUP) is still in its group. Nothing will wait for it, so it goes.
        this.log.warn({ step: this.o.index, pgid }, "step left processes running in its group; terminating them");
        terminate = await terminateGroup(pgid, this.o.killGraceS, this.log);
        terminate = { gone: terminate.gone }; // the step's own outcome stands; only keep "gone"
      }
      if (pgid !== undefined) {
        if (this.term) {
          status = await fs.promises.readFile(this.statusFile, "utf8").then(parseStatus, () => undefined);
          fs.rmSync(this.statusFile, { force: true });
        }
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
      ...(this.waited?.lifeS !== undefined && pgid !== undefined && { programWallS: this.waited.lifeS }),
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
