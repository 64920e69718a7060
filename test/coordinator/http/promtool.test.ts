// Both /metrics endpoints, scraped from a real coordinator and a real agent process,
// pass `promtool check metrics` (Prometheus' own linter: counters end in _total and
// nothing else does, units in the names, help on every metric), and every metric the
// Grafana dashboard in deploy/ queries is one they serve.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Cluster, freePort, waitFor } from "../../support/cluster";

const DASHBOARD = path.join(__dirname, "..", "..", "..", "deploy", "grafana-dashboard.json");

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (r.error) throw r.error;
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Metric family names of a Prometheus text exposition, with their TYPE. */
function families(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of text.split("\n")) {
    const t = /^# TYPE (\S+) (\S+)$/.exec(l);
    if (t) m.set(t[1], t[2]);
  }
  return m;
}

describe("/metrics pass promtool check metrics (real coordinator and agent)", function () {
  this.timeout(60_000);
  let cluster: Cluster;
  before(function () {
    if (spawnSync("promtool", ["--version"]).error) {
      if (process.env.CI) throw new Error("promtool is not installed (Debian package prometheus; .ci/run installs it)");
      this.skip();
    }
  });
  after(async () => cluster?.close());

  it("coordinator and agent: promtool finds nothing; outcomes counted; timestamps, not ages; the dashboard's metrics exist", async () => {
    const httpPort = await freePort();
    cluster = await Cluster.create({ coordinator: { http_listen: `127.0.0.1:${httpPort}` } });
    await cluster.startCoordinator();
    const agentPort = await freePort();
    await cluster.startAgent("node1", { metrics_listen: `127.0.0.1:${agentPort}` });
    const [ok] = await cluster.submit(["true"]);
    const [bad] = await cluster.submit(["sh", "-c", "exit 3"]);
    await cluster.waitForJobs(
      (js) => js.find((j) => j.id === bad)?.status === "terminal_failure" && js.find((j) => j.id === ok)?.status === "processed",
      "both jobs to end",
    );

    const adminToken = fs.readFileSync(path.join(cluster.dataDir, "admin.token"), "utf8").trim();
    const agentToken = fs.readFileSync(path.join(cluster.dir, "node1", "metrics.token"), "utf8").trim(); // made at start in its data_dir
    const scrape = async (url: string, token: string) => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(res.status, 200, url);
      return res.text();
    };
    const coordinator = await waitFor("the outcomes in the coordinator's metrics", async () => {
      const t = await scrape(`http://127.0.0.1:${httpPort}/metrics`, adminToken);
      return /^beamflow_job_outcomes_total\{outcome="terminal_failure"\} 1$/m.test(t) ? t : undefined;
    });
    const agent = await scrape(`http://127.0.0.1:${agentPort}/metrics`, agentToken);

    for (const [what, text] of [
      ["coordinator", coordinator],
      ["agent", agent],
    ] as const) {
      const r = promtool(text);
      assert.equal(r.status, 0, `${what}: promtool check metrics:\n${r.out}`);
      assert.equal(r.out.trim(), "", `${what}: promtool's remarks`);
      const types = families(text);
      for (const [name, type] of types) {
        if (name.endsWith("_total")) assert.equal(type, "counter", `${what}: ${name} is a ${type}`);
        assert.doesNotMatch(name, /_age_/, `${what}: ${name}: export a timestamp, not an age`);
      }
      for (const std of ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds"])
        assert.ok(types.has(std), `${what}: prom-client's ${std} under its standard name`);
    }
    assert.match(coordinator, /^beamflow_job_outcomes_total\{outcome="processed"\} 1$/m);
    const hb = Number(/^beamflow_agent_last_heartbeat_timestamp_seconds\{agent="node1"\} (\S+)$/m.exec(coordinator)?.[1]);
    assert.ok(Math.abs(Date.now() / 1000 - hb) < 10, `a Unix time: ${hb}`);
    assert.match(agent, /^beamflow_agent_attempts_finished_total\{outcome="succeeded"\} 1$/m);

    // Every beamflow_* metric the dashboard queries is served (histograms by their _bucket/_sum/_count).
    const served = new Set([...families(coordinator).keys(), ...families(agent).keys()]);
    const queried = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === "object")
        for (const [k, x] of Object.entries(v)) {
          if (k === "expr" && typeof x === "string") for (const m of x.matchAll(/\b((?:beamflow|process|nodejs)_[a-z0-9_]+)/g)) queried.add(m[1]);
          else walk(x);
        }
    };
    walk(JSON.parse(fs.readFileSync(DASHBOARD, "utf8")));
    assert.ok(queried.size >= 8, `the dashboard queries ${[...queried].join(", ")}`);
    for (const q of queried) {
      const family = q.replace(/_(bucket|sum|count)$/, "");
      assert.ok(served.has(q) || served.has(family), `the dashboard queries ${q}, which no /metrics serves`);
    }
  });
});
