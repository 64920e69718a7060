// A real coordinator and real agents as separate processes of `bin/beamflow`,
// talking gRPC over loopback, with their own SQLite file and work dirs in a
// temp dir. Tests drive them through the CLI or an admin client.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { connectAdmin, call, type Admin } from "../../cli/admin-client";
import { loadConfig } from "../../shared/config/load";
import type { ConfigInput } from "../../shared/config/schema";
import type { JobView } from "../../shared/gen/admin";
import { listAgents } from "../../cli/agent-listing";

export const BIN = path.join(__dirname, "..", "..", "bin", "beamflow");

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15000,
  everyMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** What is in an agent's work base besides its lock (.beamflow-agent.*): the attempts' work dirs. */
export function attemptDirs(workBase: string): string[] {
  return fs.readdirSync(workBase).filter((n) => !n.startsWith(".beamflow-agent."));
}

export interface Proc {
  child: ChildProcess;
  stderr: string[];
  name: string;
}

function startProc(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  const p: Proc = { child, stderr: [], name };
  let buf = "";
  child.stderr!.on("data", (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split("\n");
    buf = lines.pop()!;
    p.stderr.push(...lines);
    if (process.env.BEAMFLOW_TEST_LOGS) for (const l of lines) process.stderr.write(`[${name}] ${l}\n`);
  });
  child.stdout!.resume();
  return p;
}

export class Cluster {
  readonly dir: string;
  readonly dataDir: string;
  readonly configPath: string;
  coordinator: Proc | null = null;
  readonly agents = new Map<string, Proc>();
  private adminClient: Admin | null = null;

  private constructor(
    readonly port: number,
    readonly overrides: ConfigInput,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-test-"));
    this.dataDir = path.join(this.dir, "coordinator");
    this.configPath = path.join(this.dir, "coordinator.yaml");
    // A counted failure is retried at once here (jobs.retry_backoff_s: 0) unless a test says otherwise.
    const cfg = {
      ...overrides,
      data_dir: this.dataDir,
      jobs: { retry_backoff_s: 0, ...overrides.jobs },
      coordinator: { http_listen: "127.0.0.1:0", ...overrides.coordinator, listen: `127.0.0.1:${port}` },
    };
    fs.writeFileSync(this.configPath, YAML.stringify(cfg));
  }

  static async create(overrides: ConfigInput = {}): Promise<Cluster> {
    const c = new Cluster(await freePort(), overrides);
    const init = c.cli(["init"]);
    if (init.status !== 0) throw new Error(`beamflow init failed: ${init.stderr}`);
    return c;
  }

  cli(args: string[], configPath = this.configPath): { status: number; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [BIN, "--config", configPath, ...args], { encoding: "utf8", timeout: 60000, maxBuffer: 256 << 20 });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** The CLI without blocking this process (whose own servers, e.g. an SMTP server, must keep answering). */
  cliAsync(args: string[], timeoutMs = 60000): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, "--config", this.configPath, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`beamflow ${args.join(" ")} still running after ${timeoutMs} ms`));
      }, timeoutMs);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ status: code ?? -1, stdout, stderr });
      });
    });
  }

  // Generous by default, as for agents: a failure to start is seen at once.
  async startCoordinator(timeoutMs = 60_000): Promise<Proc> {
    const p = startProc("coordinator", ["--config", this.configPath, "coordinator"]);
    this.coordinator = p;
    this.adminClient?.client.close();
    this.adminClient = null;
    await waitFor(
      "the coordinator to answer",
      async () => {
        if (p.child.exitCode !== null) throw new Error(`coordinator exited: ${p.stderr.join("\n")}`);
        try {
          const a = this.admin();
          return await call(a, a.client.status, {});
        } catch {
          this.adminClient?.client.close();
          this.adminClient = null;
          return undefined;
        }
      },
      timeoutMs,
    );
    return p;
  }

  admin(): Admin {
    if (!this.adminClient) this.adminClient = connectAdmin(loadConfig(this.configPath));
    return this.adminClient;
  }

  /** Registers an agent (through the CLI) and writes its config; returns the config path. */
  registerAgent(id: string, agentOverrides: NonNullable<ConfigInput["agent"]> = {}): string {
    const tokenFile = path.join(this.dir, `${id}.token`);
    const r = this.cli(["register-agent", id, "--token-file", tokenFile]);
    if (r.status !== 0) throw new Error(`register-agent failed: ${r.stderr}`);
    const agentCfg = {
      data_dir: path.join(this.dir, id),
      logging: this.overrides.logging,
      agent: {
        id,
        coordinator: `127.0.0.1:${this.port}`,
        token_file: tokenFile,
        work_base: path.join(this.dir, `${id}-work`),
        heartbeat_s: 0.5,
        reconnect_initial_s: 0.1,
        reconnect_max_s: 1,
        kill_grace_s: 1,
        // Stopped agents hand back what runs at once, as tests stop them often; the graceful stop's own tests set it.
        stop_timeout_s: 0,
        cores: 4,
        ...this.overrides.agent,
        ...agentOverrides,
      },
    };
    const file = path.join(this.dir, `${id}.yaml`);
    fs.writeFileSync(file, YAML.stringify(agentCfg));
    return file;
  }

  /** Starts an agent process; `env` adds to (or, with a value of undefined, removes from) the test's environment. */
  // Generous by default: an agent's start (its toolchain check) is slow on a busy machine, and a failure to start is seen at once.
  async startAgent(id: string, agentOverrides: NonNullable<ConfigInput["agent"]> = {}, env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<Proc> {
    const file = fs.existsSync(path.join(this.dir, `${id}.yaml`)) ? path.join(this.dir, `${id}.yaml`) : this.registerAgent(id, agentOverrides);
    const startedAt = Date.now() / 1000;
    const p = startProc(id, ["--config", file, "agent"], env);
    this.agents.set(id, p);
    await waitFor(
      `agent ${id} to connect`,
      async () => {
        if (p.child.exitCode !== null) throw new Error(`agent ${id} exited: ${p.stderr.join("\n")}`);
        const a = this.admin();
        const agents = await listAgents(a);
        return agents.some((x) => x.id === id && x.state === "connected" && x.lastHeartbeatAt >= startedAt);
      },
      timeoutMs,
    );
    return p;
  }

  workDir(agentId: string): string {
    return path.join(this.dir, `${agentId}-work`);
  }

  async jobs(status = ""): Promise<JobView[]> {
    const a = this.admin();
    // Every job, oldest first, a page at a time.
    const jobs: JobView[] = [];
    let cursor = 0;
    do {
      const r = await call(a, a.client.listJobs, { status, limit: 1000, agent: "", beam: "", since: 0, cursor, oldestFirst: true });
      jobs.push(...r.jobs);
      cursor = r.nextCursor;
    } while (cursor);
    return jobs;
  }

  async submit(argv: string[], count = 1, name = "command"): Promise<number[]> {
    const a = this.admin();
    const r = await call(a, a.client.submitCommandJob, {
      force: false,
      name,
      steps: [{ name: "command", argv, timeoutS: 0, idleTimeoutS: 0 }],
      cores: 1,
      memory: 0,
      shm: 0,
      count,
    });
    return r.jobIds;
  }

  async waitForJobs(pred: (jobs: JobView[]) => boolean, what: string, timeoutMs = 30000): Promise<JobView[]> {
    return waitFor(
      what,
      async () => {
        const jobs = await this.jobs();
        return pred(jobs) ? jobs : undefined;
      },
      timeoutMs,
      100,
    );
  }

  /** Waits until this many jobs are processed, asking only for counts (cheap while thousands run). */
  /** `everyMs`: how often to ask; a benchmark asks seldom, so that asking does not load what it measures. */
  async waitForProcessed(count: number, timeoutMs = 30000, everyMs = 20): Promise<void> {
    const a = this.admin();
    await waitFor(
      `${count} jobs processed`,
      async () => {
        const s = await call(a, a.client.status, {});
        return (s.jobs.find((c) => c.status === "processed")?.count ?? 0) >= count;
      },
      timeoutMs,
      everyMs,
    );
  }

  static async kill(p: Proc | null, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    const exited = new Promise((r) => p.child.once("exit", r));
    p.child.kill(signal);
    await exited;
  }

  async close(): Promise<void> {
    this.adminClient?.client.close();
    this.adminClient = null;
    for (const a of this.agents.values()) await Cluster.kill(a, "SIGTERM");
    await Cluster.kill(this.coordinator, "SIGTERM");
    if (!process.env.BEAMFLOW_KEEP_TEST_DIRS) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
