// Log streaming benchmark, real processes over gRPC on loopback:
//  - throughput: a step prints `megabytes` MB; bytes from the step's output (its pty or pipe)
//    through the agent's spool and stream, the coordinator's log file, to a TailLog follower
//    (what `beamflow logs -f` uses), per second from the step's start (as the agent recorded
//    it) to the last byte the follower receives; and the CPU each process spent on it, per MB.
//    Run `runs` times (BENCH_LOGS_RUNS, 3 by default) on the same cluster, since other
//    processes share the CPU: each run, the best and the median.
//  - latency: a step prints a line with its wall-clock time every 10 ms; the follower
//    takes the difference on receipt (same host, same clock): p50/p99/max
import fs from "node:fs";
import { call } from "../cli/admin-client";
import type { LogData } from "../shared/gen/admin";
import { Cluster, waitFor } from "../test/support/cluster";
import { cpuSeconds } from "./proc-cpu";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const round = (x: number, d = 1) => Number(x.toFixed(d));

/** Follows a job's log to its end, handing each piece to onData. */
function follow(cluster: Cluster, jobId: number, onData: (d: Buffer) => void): Promise<void> {
  const a = cluster.admin();
  return new Promise((resolve, reject) => {
    const s = a.client.tailLog({ jobId, attemptId: 0, follow: true, offset: 0, step: "" }, a.metadata);
    s.on("data", (d: LogData) => {
      if (d.data.length) onData(d.data);
    });
    s.on("error", reject);
    s.on("end", () => resolve());
  });
}

async function started(cluster: Cluster, jobId: number): Promise<void> {
  await cluster.waitForJobs((js) => js.some((j) => j.id === jobId && j.status !== "new" && j.status !== "retrying"), "the job to start", 60_000);
}

export async function logsBenchmark(opts: { megabytes?: number; latencyLines?: number; runs?: number } = {}) {
  const megabytes = opts.megabytes ?? 200;
  const runs = opts.runs ?? (Number(process.env.BENCH_LOGS_RUNS) || 3);
  const latencyLines = opts.latencyLines ?? 500;
  const cluster = await Cluster.create({ logging: { level: "warn" }, coordinator: { log_max_bytes: 0 } });
  const workBase = `/dev/shm/beamflow-bench-logs-${process.pid}`;
  try {
    await cluster.startCoordinator();
    await cluster.startAgent("bench1", { cores: 2, work_base: workBase });

    // Throughput.
    const bytes = megabytes * 1_000_000;
    const line = "x".repeat(99);
    const pids = { coordinator: cluster.coordinator!.child.pid!, agent: cluster.agents.get("bench1")!.child.pid!, follower: process.pid };
    const a = cluster.admin();
    const throughput: Record<string, unknown>[] = [];
    for (let run = 0; run < runs; run++) {
      const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
      const [bigJob] = await cluster.submit(["sh", "-c", `yes ${line} | head -c ${bytes}`]);
      await started(cluster, bigJob);
      let received = 0;
      let t0 = 0n;
      let tLast = 0n;
      let lastAt = 0;
      await follow(cluster, bigJob, (d) => {
        if (received === 0) t0 = process.hrtime.bigint();
        received += d.length;
        tLast = process.hrtime.bigint();
        lastAt = Date.now() / 1000;
      });
      const step = (await call(a, a.client.getJob, { id: bigJob })).attempts[0]?.steps[0];
      const stepS = step?.wallS ?? NaN;
      // From the step's start: the follower connects after it, and must not be credited for the backlog it finds.
      const endToEndS = lastAt - (step?.startedAt ?? NaN);
      const cpuS = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, round(cpuSeconds(pid) - cpuBefore[k]!, 2)]));
      throughput.push({
        bytes: received,
        expected_bytes: bytes,
        step_wall_s: round(stepS, 2),
        step_start_to_last_byte_s: round(endToEndS, 2),
        follower_first_to_last_byte_s: round(Number(tLast - t0) / 1e9, 2),
        mb_per_s_pty_to_follower: round(received / 1e6 / endToEndS),
        cpu_s: cpuS,
        cpu_ms_per_mb: Object.fromEntries(Object.entries(cpuS).map(([k, v]) => [k, round((v * 1000) / (received / 1e6), 1)])),
      });
    }
    const rates = throughput.map((t) => t.mb_per_s_pty_to_follower as number).sort((x, y) => x - y);
    const coordinatorMsPerMb = throughput.map((t) => (t.cpu_ms_per_mb as Record<string, number>).coordinator!).sort((x, y) => x - y);

    // Latency.
    const [tickJob] = await cluster.submit([
      "node",
      "-e",
      `let i = 0; const t = setInterval(() => { process.stdout.write("tick " + Date.now() + "\\n"); if (++i >= ${latencyLines}) clearInterval(t); }, 10);`,
    ]);
    await started(cluster, tickJob);
    const latencies: number[] = [];
    let partial = "";
    await follow(cluster, tickJob, (d) => {
      const now = Date.now();
      const text = partial + d.toString("utf8");
      const lines = text.split(/\r?\n/);
      partial = lines.pop() ?? "";
      for (const l of lines) {
        const m = /^tick (\d+)$/.exec(l);
        if (m) latencies.push(now - Number(m[1]));
      }
    });
    await waitFor("both jobs to be processed", async () => (await cluster.jobs()).every((j) => j.status === "processed"), 30_000);
    latencies.sort((x, y) => x - y);

    return {
      benchmark: "logs",
      throughput: {
        runs: throughput,
        mb_per_s_pty_to_follower: { best: rates[rates.length - 1], median: percentile(rates, 50) },
        coordinator_cpu_ms_per_mb: { best: coordinatorMsPerMb[0], median: percentile(coordinatorMsPerMb, 50) },
        target_mb_per_s: 100,
      },
      line_latency_ms: {
        lines: latencies.length,
        expected_lines: latencyLines,
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        max: latencies[latencies.length - 1],
        target_p99: 100,
      },
    };
  } finally {
    await cluster.close();
    fs.rmSync(workBase, { recursive: true, force: true });
  }
}
