// A seeded fault scenario on a real cluster: a coordinator and agents as processes of
// bin/beamflow over real gRPC and SQLite, each agent talking through its own FaultProxy,
// its work dir and scratch dir on small tmpfs mounts. Quick command jobs run while faults
// are injected one after another at random (seeded) points; then the invariants are
// checked and every violation is returned in words.
//
// Faults: SIGKILL of an agent (restarted later) or of the coordinator (restarted); SIGSTOP
// of an agent, or of the coordinator for longer than the lease (what a jump of its clock
// would do to leases), then SIGCONT; a proxy that resets every connection or stalls all
// traffic; an agent's work dir or scratch dir, or the coordinator's data dir, filled to the
// last byte for a while. Jobs: payloads that tick into a record file of their own (job,
// attempt, time) and print numbered lines; corrupt input (raw files the command refuses);
// a step that hangs past its timeout.
//
// Invariants after a run: every job processed by exactly one attempt, or terminal_failure
// with a reason (corrupt input and hanging steps must end so, the others must succeed);
// no job ran in two attempts at once (the payloads' own ticks); no counted attempt for an
// infrastructure fault (only payload error classes count, and good jobs count none); the
// successful attempt's log has every numbered line exactly once, in order; no work dir left
// behind; `beamflow fsck` clean.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { call } from "../../cli/admin-client";
import type { JobDetail, JobView, LogData } from "../../shared/gen/admin";
import { Cluster, waitFor } from "../support/cluster";
import { FaultProxy } from "./proxy";

export type FaultKind =
  | "kill-agent"
  | "stop-agent"
  | "kill-coordinator"
  | "stall-coordinator"
  | "drop"
  | "stall-net"
  | "fill-work"
  | "fill-scratch"
  | "fill-data";

export interface ScenarioOptions {
  seed: number;
  agents: number;
  /** quick jobs that must succeed */
  jobs: number;
  /** jobs whose raw file is corrupt: they must fail for good, with a reason */
  corrupt: number;
  /** jobs whose step hangs past its timeout: they must fail for good, with a reason */
  hanging: number;
  faults: number;
  kinds: FaultKind[];
  /** jobs.lease_s */
  leaseS: number;
  /** numbered lines each good job prints (about 0.1 s each) */
  lines: number;
  /** how long the jobs may take to settle after the last fault */
  settleMs: number;
}

export interface Violation {
  invariant: string;
  detail: string;
}

export interface RunReport {
  seed: number;
  faults: string[];
  violations: Violation[];
  elapsedS: number;
}

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An agent checks its toolchain before it connects: slow on a busy machine. */
const START_MS = 90_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Error classes of the payload: the only ones that may count against a job. */
const PAYLOAD_CLASSES = new Set(["exit_code", "timeout", "no_output", "bad_input", "too_short", "bad_params", "checksum", "bad_output"]);

/** Fills a filesystem to its last byte (a file of zeros); returns the file to remove. */
function fill(dir: string): string {
  const file = path.join(dir, `.fault-fill-${process.pid}`);
  const fd = fs.openSync(file, "w");
  const block = Buffer.alloc(1 << 16);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
    // The last partial block.
    for (let n = block.length >> 1; n >= 1; n >>= 1) {
      try {
        fs.writeSync(fd, block.subarray(0, n));
      } catch {
        /* full */
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

function mountTmpfs(dir: string, size: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  return spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir]).status === 0;
}

export class FaultScenario {
  cluster!: Cluster;
  private readonly rng: () => number;
  private readonly proxies = new Map<string, FaultProxy>();
  private readonly mounts: string[] = [];
  private readonly stopped = new Set<string>();
  private readonly fills = new Set<string>();
  private record = "";
  private readonly log: string[] = [];
  private goodJobs: number[] = [];
  private badJobs: number[] = [];

  constructor(readonly o: ScenarioOptions) {
    this.rng = seeded(o.seed);
  }

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.rng() * xs.length)];
  }
  private between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.rng();
  }
  private agentIds(): string[] {
    return Array.from({ length: this.o.agents }, (_, i) => `node${i + 1}`);
  }

  async setup(): Promise<void> {
    this.cluster = await Cluster.create({
      jobs: {
        type: "commands",
        // A beam's command checks its raw file: corrupt input fails it with the reason.
        commands: [{ name: "check", argv: ["sh", "-c", 'head -c 2 "$1" | grep -q OK || { echo "corrupt input: $1"; exit 3; }', "check", "{files}"] }],
        max_attempts: 3,
        lease_s: this.o.leaseS,
        accept_timeout_s: Math.max(2, this.o.leaseS),
        retry_backoff_s: 0,
      },
      // Corrupt beams fail on purpose: an agent drained for failing several of them would leave the rest waiting.
      dispatch: { drain_after_failures: 0 },
      logging: { level: "info" },
    });
    // The coordinator's data dir on its own tmpfs, for the fill-data fault.
    if (this.o.kinds.includes("fill-data") && mountTmpfs(this.cluster.dataDir, "64m")) this.mounts.push(this.cluster.dataDir);
    const init = this.cluster.cli(["init"]);
    if (init.status !== 0) throw new Error(init.stderr);
    this.record = path.join(this.cluster.dir, "ticks.log");
    fs.writeFileSync(this.record, "");
    await this.cluster.startCoordinator(START_MS);
    for (const id of this.agentIds()) {
      const proxy = new FaultProxy({ host: "127.0.0.1", port: this.cluster.port });
      const address = await proxy.listen();
      this.proxies.set(id, proxy);
      const work = path.join(this.cluster.dir, `${id}-work`);
      const scratch = path.join(this.cluster.dir, `${id}-scratch`);
      // The work dir's tmpfs is 64 MiB: the agent takes a failure with less than 16 MiB free for a full disk.
      for (const [dir, size] of [
        [work, "64m"],
        [scratch, "8m"],
      ] as const)
        if (mountTmpfs(dir, size)) this.mounts.push(dir);
      await this.cluster.startAgent(id, { coordinator: address, work_base: work, scratch_dir: scratch, cores: 3, reconnect_max_s: 0.5 }, {}, START_MS);
    }
  }

  /** The jobs: good ones ticking into the record, corrupt raw files, hanging steps. */
  private async submitJobs(): Promise<void> {
    const tick = `for i in $(seq 1 ${this.o.lines}); do echo "tick $BEAMFLOW_JOB $BEAMFLOW_ATTEMPT $(date +%s.%N)" >> "$1"; echo "line $i"; sleep 0.1; done; echo done > out.txt`;
    const a = this.cluster.admin();
    const good = await call(a, a.client.submitCommandJob, {
      force: false,
      name: "good",
      steps: [{ name: "work", argv: ["sh", "-c", tick, "work", this.record], timeoutS: 0, idleTimeoutS: 0 }],
      cores: 1,
      memory: 0,
      shm: 0,
      count: this.o.jobs,
    });
    this.goodJobs = good.jobIds;
    if (this.o.hanging) {
      const hang = await call(a, a.client.submitCommandJob, {
        force: false,
        name: "hanging",
        steps: [{ name: "hang", argv: ["sleep", "1000"], timeoutS: 2, idleTimeoutS: 0 }],
        cores: 1,
        memory: 0,
        shm: 0,
        count: this.o.hanging,
      });
      this.badJobs.push(...hang.jobIds);
    }
    if (this.o.corrupt) {
      const files = Array.from({ length: this.o.corrupt }, (_, i) => {
        const f = path.join(this.cluster.dir, `raw-corrupt-${i}.dat`);
        fs.writeFileSync(f, "XX not what the command expects\n");
        return f;
      });
      const r = this.cluster.cli(["add-files", "--json", ...files]);
      if (r.status !== 0) throw new Error(r.stderr);
      this.badJobs.push(...(JSON.parse(r.stdout) as { jobsCreated: number[] }).jobsCreated);
    }
  }

  private async inject(kind: FaultKind): Promise<string> {
    const lease = this.o.leaseS * 1000;
    const id = this.pick(this.agentIds());
    const c = this.cluster;
    switch (kind) {
      case "kill-agent": {
        await Cluster.kill(c.agents.get(id)!, "SIGKILL");
        const down = this.between(200, lease);
        await sleep(down);
        await c.startAgent(id, {}, {}, START_MS);
        return `SIGKILL ${id}, restarted after ${Math.round(down)} ms`;
      }
      case "stop-agent": {
        const ms = this.between(300, 2 * lease);
        const p = c.agents.get(id)!;
        p.child.kill("SIGSTOP");
        this.stopped.add(id);
        await sleep(ms);
        p.child.kill("SIGCONT");
        this.stopped.delete(id);
        return `SIGSTOP ${id} for ${Math.round(ms)} ms`;
      }
      case "kill-coordinator": {
        await Cluster.kill(c.coordinator, "SIGKILL");
        const down = this.between(200, 1500);
        await sleep(down);
        await c.startCoordinator(START_MS);
        return `SIGKILL the coordinator, restarted after ${Math.round(down)} ms`;
      }
      case "stall-coordinator": {
        const ms = this.between(lease, 1.5 * lease);
        c.coordinator!.child.kill("SIGSTOP");
        this.stopped.add("coordinator");
        await sleep(ms);
        c.coordinator!.child.kill("SIGCONT");
        this.stopped.delete("coordinator");
        return `SIGSTOP the coordinator for ${Math.round(ms)} ms (past the lease, as a clock jump)`;
      }
      case "drop":
        return `dropped ${this.proxies.get(id)!.drop()} connections of ${id}`;
      case "stall-net": {
        const ms = this.between(300, 2 * lease);
        this.proxies.get(id)!.stall(ms);
        await sleep(ms);
        return `stalled ${id}'s network for ${Math.round(ms)} ms`;
      }
      case "fill-work":
      case "fill-scratch":
      case "fill-data": {
        const dir = kind === "fill-data" ? c.dataDir : path.join(c.dir, `${id}-${kind === "fill-work" ? "work" : "scratch"}`);
        if (!this.mounts.includes(dir)) return `(${dir} is no tmpfs here: ${kind} skipped)`;
        const file = fill(dir);
        this.fills.add(file);
        const ms = this.between(500, 2500);
        await sleep(ms);
        fs.rmSync(file, { force: true });
        this.fills.delete(file);
        return `filled ${path.relative(c.dir, dir)} for ${Math.round(ms)} ms`;
      }
    }
  }

  async run(): Promise<RunReport> {
    const started = Date.now();
    await this.submitJobs();
    for (let i = 0; i < this.o.faults; i++) {
      await sleep(this.between(300, 2000));
      const kind = this.pick(this.o.kinds);
      const what = await this.inject(kind);
      this.log.push(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`);
    }
    const all = [...this.goodJobs, ...this.badJobs];
    let jobs: JobView[] = [];
    const violations: Violation[] = [];
    try {
      jobs = await this.cluster.waitForJobs(
        (js) => all.every((id) => ["processed", "terminal_failure"].includes(js.find((j) => j.id === id)?.status ?? "")),
        "every job to end",
        this.o.settleMs,
      );
    } catch {
      jobs = await this.cluster.jobs();
      for (const j of jobs.filter((x) => !["processed", "terminal_failure"].includes(x.status)))
        violations.push({ invariant: "settled", detail: `job ${j.id} is still ${j.status} ${this.o.settleMs / 1000} s after the last fault (${j.details})` });
    }
    violations.push(...(await this.check(jobs)));
    return { seed: this.o.seed, faults: this.log, violations, elapsedS: (Date.now() - started) / 1000 };
  }

  private async check(jobs: JobView[]): Promise<Violation[]> {
    const v: Violation[] = [];
    const a = this.cluster.admin();
    const good = new Set(this.goodJobs);
    const bad = new Set(this.badJobs);
    const details = new Map<number, JobDetail>();
    for (const j of jobs) if (good.has(j.id) || bad.has(j.id)) details.set(j.id, await call(a, a.client.getJob, { id: j.id }));

    for (const [id, d] of details) {
      const job = d.job!;
      const processed = d.attempts.filter((x) => x.status === "processed");
      // Exactly once, or failed for good with a reason.
      if (job.status === "processed" && processed.length !== 1)
        v.push({ invariant: "exactly once", detail: `job ${id} is processed with ${processed.length} successful attempts` });
      if (job.status === "terminal_failure" && !job.details.trim()) v.push({ invariant: "a reason", detail: `job ${id} failed for good without a reason` });
      if (good.has(id) && job.status !== "processed")
        v.push({ invariant: "good jobs succeed", detail: `job ${id} (a good payload) ended ${job.status}: ${job.details}` });
      if (bad.has(id) && job.status !== "terminal_failure")
        v.push({ invariant: "bad input fails for good", detail: `job ${id} (corrupt input or a hanging step) ended ${job.status}` });
      // Nothing counted for the infrastructure.
      for (const x of d.attempts.filter((y) => y.status === "processing_failed" || y.status === "stopped")) {
        if (!PAYLOAD_CLASSES.has(x.errorClass) || good.has(id))
          v.push({
            invariant: "no infrastructure fault counted",
            detail: `job ${id}: attempt ${x.id} on ${x.agentId} counted as ${x.status} (${x.errorClass}): ${x.details}`,
          });
      }
      // The successful attempt's log: every numbered line once, in order.
      if (good.has(id) && processed.length === 1) {
        const lines = (await this.logOf(processed[0].id)).split(/\r?\n/).filter((l) => /^line \d+$/.test(l));
        const want = Array.from({ length: this.o.lines }, (_, i) => `line ${i + 1}`);
        if (lines.join("|") !== want.join("|")) {
          const counts = new Map<string, number>();
          for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
          const lost = want.filter((w) => !counts.has(w));
          const doubled = [...counts].filter(([, n]) => n > 1).map(([l]) => l);
          v.push({
            invariant: "log lines",
            detail: `job ${id} attempt ${processed[0].id}: ${lines.length} numbered lines; lost [${lost.join(", ")}], doubled [${doubled.join(", ")}]${!lost.length && !doubled.length ? ", out of order" : ""}`,
          });
        }
      }
    }

    // No job ran in two attempts at once: the payloads' own ticks.
    const spans = new Map<number, Map<number, [number, number]>>();
    for (const line of fs.readFileSync(this.record, "utf8").split("\n")) {
      const m = /^tick (\d+) (\d+) ([\d.]+)$/.exec(line);
      if (!m) continue;
      const [job, attempt, t] = [Number(m[1]), Number(m[2]), Number(m[3])];
      const byAttempt = spans.get(job) ?? new Map<number, [number, number]>();
      spans.set(job, byAttempt);
      const s = byAttempt.get(attempt) ?? [t, t];
      byAttempt.set(attempt, [Math.min(s[0], t), Math.max(s[1], t)]);
    }
    for (const [job, byAttempt] of spans) {
      const list = [...byAttempt].sort((x, y) => x[1][0] - y[1][0]);
      for (let i = 1; i < list.length; i++) {
        const [pa, [, pEnd]] = list[i - 1];
        const [ca, [cStart]] = list[i];
        if (cStart <= pEnd) {
          const agents = details.get(job)?.attempts ?? [];
          const on = (x: number) => agents.find((y) => y.id === x)?.agentId ?? "?";
          v.push({
            invariant: "never twice at once",
            detail: `job ${job}: attempt ${ca} on ${on(ca)} started at ${cStart.toFixed(2)} while attempt ${pa} on ${on(pa)} still ran until ${pEnd.toFixed(2)}`,
          });
        }
      }
    }

    // No work dir left behind (attempt dirs are named by their attempt id), once the agents are idle.
    for (const id of this.agentIds()) {
      const work = path.join(this.cluster.dir, `${id}-work`);
      const left = () => fs.readdirSync(work).filter((n) => /^\d+$/.test(n));
      try {
        await waitFor(`${id}'s work dirs to go`, () => left().length === 0, 10_000, 200);
      } catch {
        v.push({ invariant: "no work dir left", detail: `${id} left work dirs ${left().join(", ")}` });
      }
    }

    // fsck clean.
    const f = this.cluster.cli(["fsck", "--json"]);
    let findings: { check: string; problem: string }[] = [];
    try {
      findings = JSON.parse(f.stdout).findings;
    } catch {
      v.push({ invariant: "fsck clean", detail: `fsck did not answer: ${f.stderr}` });
    }
    for (const x of findings) v.push({ invariant: "fsck clean", detail: `${x.check}: ${x.problem}` });
    return v;
  }

  private logOf(attemptId: number): Promise<string> {
    const a = this.cluster.admin();
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = a.client.tailLog({ jobId: 0, attemptId, follow: false, offset: 0, step: "" }, a.metadata);
      s.on("data", (d: LogData) => chunks.push(Buffer.from(d.data)));
      s.on("error", reject);
      s.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
  }

  /** Undoes what a fault left (a stopped process, a full disk), stops everything and unmounts. */
  async cleanup(): Promise<void> {
    for (const f of this.fills) fs.rmSync(f, { force: true });
    if (this.cluster) {
      for (const id of this.stopped) (id === "coordinator" ? this.cluster.coordinator : this.cluster.agents.get(id))?.child.kill("SIGCONT");
      for (const p of this.proxies.values()) await p.close();
      const dir = this.cluster.dir;
      const keep = process.env.BEAMFLOW_KEEP_TEST_DIRS;
      process.env.BEAMFLOW_KEEP_TEST_DIRS = "1";
      await this.cluster.close();
      for (const m of this.mounts.reverse()) spawnSync("umount", ["-l", m]);
      if (keep === undefined) delete process.env.BEAMFLOW_KEEP_TEST_DIRS;
      if (!keep) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** The report as text: the faults injected and each violation. */
export function describeReport(r: RunReport): string {
  return [
    `seed ${r.seed}, ${r.elapsedS.toFixed(0)} s, faults:`,
    ...r.faults.map((f) => `  ${f}`),
    r.violations.length ? `${r.violations.length} violation(s):` : "no violations",
    ...r.violations.map((x) => `  [${x.invariant}] ${x.detail}`),
  ].join("\n");
}
