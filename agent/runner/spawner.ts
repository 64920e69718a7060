// The agent's side of the step spawner (spawner-script.ts): one small Python process per
// agent that starts pipe steps with posix_spawn and reaps them with wait4, and a Unix
// socket the steps' output arrives on. Starting a step costs the agent one line of JSON
// and one accepted connection; forking the agent's own Node process (what node-pty and
// child_process do) costs several ms of page-table copying per step on a busy node.
//
// If no python3 can run the spawner, every step falls back to the pty path (slower,
// same guarantees); that is logged once. BEAMFLOW_SPAWNER_PYTHON names the interpreter.
import { type ChildProcess, spawn as spawnChild } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import type { Logger } from "../../shared/logging/logger";
import { SPAWNER_SCRIPT } from "./spawner-script";
import { makeSocketDir, SOCKET_NAME, sweepDeadSocketDirs } from "./spawner-socket-dirs";

/**
 * The last word of the spawner's command line (the script ignores it): how the fence watchdog
 * tells the spawner, which leads a process group of its own, from the steps it must kill.
 */
export const SPAWNER_MARK = "--beamflow-step-spawner";
import { stepBaseEnv } from "./step-env";

export type SpawnerEvent =
  | { ev: "started"; id: number; pid: number; startTicks: number | null }
  | { ev: "failed"; id: number; rc: number; message: string; detail: string }
  | { ev: "exit"; id: number; code?: number; signal?: number; cpu: number; lifeS: number; groupGone?: boolean };

/** What a pipe step gets told; the output socket arrives separately through attach. */
export interface SpawnClient {
  /** the spawner's news about this step; "unavailable" means: run it some other way */
  onEvent(e: SpawnerEvent | { ev: "unavailable"; why: string } | { ev: "lost"; why: string }): void;
  /** the step's output socket (stdout and stderr), with whatever came after the token */
  attach(sock: net.Socket, head: Buffer): void;
}

export interface SpawnRequest {
  argv: string[];
  cwd: string;
  env?: Record<string, string>;
}

const TOKEN_BYTES = 16;
const TOKEN_CHARS = TOKEN_BYTES * 2;

export class Spawner {
  private child?: ChildProcess;
  private server?: net.Server;
  private dir?: string;
  private ready = false;
  private dead?: string;
  private nextId = 1;
  /** by request id, until the step's exit (or failure) is known */
  private readonly clients = new Map<number, SpawnClient>();
  /** by token, until the step's output socket has connected */
  private readonly byToken = new Map<string, SpawnClient>();
  private queued: string[] = [];
  private lineBuf = "";
  private warned = false;
  /** whether the socket directories of dead agents were looked for (once per agent) */
  private swept = false;
  private readonly tokenPrefix = crypto.randomBytes(TOKEN_BYTES / 2).toString("hex");

  constructor(
    private readonly python: string,
    private log?: Logger,
  ) {}

  /** The spawner process's pid, once it runs (for measuring its CPU). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** False once the spawner has been found not to work here (no python3, too old, ...). */
  get usable(): boolean {
    return this.dead === undefined;
  }

  /** Starts the process now, so the first step does not wait for Python to load. */
  warm(log?: Logger): void {
    if (log) this.log ??= log;
    if (this.dead === undefined && !this.child) this.launch();
  }

  spawn(req: SpawnRequest, client: SpawnClient): void {
    if (this.dead !== undefined) {
      client.onEvent({ ev: "unavailable", why: this.dead });
      return;
    }
    if (!this.child) this.launch();
    const id = this.nextId++;
    // Unguessable enough (only this user can reach the socket's directory anyway), and no
    // call into the random source per step.
    const token = this.tokenPrefix + id.toString(16).padStart(TOKEN_CHARS / 2, "0");
    this.clients.set(id, client);
    this.byToken.set(token, client);
    const line = JSON.stringify({ id, token, argv: req.argv, cwd: req.cwd, env: req.env }) + "\n";
    if (this.ready) this.child!.stdin!.write(line);
    else this.queued.push(line);
    this.refCount();
  }

  /** Forgets a step's token (its output socket will not come: it failed, or the spawner died). */
  forget(client: SpawnClient): void {
    for (const [t, c] of this.byToken) if (c === client) this.byToken.delete(t);
  }

  removeSocketDir(): void {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private launch(): void {
    const dir = makeSocketDir();
    this.dir = dir;
    if (!this.swept) {
      this.swept = true;
      void sweepDeadSocketDirs(dir).then(
        (n) => n > 0 && this.log?.info({ removed: n }, "removed the step-output socket directories of agents that are gone"),
        (err: Error) => this.log?.warn({ err }, "could not look for step-output socket directories of agents that are gone"),
      );
    }
    const sockPath = path.join(dir, SOCKET_NAME);
    const server = net.createServer((sock) => this.accept(sock));
    server.on("error", (e) => this.fail(`its output socket failed: ${e.message}`));
    server.listen(sockPath);
    server.unref();
    this.server = server;
    let child: ChildProcess;
    try {
      child = spawnChild(this.python, ["-I", "-S", "-c", SPAWNER_SCRIPT, sockPath, SPAWNER_MARK], {
        stdio: ["pipe", "pipe", "inherit"],
        // its own session: a terminal's ^C to the agent must not take the steps' reaper with it
        detached: true,
      });
    } catch (e) {
      this.fail(`cannot start ${this.python}: ${(e as Error).message}`);
      return;
    }
    this.child = child;
    child.unref();
    // Python's print() to a pipe waits for 8 KiB unless told otherwise; under a pty it
    // went out line by line, and `logs -f` should still show a script's progress live.
    child.stdin!.write(JSON.stringify({ env: { PYTHONUNBUFFERED: "1", ...stepBaseEnv() } }) + "\n");
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => this.onLines(d));
    child.stdin!.on("error", () => undefined); // the exit handler says what happened
    child.on("error", (e) => this.fail(`cannot start ${this.python}: ${e.message}`));
    child.on("exit", (code, sig) => this.fail(`${this.python} exited (${sig ?? `code ${String(code)}`})`));
    this.refCount();
  }

  private onLines(d: string): void {
    const parts = (this.lineBuf + d).split("\n");
    this.lineBuf = parts.pop()!;
    for (const p of parts) {
      if (!p) continue;
      let m: SpawnerEvent | { ev: "ready"; pid: number };
      try {
        m = JSON.parse(p) as typeof m;
      } catch {
        this.log?.error({ line: p }, "step spawner said something unreadable");
        continue;
      }
      if (m.ev === "ready") {
        this.ready = true;
        this.log?.debug({ pid: m.pid }, "step spawner ready");
        for (const l of this.queued) this.child!.stdin!.write(l);
        this.queued = [];
        continue;
      }
      const c = this.clients.get(m.id);
      if (!c) continue;
      if (m.ev !== "started") {
        this.clients.delete(m.id);
        if (m.ev === "failed") this.forget(c);
      }
      c.onEvent(m);
    }
    this.refCount();
  }

  private accept(sock: net.Socket): void {
    let head: Buffer = Buffer.alloc(0);
    const onData = (d: Buffer) => {
      head = head.length ? Buffer.concat([head, d]) : d;
      if (head.length < TOKEN_CHARS) return;
      sock.off("data", onData);
      sock.off("end", onEnd);
      sock.pause();
      const token = head.subarray(0, TOKEN_CHARS).toString("latin1");
      const c = this.byToken.get(token);
      if (!c) {
        sock.destroy();
        return;
      }
      this.byToken.delete(token);
      c.attach(sock, head.subarray(TOKEN_CHARS));
    };
    const onEnd = () => sock.destroy();
    sock.on("data", onData);
    sock.on("end", onEnd);
    sock.on("error", () => undefined);
  }

  /** Keeps the agent's event loop alive only while steps are in flight. */
  private refCount(): void {
    const busy = this.clients.size > 0;
    const child = this.child;
    if (!child) return;
    const out = child.stdout as unknown as { ref?: () => void; unref?: () => void } | null;
    if (busy) out?.ref?.();
    else out?.unref?.();
  }

  private fail(why: string): void {
    const wasReady = this.ready;
    const child = this.child;
    this.child = undefined;
    this.ready = false;
    this.server?.close();
    this.server = undefined;
    this.removeSocketDir();
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    const pending = [...this.clients.values()];
    this.clients.clear();
    this.byToken.clear();
    this.queued = [];
    this.lineBuf = "";
    if (!wasReady) {
      // It never worked: python3 missing, too old, or broken. Steps use ptys from now on.
      this.dead = why;
      if (!this.warned) {
        this.warned = true;
        this.log?.warn({ why }, "the step spawner cannot run here; steps run under a pty (slower)");
      }
      for (const c of pending) c.onEvent({ ev: "unavailable", why });
      return;
    }
    // It worked and then died (killed by someone): the steps it was running lost their
    // reaper; the next step starts a new spawner.
    this.log?.error({ why }, "the step spawner died");
    for (const c of pending) c.onEvent({ ev: "lost", why: `the step spawner died: ${why}` });
  }
}

let shared: Spawner | undefined;

/** The agent's one spawner (all its steps share it, as they share the log spool). */
export function stepSpawner(log?: Logger): Spawner {
  shared ??= new Spawner(spawnerPython(), log);
  return shared;
}

/**
 * Any Python >= 3.8 can run the spawner (the steps get their env from the agent, not from
 * it), so the system's is preferred: one found on PATH may be a shim (pyenv, conda) that
 * takes a second of CPU to start. BEAMFLOW_SPAWNER_PYTHON overrides.
 */
function spawnerPython(): string {
  const set = process.env.BEAMFLOW_SPAWNER_PYTHON;
  if (set) return set;
  for (const p of ["/usr/bin/python3", "/usr/local/bin/python3"]) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return "python3";
}

/** Starts the agent's spawner now (at agent start), so the first step does not wait for Python. */
export function warmStepSpawner(log?: Logger): void {
  stepSpawner(log).warm(log);
}

// The socket's directory goes with the agent (the spawner follows when its stdin closes).
process.on("exit", () => shared?.removeSocketDir());
