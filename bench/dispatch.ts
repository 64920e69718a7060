// Dispatch benchmark: 1,000 trivial command jobs over 8 slots (2 agents x 4
// cores), all real processes over gRPC on loopback.
//  - throughput: all 1,000 submitted at once; jobs/s from submission to the last one processed
//    (that end is the tracker's own finish time of the last attempt, so the benchmark can ask for
//    the count seldom: asking 50 times a second cost the coordinator ~8 % of its CPU); then
//    1,000 more on the same, now warmed-up, processes (jobs_per_second_warm)
//  - latency: jobs submitted one by one at a pace the slots can absorb; submit -> step start
//    (the step's start time recorded by the agent minus the job's creation time in the tracker)
import Database from "better-sqlite3";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Cluster } from "../test/support/cluster";
import { childrenNamed, machineBusySeconds, processCpu } from "./proc-cpu";

/**
 * CPU seconds so far of the coordinator, the agents, their step spawners and the steps (the
 * spawners' reaped children: `true` itself, its fork, exec and exit), and the machine's.
 */
function cpuSoFar(cluster: Cluster) {
  const coordinator = processCpu(cluster.coordinator!.child.pid!).self;
  let agents = 0;
  let spawners = 0;
  let steps = 0;
  for (const a of cluster.agents.values()) {
    agents += processCpu(a.child.pid!).self;
    for (const pid of childrenNamed(a.child.pid!, "python3")) {
      const c = processCpu(pid);
      spawners += c.self;
      steps += c.children;
    }
  }
  return { coordinator, agents, spawners, steps, machine: machineBusySeconds() };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** When the last of the jobs from `fromJob` on finished, by the tracker's clock (unix seconds). */
function lastFinish(dbPath: string, fromJob: number): number {
  const db = new Database(dbPath, { readonly: true });
  const row = db.prepare("SELECT MAX(a.finished_at) AS t FROM job_submits a WHERE a.job_id >= ? AND a.status = 'processed'").get(fromJob) as { t: number };
  db.close();
  return row.t;
}

function startLatencies(dbPath: string, fromJob: number): number[] {
  const db = new Database(dbPath, { readonly: true });
  const rows = db
    .prepare(`SELECT s.started_at - j.created_at AS latency FROM jobs j
                           JOIN job_submits a ON a.id = j.current_attempt_id JOIN attempt_steps s ON s.attempt_id = a.id AND s.idx = 0
                           WHERE j.id >= ? ORDER BY latency`)
    .all(fromJob) as { latency: number }[];
  db.close();
  return rows.map((r) => r.latency * 1000);
}

/** Submit → start of a trivial job on an idle slot: the dispatch latency every benchmark holds to. */
export const DISPATCH_LATENCY_TARGET_MS = { p50: 20, p99: 100 };

export async function dispatchBenchmark(opts: { jobs?: number; latencyJobs?: number; latencyRatePerS?: number } = {}) {
  const total = opts.jobs ?? 1000;
  const latencyJobs = opts.latencyJobs ?? 200;
  const rate = opts.latencyRatePerS ?? 50;
  const cluster = await Cluster.create({ logging: { level: "warn" } });
  try {
    await cluster.startCoordinator();
    // Work dirs on /dev/shm, as in production.
    const shm = (id: string) => ({ cores: 4, heartbeat_s: 10, work_base: `/dev/shm/beamflow-bench-${process.pid}-${id}` });
    await Promise.all([cluster.startAgent("bench1", shm("bench1")), cluster.startAgent("bench2", shm("bench2"))]);

    const tracker = path.join(cluster.dataDir, "tracker.db");
    const t0 = Date.now() / 1000;
    const ids = await cluster.submit(["true"], total, "bench");
    await cluster.waitForProcessed(total, 600_000, 250);
    const seconds = lastFinish(tracker, ids[0]) - t0;
    const batchLatency = startLatencies(tracker, ids[0]);

    // The same again on the processes that have just run 1,000 jobs: the first batch includes
    // V8 compiling the hot paths of freshly started processes; this one is the steady rate.
    const w0 = Date.now() / 1000;
    const cpu0 = cpuSoFar(cluster);
    const warmIds = await cluster.submit(["true"], total, "bench-warm");
    await cluster.waitForProcessed(2 * total, 600_000, 250);
    const cpu1 = cpuSoFar(cluster);
    const warmSeconds = lastFinish(tracker, warmIds[0]) - w0;
    const perJob = (k: keyof typeof cpu0) => Number((((cpu1[k] - cpu0[k]) * 1000) / total).toFixed(2));

    const firstPaced = warmIds[warmIds.length - 1] + 1;
    for (let i = 0; i < latencyJobs; i++) {
      await cluster.submit(["true"], 1, "bench-paced");
      await new Promise((r) => setTimeout(r, 1000 / rate));
    }
    await cluster.waitForProcessed(2 * total + latencyJobs, 120_000);
    const paced = startLatencies(tracker, firstPaced);

    return {
      benchmark: "dispatch",
      slots: 8,
      agents: 2,
      jobs: total,
      seconds: Number(seconds.toFixed(3)),
      // the first 1,000 jobs after the coordinator and agents started
      jobs_per_second: Number((total / seconds).toFixed(1)),
      // the next 1,000, on warmed-up processes
      jobs_per_second_warm: Number((total / warmSeconds).toFixed(1)),
      // where the CPU of that second batch went, per job (ms); `machine` is everything busy,
      // out of `machine_capacity` (the cores times the batch's wall time, per job)
      cpu_ms_per_job_warm: {
        coordinator: perJob("coordinator"),
        agents: perJob("agents"),
        step_spawners: perJob("spawners"),
        steps: perJob("steps"),
        machine: perJob("machine"),
        machine_capacity: Number(((os.availableParallelism() * warmSeconds * 1000) / total).toFixed(2)),
      },
      submit_to_start_ms: {
        paced: {
          jobs: paced.length,
          rate_per_s: rate,
          p50: Number(percentile(paced, 50).toFixed(1)),
          p99: Number(percentile(paced, 99).toFixed(1)),
          max: Number(paced[paced.length - 1].toFixed(1)),
        },
        batch_of_all: { p50: Number(percentile(batchLatency, 50).toFixed(1)), p99: Number(percentile(batchLatency, 99).toFixed(1)) },
      },
      targets: { jobs_per_second: 300, p50_ms: DISPATCH_LATENCY_TARGET_MS.p50, p99_ms: DISPATCH_LATENCY_TARGET_MS.p99 },
    };
  } finally {
    await cluster.close();
    for (const id of ["bench1", "bench2"]) fs.rmSync(`/dev/shm/beamflow-bench-${process.pid}-${id}`, { recursive: true, force: true });
  }
}
