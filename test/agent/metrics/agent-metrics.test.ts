// The agent's /metrics over real HTTP from a real agent process: refused without
// the agent's token, and with it the attempts, step durations, /dev/shm and log
// figures after a command job ran.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { Cluster, freePort, waitFor } from "../../support/cluster";
import { AgentMetrics } from "../../../agent/metrics/agent-metrics";
import { stepKind } from "../../../shared/protocol/step-kind";
import { startMetricsServer } from "../../../agent/metrics/metrics-server";
import { silentLogger } from "../../../shared/logging/logger";

/** The value of one sample line of the Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("agent /metrics", function () {
  this.timeout(60_000);
  let cluster: Cluster;
  afterEach(async () => cluster?.close());

  it("serves attempts, step durations by kind, /dev/shm and log bytes, only with the metrics token", async () => {
    cluster = await Cluster.create();
    await cluster.startCoordinator();
    const port = await freePort();
    await cluster.startAgent("node1", { metrics_listen: `127.0.0.1:${port}` });
    const url = `http://127.0.0.1:${port}/metrics`;
    // The read-only metrics token, made at start in the agent's data_dir; the agent's own credential opens nothing here.
    const token = fs.readFileSync(path.join(cluster.dir, "node1", "metrics.token"), "utf8").trim();
    assert.equal(fs.statSync(path.join(cluster.dir, "node1", "metrics.token")).mode & 0o777, 0o600);
    const credential = fs.readFileSync(path.join(cluster.dir, "node1.token"), "utf8").trim();
    assert.equal((await fetch(url)).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: "Bearer wrong" } })).status, 401);
    assert.equal((await fetch(url, { headers: { authorization: `Bearer ${credential}` } })).status, 401, "the agent's credential is not a metrics token");

    await cluster.submit(["sh", "-c", "echo hello from the step; sleep 0.3"]);
    await cluster.waitForJobs((js) => js[0]?.status === "processed", "the job to finish");
    const text = await waitFor("the finished attempt in the metrics", async () => {
      const t = await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).text();
      return sample(t, 'beamflow_agent_attempts_finished_total{outcome="succeeded"}') === 1 ? t : undefined;
    });
    assert.equal(sample(text, "beamflow_agent_attempts_running"), 0);
    assert.equal(sample(text, 'beamflow_agent_step_duration_seconds_count{step="command"}'), 1);
    assert.ok(sample(text, 'beamflow_agent_step_duration_seconds_sum{step="command"}')! >= 0.3);
    assert.ok(sample(text, "beamflow_agent_log_bytes_sent_total")! >= "hello from the step\n".length);
    assert.equal(sample(text, "beamflow_agent_log_spool_bytes"), 0);
    const total = sample(text, "beamflow_agent_shm_total_bytes")!;
    assert.ok(total > 0 && sample(text, "beamflow_agent_shm_free_bytes")! <= total);
    assert.ok(sample(text, "beamflow_agent_scratch_free_bytes")! > 0);
  });

  it("refuses a non-loopback listener and keeps step labels few", async () => {
    const m = new AgentMetrics({ runningAttempts: () => 0, spooledBytes: () => 0, workBase: "/dev/shm", scratchDir: "/tmp" });
    await assert.rejects(
      startMetricsServer(m, { listen: "0.0.0.0:0", token: "t", log: silentLogger() }),
      /agent\.metrics_listen '0\.0\.0\.0:0': refusing .*non-loopback/,
    );
    assert.equal(stepKind("accelsearch lo DM57.00"), "accelsearch");
    assert.equal(stepKind("prepsubband pass 3"), "prepsubband");
    assert.equal(stepKind("{weird}"), "other");
  });
});
