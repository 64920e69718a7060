// Thousands of agents (issue 12, item 5): a real coordinator with N simulated agents
// (default 5,000) connected over real gRPC streams, each on its own HTTP/2 connection,
// from worker processes (bench/agents-worker.ts) apart from the coordinator's. While they
// all heartbeat (every 10 s ±10 %), over the measuring window:
//  - the coordinator process's CPU (utime+stime from /proc/<pid>/stat, as a share of one
//    core) and RSS (VmRSS), mean and peak; targets < 25 % of a core and < 500 MB;
//  - its event-loop lag from its own /metrics (prom-client's nodejs_eventloop_lag_*);
//  - dispatch latency meanwhile: trivial command jobs submitted one by one at a paced rate,
//    submit → accepted (job_submits.started_at - jobs.created_at) and submit → step start
//    (the simulated agent's step start); held to the dispatch benchmark's latency targets
//    (DISPATCH_LATENCY_TARGET_MS: p50 <= 20 ms, p99 <= 100 ms), as with two idle agents.
// Also: how long registering the N agents (admin API RegisterAgent) and connecting them took.
// Before the window, BENCH_AGENTS_QUIET_S (20) of heartbeats alone: CPU with no jobs at all.
// Parameters (environment): BENCH_AGENTS (5000), BENCH_AGENTS_DURATION_S (60),
// BENCH_AGENTS_HEARTBEAT_S (10), BENCH_AGENTS_WORKERS (2), BENCH_AGENTS_JOBS (200),
// BENCH_AGENTS_CONNECT_PER_S (streams opened per second, 500), BENCH_AGENTS_PER_CHANNEL (1).
import Database from "better-sqlite3";
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { call } from "../cli/admin-client";
import { Cluster, freePort, waitFor } from "../test/support/cluster";
import type { WorkerStart, WorkerStats } from "./agents-worker";
import { DISPATCH_LATENCY_TARGET_MS } from "./dispatch";
import { cpuSeconds } from "./proc-cpu";
import { listAgents } from "../cli/agent-listing";

const num = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === "" ? dflt : Number(v);
};

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** This process's soft and hard limits of open files. */
function fdLimits(): { soft: number; hard: number } {
  const line = fs
    .readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"))!;
  const [soft, hard] = line
    .replace("Max open files", "")
    .trim()
    .split(/\s+/)
    .map((x) => (x === "unlimited" ? Infinity : Number(x)));
  return { soft, hard };
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** prom-client's event-loop figures (seconds) from the coordinator's /metrics. */
async function eventLoopLag(url: string, token: string): Promise<Record<string, number> | undefined> {
  try {
    const res = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) return undefined;
    const out: Record<string, number> = {};
    for (const l of (await res.text()).split("\n")) {
      const m = /^nodejs_eventloop_lag_(seconds|p50_seconds|p99_seconds|max_seconds|mean_seconds)\s+(\S+)/.exec(l);
      if (m) out[m[1]] = Number(m[2]);
    }
    return out;
  } catch {
    return undefined;
  }
}

function latencies(dbPath: string, fromJob: number): { accepted: number[]; stepStart: number[] } {
  const db = new Database(dbPath, { readonly: true });
  const accepted = (
    db
      .prepare(`SELECT a.started_at - j.created_at AS l FROM jobs j JOIN job_submits a ON a.id = j.current_attempt_id
                WHERE j.id >= ? AND a.started_at IS NOT NULL ORDER BY l`)
      .all(fromJob) as { l: number }[]
  ).map((r) => r.l * 1000);
  const stepStart = (
    db
      .prepare(`SELECT s.started_at - j.created_at AS l FROM jobs j JOIN job_submits a ON a.id = j.current_attempt_id
                JOIN attempt_steps s ON s.attempt_id = a.id AND s.idx = 0 WHERE j.id >= ? ORDER BY l`)
      .all(fromJob) as { l: number }[]
  ).map((r) => r.l * 1000);
  db.close();
  return { accepted, stepStart };
}

const summary = (xs: number[]) => ({ n: xs.length, p50: r1(percentile(xs, 50)), p99: r1(percentile(xs, 99)), max: r1(xs[xs.length - 1] ?? NaN) });

interface Worker {
  child: ChildProcess;
  last: WorkerStats | null;
}

function askStats(w: Worker): Promise<WorkerStats> {
  return new Promise((resolve) => {
    w.child.once("message", (m: WorkerStats) => {
      w.last = m;
      resolve(m);
    });
    w.child.send({ type: "stats" });
  });
}

/** Every worker's counters, summed; the heartbeat round trips merged. */
async function workerStats(workers: Worker[]) {
  const all = await Promise.all(workers.map(askStats));
  const sum = (k: keyof WorkerStats) => all.reduce((n, s) => n + (s[k] as number), 0);
  return {
    welcomed: sum("welcomed"),
    connected: sum("connected"),
    streamsLost: sum("streamsLost"),
    refused: sum("refused"),
    heartbeats: sum("heartbeats"),
    acks: sum("acks"),
    assigns: sum("assigns"),
    accepted: sum("accepted"),
    results: sum("results"),
    resultAcks: sum("resultAcks"),
    cancels: sum("cancels"),
    ackMs: all.flatMap((s) => s.ackMs).sort((x, y) => x - y),
    errors: all.flatMap((s) => s.errors).slice(0, 10),
  };
}

export async function agentsBenchmark(
  opts: {
    agents?: number;
    durationS?: number;
    heartbeatS?: number;
    workers?: number;
    jobs?: number;
    connectPerS?: number;
    perChannel?: number;
    quietS?: number;
  } = {},
): Promise<unknown> {
  const n = opts.agents ?? num("BENCH_AGENTS", 5000);
  const durationS = opts.durationS ?? num("BENCH_AGENTS_DURATION_S", 60);
  const heartbeatS = opts.heartbeatS ?? num("BENCH_AGENTS_HEARTBEAT_S", 10);
  const nWorkers = Math.max(1, Math.min(n, opts.workers ?? num("BENCH_AGENTS_WORKERS", 2)));
  const jobs = opts.jobs ?? num("BENCH_AGENTS_JOBS", 200);
  const connectPerS = opts.connectPerS ?? num("BENCH_AGENTS_CONNECT_PER_S", 500);
  const perChannel = Math.max(1, opts.perChannel ?? num("BENCH_AGENTS_PER_CHANNEL", 1));
  const quietS = opts.quietS ?? num("BENCH_AGENTS_QUIET_S", 20);
  const targets = {
    cpu_share_of_core: 0.25,
    rss_mb: 500,
    submit_to_accepted_p50_ms: DISPATCH_LATENCY_TARGET_MS.p50,
    submit_to_accepted_p99_ms: DISPATCH_LATENCY_TARGET_MS.p99,
  };

  // One socket per connection on the coordinator (plus its files); per worker, its share.
  // Children inherit these limits: nothing here can raise the hard one.
  const fds = fdLimits();
  const needCoordinator = Math.ceil(n / perChannel) + 200;
  if (fds.soft < needCoordinator) {
    return {
      benchmark: "agents",
      agents: n,
      error: `the open-files limit is ${fds.soft} (hard ${fds.hard}); the coordinator needs about ${needCoordinator} for ${n} connections: raise it (ulimit -n ${needCoordinator}) before running`,
    };
  }

  const loadAtStart = os.loadavg();
  const httpPort = await freePort();
  const cluster = await Cluster.create({ logging: { level: "warn" }, coordinator: { http_listen: `127.0.0.1:${httpPort}` } });
  const workers: Worker[] = [];
  try {
    await cluster.startCoordinator();
    const pid = cluster.coordinator!.child.pid!;
    const adminToken = fs.readFileSync(path.join(cluster.dataDir, "admin.token"), "utf8").trim();
    const metricsUrl = `http://127.0.0.1:${httpPort}`;
    const a = cluster.admin();

    // Registration through the admin API, 64 calls in flight.
    const ids = Array.from({ length: n }, (_, i) => `sim-${String(i + 1).padStart(5, "0")}`);
    const creds: { id: string; token: string }[] = new Array(n);
    const reg0 = performance.now();
    const cpuReg0 = cpuSeconds(pid);
    let nextReg = 0;
    await Promise.all(
      Array.from({ length: Math.min(64, n) }, async () => {
        while (nextReg < n) {
          const i = nextReg++;
          const r = await call(a, a.client.registerAgent, { agentId: ids[i], rotate: false });
          creds[i] = { id: ids[i], token: r.token };
        }
      }),
    );
    const registerS = (performance.now() - reg0) / 1000;
    const registerCpuS = cpuSeconds(pid) - cpuReg0;

    // The workers, each with its share of the agents.
    const address = `127.0.0.1:${cluster.port}`;
    const conn0 = performance.now();
    const cpuConn0 = cpuSeconds(pid);
    for (let w = 0; w < nWorkers; w++) {
      const child = fork(path.join(__dirname, "agents-worker.ts"), [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
      workers.push({ child, last: null });
      const mine = creds.filter((_, i) => i % nWorkers === w);
      const start: WorkerStart = { type: "start", address, heartbeatS, connectPerS: connectPerS / nWorkers, perChannel, agents: mine };
      child.send(start);
    }
    let connectPeakRss = 0;
    await waitFor(
      `${n} agents welcomed`,
      async () => {
        connectPeakRss = Math.max(connectPeakRss, rssMB(pid));
        const s = await workerStats(workers);
        if (s.refused) throw new Error(`the coordinator refused ${s.refused} agents: ${s.errors.join("; ")}`);
        return s.connected >= n;
      },
      Math.max(120_000, (n / connectPerS) * 1000 * 10),
      250,
    );
    const connectS = (performance.now() - conn0) / 1000;
    const connectCpuS = cpuSeconds(pid) - cpuConn0;
    const listed = (await listAgents(a)).filter((x) => x.state === "connected").length;

    // One heartbeat interval for every agent to have beaten at least once: the steady state.
    await new Promise((r) => setTimeout(r, heartbeatS * 1000));
    // Heartbeats alone (no jobs, no scrapes) for quietS: the fleet's own cost.
    const q0 = performance.now();
    const qcpu0 = cpuSeconds(pid);
    const qRss: number[] = [];
    while (performance.now() - q0 < quietS * 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      qRss.push(rssMB(pid));
    }
    const quiet = {
      seconds: r1((performance.now() - q0) / 1000),
      cpu_share_of_core: r3((cpuSeconds(pid) - qcpu0) / ((performance.now() - q0) / 1000)),
      rss_mb_peak: r1(Math.max(...qRss)),
    };
    const before = await workerStats(workers); // also resets the round-trip sample

    // The window: CPU and RSS every second, /metrics every 15 s (as a Prometheus would), jobs one by one meanwhile.
    const cpu0 = cpuSeconds(pid);
    const wcpu0 = workers.map((w) => cpuSeconds(w.child.pid!));
    const t0 = performance.now();
    const samples: { t: number; cpu: number; rss: number }[] = [{ t: t0, cpu: cpu0, rss: rssMB(pid) }];
    const lags: Record<string, number>[] = [];
    let stopSampling = false;
    const sampler = (async () => {
      let k = 0;
      while (!stopSampling) {
        await new Promise((r) => setTimeout(r, 1000));
        samples.push({ t: performance.now(), cpu: cpuSeconds(pid), rss: rssMB(pid) });
        if (++k % 15 === 0) {
          const l = await eventLoopLag(metricsUrl, adminToken);
          if (l) lags.push(l);
        }
      }
    })();
    const processedBefore = (await call(a, a.client.status, {})).jobs.find((c) => c.status === "processed")?.count ?? 0;
    // Paced over the first 80 % of the window, so all of them fall inside it.
    const paceMs = jobs > 0 ? (durationS * 800) / jobs : 0;
    let firstJob = 0;
    const submitter = (async () => {
      for (let i = 0; i < jobs; i++) {
        // On a fixed schedule (i x pace from the start), however long a submission takes.
        const wait = t0 + i * paceMs - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        const [id] = await cluster.submit(["true"], 1, "bench-agents");
        if (i === 0) firstJob = id;
      }
    })();
    await submitter;
    const left = durationS * 1000 - (performance.now() - t0);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    stopSampling = true;
    await sampler;
    const windowS = (performance.now() - t0) / 1000;
    const cpuShare = (cpuSeconds(pid) - cpu0) / windowS;
    const workersCpu = workers.map((w, i) => r3((cpuSeconds(w.child.pid!) - wcpu0[i]) / windowS));
    const loadAtEnd = os.loadavg();
    const ws = await workerStats(workers);

    await cluster.waitForProcessed(processedBefore + jobs, 60_000).catch(() => undefined);
    const lat = latencies(path.join(cluster.dataDir, "tracker.db"), firstJob);

    // CPU per 1 s and per 5 s interval; RSS peak and mean.
    const perInterval = (k: number) => {
      const out: number[] = [];
      for (let i = k; i < samples.length; i++) out.push((samples[i].cpu - samples[i - k].cpu) / ((samples[i].t - samples[i - k].t) / 1000));
      return out;
    };
    const rss = samples.map((s) => s.rss);
    const peak1 = Math.max(...perInterval(1));
    const peak5 = Math.max(...perInterval(5));
    const rssPeak = Math.max(...rss, connectPeakRss);
    const rssMean = rss.reduce((x, y) => x + y, 0) / rss.length;
    const lagMax = (k: string) => (lags.length ? r1(Math.max(...lags.map((l) => l[k] ?? 0)) * 1000) : null);
    const lagMean = (k: string) => (lags.length ? r1((lags.reduce((s, l) => s + (l[k] ?? 0), 0) / lags.length) * 1000) : null);
    const p50 = percentile(lat.accepted, 50);
    const p99 = percentile(lat.accepted, 99);

    // What the coordinator warned about meanwhile (its log is at warn): message → count.
    const warnings: Record<string, number> = {};
    for (const l of cluster.coordinator!.stderr) {
      let msg = l.slice(0, 120);
      try {
        msg = (JSON.parse(l) as { msg?: string }).msg ?? msg;
      } catch {}
      warnings[msg] = (warnings[msg] ?? 0) + 1;
    }

    return {
      benchmark: "agents",
      agents: n,
      workers: nWorkers,
      agents_per_channel: perChannel,
      heartbeat_s: heartbeatS,
      window_s: r1(windowS),
      open_files_limit: fds,
      load_average: { at_start: loadAtStart.map(r1), at_end: loadAtEnd.map(r1) },
      register: { seconds: r3(registerS), per_second: r1(n / registerS), coordinator_cpu_s: r3(registerCpuS) },
      connect: {
        seconds: r3(connectS),
        ramp_per_s: connectPerS,
        coordinator_cpu_s: r3(connectCpuS),
        connected_per_admin_api: listed,
      },
      coordinator: {
        pid,
        heartbeats_only: quiet,
        cpu_share_of_core: { mean: r3(cpuShare), peak_1s: r3(peak1), peak_5s: r3(peak5) },
        rss_mb: { mean: r1(rssMean), peak: r1(rssPeak), at_end: r1(rss[rss.length - 1]) },
        event_loop_lag_ms: lags.length
          ? {
              p50_mean: lagMean("p50_seconds"),
              p99_mean: lagMean("p99_seconds"),
              p99_max: lagMax("p99_seconds"),
              max: lagMax("max_seconds"),
              scrapes: lags.length,
            }
          : "not scraped",
      },
      simulated_agents: {
        cpu_share_of_core_per_worker: workersCpu,
        heartbeats_in_window: ws.heartbeats - before.heartbeats,
        heartbeats_per_s: r1((ws.heartbeats - before.heartbeats) / windowS),
        heartbeat_ack_ms: summary(ws.ackMs),
        streams_lost_while_connecting: before.streamsLost,
        streams_lost_in_window: ws.streamsLost - before.streamsLost,
        still_connected: ws.connected,
        assigns: ws.assigns,
        results: ws.results,
        result_acks: ws.resultAcks,
        cancels: ws.cancels,
        errors: ws.errors,
      },
      coordinator_warnings: warnings,
      dispatch: {
        jobs,
        rate_per_s: r1(jobs > 0 ? 1000 / paceMs : 0),
        submit_to_accepted_ms: summary(lat.accepted),
        submit_to_step_start_ms: summary(lat.stepStart),
      },
      targets,
      met: {
        cpu: cpuShare < targets.cpu_share_of_core,
        cpu_heartbeats_only: quiet.cpu_share_of_core < targets.cpu_share_of_core,
        rss: rssPeak < targets.rss_mb,
        dispatch_p50: p50 <= targets.submit_to_accepted_p50_ms,
        dispatch_p99: p99 <= targets.submit_to_accepted_p99_ms,
        all_connected: ws.connected >= n && listed >= n,
      },
    };
  } finally {
    for (const w of workers) if (w.child.connected) w.child.send({ type: "stop" });
    await Promise.all(workers.map((w) => (w.child.exitCode === null ? new Promise((r) => w.child.once("exit", r)) : undefined)));
    await cluster.close();
  }
}
