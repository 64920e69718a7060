// A real one-node Slurm for tests (Debian's slurm-wlm): its own munged with a generated key,
// slurmctld and slurmd in the foreground with a generated slurm.conf, all in a temp dir and on
// free ports, this host the one node. Needs root (slurmd runs jobs as their users) and
// `apt-get install -y slurm-wlm` (Slurm 22.05 on Debian 12).
//
//   requireSlurm(ctx)   skips (saying why in the title) when Slurm is not installed or this is not
//                       root; under CI (CI=true) fails instead, so CI never passes by skipping
//   LocalSlurm.start()  the daemons, up and the node idle; .env for sbatch/squeue (SLURM_CONF),
//                       .close() cancels every job and stops the daemons
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, waitFor } from "./cluster";

const PROGRAMS = ["munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo"];

function which(tool: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${tool} || ls /usr/sbin/${tool} 2>/dev/null`], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim().split("\n")[0] : undefined;
}

export function requireSlurm(ctx: Mocha.Context): void {
  const missing = PROGRAMS.filter((p) => !which(p));
  const why = missing.length
    ? `Slurm is not installed (no ${missing.join(", ")}): apt-get install -y slurm-wlm`
    : process.getuid?.() !== 0
      ? "needs root (slurmd runs the jobs)"
      : undefined;
  if (!why) return;
  if (process.env.CI) throw new Error(`${why} (CI must provide it: .ci/run installs slurm-wlm)`);
  const runnable = ctx.currentTest ?? ctx.test;
  if (runnable && !runnable.title.includes("[skipped:")) runnable.title += ` [skipped: ${why}]`;
  ctx.skip();
}

interface Daemon {
  name: string;
  child: ChildProcess;
  out: string[];
}

export class LocalSlurm {
  readonly node = os
    .hostname()
    .split(".")[0]!
    .replace(/[^A-Za-z0-9-]/g, "-");
  readonly conf: string;
  private readonly daemons: Daemon[] = [];

  private constructor(readonly dir: string) {
    this.conf = path.join(dir, "slurm.conf");
  }

  /** For sbatch, squeue, scancel and the jobs (exported to them): this Slurm's config. */
  get env(): NodeJS.ProcessEnv {
    return { ...process.env, SLURM_CONF: this.conf };
  }

  static async start(): Promise<LocalSlurm> {
    // munged refuses a socket dir that others cannot search.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-slurm-"));
    fs.chmodSync(dir, 0o711);
    const s = new LocalSlurm(dir);
    try {
      await s.startDaemons();
    } catch (err) {
      await s.close();
      throw err;
    }
    return s;
  }

  private spawn(name: string, cmd: string, args: string[]): Daemon {
    const child = spawn(cmd, args, { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
    const d: Daemon = { name, child, out: [] };
    const keep = (b: Buffer) => {
      d.out.push(...b.toString().split("\n").filter(Boolean));
      if (process.env.BEAMFLOW_TEST_LOGS) process.stderr.write(`[${name}] ${b}`);
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    this.daemons.push(d);
    return d;
  }

  private async startDaemons(): Promise<void> {
    const p = (n: string) => path.join(this.dir, n);
    fs.writeFileSync(p("munge.key"), crypto.randomBytes(1024), { mode: 0o400 });
    fs.mkdirSync(p("state"));
    fs.mkdirSync(p("spool"));
    const socket = p("munge.socket");
    const munged = this.spawn("munged", which("munged")!, [
      "--foreground",
      "--force",
      `--socket=${socket}`,
      `--key-file=${p("munge.key")}`,
      `--log-file=${p("munged.log")}`,
      `--pid-file=${p("munged.pid")}`,
      `--seed-file=${p("munged.seed")}`,
    ]);
    await waitFor("munged's socket", () => {
      if (munged.child.exitCode !== null) throw new Error(`munged exited: ${munged.out.join("\n")}`);
      return fs.existsSync(socket);
    });
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    fs.writeFileSync(
      this.conf,
      [
        "ClusterName=beamflowtest",
        `SlurmctldHost=${this.node}(127.0.0.1)`,
        "SlurmUser=root",
        "SlurmdUser=root",
        `SlurmctldPort=${ctldPort}`,
        `SlurmdPort=${dPort}`,
        "AuthType=auth/munge",
        "CredType=cred/munge",
        `AuthInfo=socket=${socket}`,
        `StateSaveLocation=${p("state")}`,
        `SlurmdSpoolDir=${p("spool")}`,
        `SlurmctldPidFile=${p("slurmctld.pid")}`,
        `SlurmdPidFile=${p("slurmd.pid")}`,
        `SlurmctldLogFile=${p("slurmctld.log")}`,
        `SlurmdLogFile=${p("slurmd.log")}`,
        // No cgroups: containers often have none to give.
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "SelectType=select/cons_tres",
        "SchedulerType=sched/backfill",
        "MpiDefault=none",
        "SwitchType=switch/none",
        "ReturnToService=2",
        "KillWait=10",
        `NodeName=${this.node} NodeAddr=127.0.0.1 CPUs=${os.availableParallelism()} RealMemory=1000 State=UNKNOWN`,
        `PartitionName=beamflow Nodes=${this.node} Default=YES MaxTime=INFINITE State=UP`,
        "",
      ].join("\n"),
    );
    this.spawn("slurmctld", which("slurmctld")!, ["-D", "-f", this.conf]);
    this.spawn("slurmd", which("slurmd")!, ["-D", "-f", this.conf, "-N", this.node]);
    await waitFor(
      "the Slurm node to be idle",
      () => {
        for (const d of this.daemons) if (d.child.exitCode !== null) throw new Error(`${d.name} exited: ${d.out.slice(-20).join("\n")}`);
        const r = spawnSync("sinfo", ["-h", "-o", "%t"], { env: this.env, encoding: "utf8", timeout: 10_000 });
        return r.status === 0 && r.stdout.trim() === "idle";
      },
      60_000,
      500,
    );
  }

  /** sbatch; returns the job id. */
  sbatch(args: string[], env: NodeJS.ProcessEnv = {}): string {
    const r = spawnSync("sbatch", ["--parsable", ...args], { env: { ...this.env, ...env }, encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) throw new Error(`sbatch ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout.trim().split(";")[0]!;
  }

  /** squeue's lines (job id and state), "" when no job is queued or running. */
  squeue(): string {
    const r = spawnSync("squeue", ["-h", "-o", "%i %T"], { env: this.env, encoding: "utf8", timeout: 30_000 });
    if (r.status !== 0) throw new Error(`squeue failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** The daemons' own logs, for a failure message. */
  logs(): string {
    return ["slurmctld.log", "slurmd.log"]
      .map((n) => path.join(this.dir, n))
      .filter((f) => fs.existsSync(f))
      .map((f) => `--- ${path.basename(f)}\n${fs.readFileSync(f, "utf8").split("\n").slice(-30).join("\n")}`)
      .join("\n");
  }

  async close(): Promise<void> {
    if (this.daemons.some((d) => d.name === "slurmctld" && d.child.exitCode === null)) {
      spawnSync("scancel", ["--full", `--partition=beamflow`], { env: this.env, timeout: 30_000 });
      await waitFor("Slurm's jobs to end", () => this.squeue() === "", 30_000, 500).catch(() => undefined);
    }
    for (const d of [...this.daemons].reverse()) {
      if (d.child.exitCode !== null || d.child.signalCode !== null) continue;
      const exited = new Promise((r) => d.child.once("exit", r));
      d.child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGKILL");
    }
    if (!process.env.BEAMFLOW_KEEP_TEST_DIRS) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
