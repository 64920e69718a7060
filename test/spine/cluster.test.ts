// The spine end to end: a coordinator process and agent processes over gRPC on
// loopback, real SQLite, real steps under ptys. Crashes are real kill -9s.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { call } from "../../cli/admin-client";
import { EXIT } from "../../cli/exit-codes";
import { attemptDirs, Cluster, waitFor } from "../support/cluster";

/** A command that appends the job id to a ledger, so "ran exactly once" can be counted. */
function ledgerCommand(ledger: string, extra = ""): string[] {
  return ["sh", "-c", `${extra}echo "$BEAMFLOW_JOB $BEAMFLOW_ATTEMPT" >> ${ledger}`];
}

function ledgerRuns(ledger: string): Map<number, number> {
  const runs = new Map<number, number>();
  if (!fs.existsSync(ledger)) return runs;
  for (const line of fs.readFileSync(ledger, "utf8").trim().split("\n").filter(Boolean)) {
    const job = Number(line.split(" ")[0]);
    runs.set(job, (runs.get(job) ?? 0) + 1);
  }
  return runs;
}

describe("spine: coordinator and agents over gRPC", function () {
  this.timeout(90_000);
  let cluster: Cluster;

  afterEach(async () => {
    await cluster?.close();
  });

  it("runs 20 command jobs on 2 agents, each exactly once, with steps, timings and exit codes recorded", async () => {
    cluster = await Cluster.create({ jobs: { lease_s: 5 } });
    await cluster.startCoordinator();
    await Promise.all([cluster.startAgent("node1"), cluster.startAgent("node2")]);
    const ledger = path.join(cluster.dir, "ledger");
    const ids = await cluster.submit(ledgerCommand(ledger, "sleep 0.2; "), 20);
    assert.equal(ids.length, 20);
    const jobs = await cluster.waitForJobs((js) => js.every((j) => j.status === "processed"), "20 jobs processed");
    assert.equal(jobs.length, 20);
    const runs = ledgerRuns(ledger);
    assert.deepEqual(
      [...runs.keys()].sort((a, b) => a - b),
      ids,
    );
    assert.ok(
      [...runs.values()].every((n) => n === 1),
      "every job ran exactly once",
    );
    assert.deepEqual(new Set(jobs.map((j) => j.agentId)), new Set(["node1", "node2"]), "both agents took work");

    const r = cluster.cli(["job", String(ids[0]), "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const detail = JSON.parse(r.stdout);
    assert.equal(detail.job.status, "processed");
    assert.equal(detail.attempts.length, 1);
    const [attempt] = detail.attempts;
    assert.equal(attempt.status, "processed");
    assert.equal(attempt.steps.length, 1);
    assert.equal(attempt.steps[0].exitCode, 0);
    assert.ok(attempt.steps[0].wallS >= 0.2 && attempt.steps[0].wallS < 10, `wall ${attempt.steps[0].wallS}`);
    assert.ok(attempt.steps[0].cpuS >= 0);
    assert.deepEqual(attempt.steps[0].argv.slice(0, 2), ["sh", "-c"]);

    const table = cluster.cli(["jobs"]);
    assert.equal(table.status, 0);
    assert.match(table.stdout, /processed/);
    const status = JSON.parse(cluster.cli(["status", "--json"]).stdout);
    assert.deepEqual(status.jobs, [{ status: "processed", count: 20 }]);
    assert.equal(status.agentsConnected, 2);
    assert.equal(status.beamsLast24h, 20);
  });

  it("requeues a killed agent's job after its lease, finishes it elsewhere, and does not count the lost attempt", async () => {
    cluster = await Cluster.create({ jobs: { lease_s: 2, max_attempts: 1 } });
    await cluster.startCoordinator();
    await Promise.all([cluster.startAgent("node1"), cluster.startAgent("node2")]);
    assert.equal(cluster.cli(["drain", "node2"]).status, 0);
    const ledger = path.join(cluster.dir, "ledger");
    const [id] = await cluster.submit(ledgerCommand(ledger, "sleep 3; "));
    const running = await cluster.waitForJobs((js) => js[0]?.status === "submitted" && js[0].agentId === "node1", "job running on node1");
    await waitFor("the step to start", () => attemptDirs(cluster.workDir("node1")).length > 0);
    assert.equal(cluster.cli(["undrain", "node2"]).status, 0);
    await Cluster.kill(cluster.agents.get("node1")!, "SIGKILL");
    const lostAt = Date.now();
    const done = await cluster.waitForJobs((js) => js[0]?.status === "processed", "job processed by node2", 30000);
    assert.ok(Date.now() - lostAt >= 1000, "requeued only after the lease ran out");
    assert.equal(done[0].agentId, "node2");
    assert.equal(done[0].failures, 0, "a lost attempt does not count (max_attempts is 1 here)");
    const a = cluster.admin();
    const detail = await call(a, a.client.getJob, { id });
    assert.deepEqual(
      detail.attempts.map((x) => [x.agentId, x.status, x.counted]),
      [
        ["node1", "lost", false],
        ["node2", "processed", false],
      ],
    );
    assert.match(detail.attempts[0].details, /lease expired/);
    assert.equal(running[0].currentAttemptId, detail.attempts[0].id);
    // The killed agent's step died with its pty: only node2's run reached the ledger.
    await new Promise((r) => setTimeout(r, 3500));
    assert.deepEqual([...ledgerRuns(ledger).values()], [1]);
  });

  it("survives kill -9 of the coordinator: agents re-attach and nothing runs twice", async () => {
    cluster = await Cluster.create({ jobs: { lease_s: 5 } });
    await cluster.startCoordinator();
    await Promise.all([cluster.startAgent("node1"), cluster.startAgent("node2")]);
    const ledger = path.join(cluster.dir, "ledger");
    const ids = await cluster.submit(ledgerCommand(ledger, "sleep 1.5; "), 12);
    await cluster.waitForJobs((js) => js.filter((j) => j.status === "submitted").length >= 4, "jobs running");
    await Cluster.kill(cluster.coordinator, "SIGKILL");
    await new Promise((r) => setTimeout(r, 1000));
    await cluster.startCoordinator();
    const jobs = await cluster.waitForJobs((js) => js.every((j) => j.status === "processed"), "all jobs processed after the restart", 60000);
    assert.equal(jobs.length, 12);
    const runs = ledgerRuns(ledger);
    assert.deepEqual(
      [...runs.keys()].sort((a, b) => a - b),
      ids,
    );
    assert.ok(
      [...runs.values()].every((n) => n === 1),
      `every job ran exactly once: ${JSON.stringify([...runs])}`,
    );
    for (const j of jobs) assert.equal(j.attempts, 1, `job ${j.id} was attempted once`);
  });

  it("fails an attempt on a non-zero exit with the exit code, and the job for good after max_attempts", async () => {
    cluster = await Cluster.create({ jobs: { max_attempts: 2 } });
    await cluster.startCoordinator();
    await Promise.all([cluster.startAgent("node1"), cluster.startAgent("node2")]);
    const [id] = await cluster.submit(["sh", "-c", "echo failing; exit 3"]);
    const [job] = await cluster.waitForJobs((js) => js[0]?.status === "terminal_failure", "terminal failure");
    assert.equal(job.failures, 2);
    assert.match(job.details, /exit/);
    const a = cluster.admin();
    const detail = await call(a, a.client.getJob, { id });
    assert.equal(detail.attempts.length, 2);
    for (const at of detail.attempts) {
      assert.equal(at.status, "processing_failed");
      assert.equal(at.counted, true);
      assert.equal(at.errorClass, "exit_code");
      assert.match(at.details, /3/);
      assert.equal(at.steps[0].exitCode, 3);
    }
    assert.notEqual(detail.attempts[0].agentId, detail.attempts[1].agentId, "the retry went to the other agent");
    // An operator can give it another round.
    const retry = cluster.cli(["retry", String(id)]);
    assert.equal(retry.status, 0, retry.stderr);
    await cluster.waitForJobs((js) => js[0]?.status === "terminal_failure" && js[0].attempts === 4, "second round failed");
  });

  it("stops a running job politely (requeued, not counted) and kills waiting jobs", async () => {
    cluster = await Cluster.create();
    await cluster.startCoordinator();
    await cluster.startAgent("node1", { cores: 1 });
    const [slow] = await cluster.submit(["sleep", "30"]);
    const [waiting] = await cluster.submit(["true"]);
    await cluster.waitForJobs((js) => js.find((j) => j.id === slow)?.status === "submitted", "slow job running");
    const drain = cluster.cli(["drain", "node1"]);
    assert.equal(drain.status, 0, drain.stderr);
    const stop = cluster.cli(["stop", String(slow)]);
    assert.equal(stop.status, 0, stop.stderr);
    assert.match(stop.stdout, /now retrying/);
    const kill = cluster.cli(["kill", String(waiting), String(slow)]);
    assert.equal(kill.status, 0, kill.stderr);
    const jobs = await cluster.jobs();
    assert.deepEqual(
      jobs.map((j) => [j.status, j.failures]),
      [
        ["terminal_failure", 0],
        ["terminal_failure", 0],
      ],
    );
    const a = cluster.admin();
    const detail = await call(a, a.client.getJob, { id: slow });
    assert.equal(detail.attempts[0].status, "cancelled");
    await waitFor("the work dir to be removed", () => attemptDirs(cluster.workDir("node1")).length === 0);
    const refused = cluster.cli(["stop", String(waiting)]);
    assert.equal(refused.status, EXIT.refused);
    assert.match(refused.stderr, /only a submitted job can be stopped/);
  });
});
