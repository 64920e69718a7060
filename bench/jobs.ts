// `beamflow jobs` against a tracker holding 1,000,000 jobs (and an attempt for each one that
// ran): the time of a listing (one page; filtered by state, beam glob, agent; the next page)
// and of `beamflow status`, as the operator sees them through the admin API, and how long
// the coordinator's event loop stalls meanwhile
// (measured by a 10 ms timer in the coordinator, through /metrics: nodejs_eventloop_lag_*).
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { call } from "../cli/admin-client";
import { Cluster } from "../test/support/cluster";

const JOBS = 1_000_000;
const STATES = ["uploaded", "uploaded", "uploaded", "processed", "new", "terminal_failure", "retrying", "uploaded"];

function fill(dbPath: string): void {
  const db = new Database(dbPath);
  const now = Date.now() / 1000;
  const ins = db.prepare(
    `INSERT INTO jobs (beam, job_type, spec_json, cores, memory, shm, status, failures, details, created_at, updated_at)
     VALUES (?, 'palfa-search', '{}', 1, 0, 0, ?, 0, '', ?, ?)`,
  );
  const attempt = db.prepare(
    `INSERT INTO job_submits (job_id, agent_id, status, cores, memory, shm, lease_expires_at, created_at, started_at, finished_at, updated_at)
     VALUES (?, 'node1', ?, 1, 0, 0, 0, ?, ?, ?, ?)`,
  );
  db.prepare("INSERT INTO agents (id, token_hash, registered_at) VALUES ('node1', '', ?)").run(now);
  db.transaction(() => {
    for (let i = 0; i < JOBS; i++) {
      // one job a second up to now: the last hour holds 3,600 of them, the last day 86,400
      const t = now - (JOBS - i);
      const status = STATES[i % STATES.length]!;
      const id = ins.run(`p2030.2015${String(i).padStart(7, "0")}.G35.b${i % 7}`, status, t, t).lastInsertRowid;
      if (status === "new") continue;
      attempt.run(id, status === "uploaded" || status === "processed" ? "processed" : "failed", t, t, t + 1, t + 1);
    }
  })();
  db.close();
}

export async function jobsBenchmark(): Promise<unknown> {
  // At info, the coordinator says where its /metrics are.
  const cluster = await Cluster.create({ logging: { level: "info" } });
  try {
    const t0 = performance.now();
    fill(path.join(cluster.dataDir, "tracker.db"));
    const fillS = (performance.now() - t0) / 1000;
    await cluster.startCoordinator();
    const a = cluster.admin();
    const base = { status: "", agent: "", beam: "", since: 0, cursor: 0, oldestFirst: false, limit: 50 };
    const cases: Record<string, Partial<typeof base>> = {
      newest50: {},
      page1000: { limit: 1000 },
      status_terminal_failure: { status: "terminal_failure" },
      beam_glob: { beam: "p2030.20150123*" },
      since_1h: { since: Date.now() / 1000 - 3600 },
      agent: { agent: "nobody" },
      oldest50: { oldestFirst: true },
    };
    const token = fs.readFileSync(path.join(cluster.dataDir, "admin.token"), "utf8").trim();
    const scrape = () =>
      fetch(`${httpUrl(cluster)}/metrics`, { headers: { authorization: `Bearer ${token}` } })
        .then((r) => r.text())
        .catch(() => "");
    // A first scrape resets the event-loop histogram: its maximum is then over the listings only, not the start.
    await scrape();
    const results: Record<string, { medianMs: number; maxMs: number; rows: number }> = {};
    for (const [name, q] of Object.entries(cases)) {
      const ms: number[] = [];
      let rows = 0;
      for (let i = 0; i < 7; i++) {
        const s = performance.now();
        const r = await call(a, a.client.listJobs, { ...base, ...q });
        ms.push(performance.now() - s);
        rows = r.jobs.length;
      }
      ms.sort((x, y) => x - y);
      results[name] = { medianMs: Math.round(ms[3]! * 10) / 10, maxMs: Math.round(ms[6]! * 10) / 10, rows };
    }
    const status: number[] = [];
    for (let i = 0; i < 7; i++) {
      const s = performance.now();
      await call(a, a.client.status, {});
      status.push(performance.now() - s);
    }
    status.sort((x, y) => x - y);
    results.status = { medianMs: Math.round(status[3]! * 10) / 10, maxMs: Math.round(status[6]! * 10) / 10, rows: 1 };
    const metrics = await scrape();
    const lagMax = /^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(metrics)?.[1];
    if (!lagMax) process.stderr.write(`bench jobs: no event-loop lag in ${httpUrl(cluster) || "(no metrics URL)"}/metrics (${metrics.length} bytes)\n`);
    return {
      jobs: JOBS,
      fillS: Math.round(fillS * 10) / 10,
      listings: results,
      eventLoopLagMaxMs: lagMax ? Math.round(Number(lagMax) * 1000 * 10) / 10 : null,
      target: "each listing and status < 100 ms; the event loop never blocked > 50 ms",
    };
  } finally {
    await cluster.close();
  }
}

function httpUrl(cluster: Cluster): string {
  const line = cluster.coordinator?.stderr.find((l) => l.includes("status page and metrics listening")) ?? "";
  return /"url":"([^"]+)"/.exec(line)?.[1] ?? "";
}
