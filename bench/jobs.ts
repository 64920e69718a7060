// `beamflow jobs` against a tracker holding 1,000,000 jobs (and an attempt for each one that
// ran): the time of a listing (one page; filtered by state, beam glob, agent; the next page)
// and of `beamflow status`, as the operator sees them through the admin API, and how long
// the coordinator's event loop stalls meanwhile
// (measured by a 10 ms timer in the coordinator, through /metrics: nodejs_eventloop_lag_*).
import Database from "better-sqlite3";
import fs from "node:fs";
import path from "node:path";
import { call } from "../cli/admin-client";
import { firstJobs, type ListCall } from "../cli/job-listing";
import type { JobView } from "../shared/gen/admin";
import { Cluster } from "../test/support/cluster";

const JOBS = 1_000_000;
// No job waits for its upload (processed): the uploader would work through those meanwhile.
const STATES = ["uploaded", "uploaded", "uploaded", "upload_failed", "new", "terminal_failure", "retrying", "uploaded"];
/** a small cluster: each agent ran a third of the survey */
const AGENTS = ["node1", "node2", "node3"];

function fill(dbPath: string): void {
  const db = new Database(dbPath);
  const now = Date.now() / 1000;
  const ins = db.prepare(
    `INSERT INTO jobs (beam, job_type, spec_json, cores, memory, shm, status, failures, details, created_at, updated_at)
     VALUES (?, 'palfa-search', '{}', 1, 0, 0, ?, 0, '', ?, ?)`,
  );
  const attempt = db.prepare(
    `INSERT INTO job_submits (job_id, agent_id, status, cores, memory, shm, lease_expires_at, created_at, started_at, finished_at, updated_at)
     VALUES (?, ?, ?, 1, 0, 0, 0, ?, ?, ?, ?)`,
  );
  const current = db.prepare("UPDATE jobs SET current_attempt_id = ? WHERE id = ?");
  for (const a of AGENTS) db.prepare("INSERT INTO agents (id, token_hash, registered_at) VALUES (?, '', ?)").run(a, now);
  db.transaction(() => {
    for (let i = 0; i < JOBS; i++) {
      // one job a second up to now: the last hour holds 3,600 of them, the last day 86,400
      const t = now - (JOBS - i);
      const status = STATES[i % STATES.length]!;
      const id = ins.run(`p2030.2015${String(i).padStart(7, "0")}.G35.b${i % 7}`, status, t, t).lastInsertRowid;
      if (status === "new") continue;
      const a = attempt.run(
        id,
        AGENTS[i % AGENTS.length],
        status === "uploaded" || status === "upload_failed" ? "processed" : "failed",
        t,
        t,
        t + 1,
        t + 1,
      ).lastInsertRowid;
      current.run(a, id);
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
      agent: { agent: "node2" },
      agent_none: { agent: "nobody" },
      oldest50: { oldestFirst: true },
      // filters no index answers, matching few or no jobs: the coordinator walks every job
      beam_inside_rare: { beam: "*0123456*" },
      beam_inside_none: { beam: "*nosuch*" },
      since_none: { since: Date.now() / 1000 + 3600 },
      since_1h_oldest: { since: Date.now() / 1000 - 3600, oldestFirst: true },
      status_and_beam_none: { status: "uploaded", beam: "*nosuch*" },
      agent_and_beam_none: { agent: "node1", beam: "*nosuch*" },
    };
    const token = fs.readFileSync(path.join(cluster.dataDir, "admin.token"), "utf8").trim();
    const scrape = () =>
      fetch(`${httpUrl(cluster)}/metrics`, { headers: { authorization: `Bearer ${token}` } })
        .then((r) => r.text())
        .catch(() => "");
    // A first scrape resets the event-loop histogram: its maximum is then over the listings only, not the start.
    await scrape();
    const r1 = (x: number) => Math.round(x * 10) / 10;
    // Each listing as the CLI makes it: replies followed until the page is full or the jobs end
    // (a reply that walked as long as it may comes short, with a cursor). Its whole time, and its longest reply.
    const results: Record<string, { medianMs: number; maxMs: number; rows: number; replies?: number; longestReplyMs?: number }> = {};
    for (const [name, q] of Object.entries(cases)) {
      const ms: number[] = [];
      let rows = 0;
      let replies = 0;
      let longest = 0;
      const list: ListCall<JobView> = async (limit, cursor) => {
        const r0 = performance.now();
        const r = await call(a, a.client.listJobs, { ...base, ...q, limit, cursor });
        longest = Math.max(longest, performance.now() - r0);
        replies++;
        return r;
      };
      for (let i = 0; i < 7; i++) {
        const s = performance.now();
        replies = 0;
        rows = (await firstJobs(list, { ...base, ...q }.limit)).jobs.length;
        ms.push(performance.now() - s);
      }
      ms.sort((x, y) => x - y);
      results[name] = { medianMs: r1(ms[3]!), maxMs: r1(ms[6]!), rows, ...(replies > 1 && { replies, longestReplyMs: r1(longest) }) };
    }
    const status: number[] = [];
    for (let i = 0; i < 7; i++) {
      const s = performance.now();
      await call(a, a.client.status, {});
      status.push(performance.now() - s);
    }
    status.sort((x, y) => x - y);
    results.status = { medianMs: r1(status[3]!), maxMs: r1(status[6]!), rows: 1 };
    const metrics = await scrape();
    const lagMax = /^nodejs_eventloop_lag_max_seconds (\S+)/m.exec(metrics)?.[1];
    if (!lagMax) process.stderr.write(`bench jobs: no event-loop lag in ${httpUrl(cluster) || "(no metrics URL)"}/metrics (${metrics.length} bytes)\n`);
    return {
      jobs: JOBS,
      fillS: Math.round(fillS * 10) / 10,
      listings: results,
      eventLoopLagMaxMs: lagMax ? Math.round(Number(lagMax) * 1000 * 10) / 10 : null,
      target: "each reply < 100 ms (a listing no index answers is several, each a short page with a cursor); the event loop never blocked > 50 ms",
    };
  } finally {
    await cluster.close();
  }
}

function httpUrl(cluster: Cluster): string {
  const line = cluster.coordinator?.stderr.find((l) => l.includes("status page and metrics listening")) ?? "";
  return /"url":"([^"]+)"/.exec(line)?.[1] ?? "";
}
