// An agent's graceful stop on real processes (agent.stop_timeout_s): on SIGTERM it takes
// nothing new and lets its running attempts finish, results and logs delivered, then
// exits 0; what still runs at the timeout is handed back (its steps stopped first, then
// reported: requeued, not counted, once), and a second SIGTERM hands back at once. A
// handed-back beam runs elsewhere only after the agent has reported it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { call } from "../../cli/admin-client";
import { Cluster, waitFor } from "../support/cluster";
import { findAgent } from "../../cli/agent-listing";

const marker = (name: string) => `beamflow-graceful-${process.pid}-${name}`;
/** Processes whose command line holds the marker (the steps of one test). */
const running = (m: string) => spawnSync("pgrep", ["-f", m], { encoding: "utf8" }).stdout.trim();

describe("graceful agent stop (real processes)", function () {
  this.timeout(120_000);
  let c: Cluster;

  afterEach(async () => {
    await c?.close();
  });

  const attemptsOf = async (ids: number[]) => {
    const a = c.admin();
    return (await Promise.all(ids.map((id) => call(a, a.client.getJob, { id })))).flatMap((d) => d.attempts);
  };

  it("lets the running attempts finish (results and logs delivered), takes nothing new, and exits 0", async () => {
    c = await Cluster.create();
    await c.startCoordinator();
    const a1 = await c.startAgent("a1", { cores: 2, stop_timeout_s: 90 });
    const ids = await c.submit(["sh", "-c", "echo started; sleep 3; echo finished-well"], 4);
    const run = await c.waitForJobs((jobs) => jobs.filter((j) => ids.includes(j.id) && j.status === "submitted").length === 2, "two jobs running");
    const runningIds = run.filter((j) => ids.includes(j.id) && j.status === "submitted").map((j) => j.id);

    a1.child.kill("SIGTERM");
    await new Promise((r) => a1.child.once("exit", r));
    assert.equal(a1.child.exitCode, 0, a1.stderr.slice(-5).join("\n"));

    const jobs = (await c.jobs()).filter((j) => ids.includes(j.id));
    for (const j of jobs) {
      if (runningIds.includes(j.id)) assert.equal(j.status, "processed", `job ${j.id} ran to its end: ${j.details}`);
      else assert.deepEqual([j.status, j.attempts], ["new", 0], `job ${j.id} was given to no one while a1 stopped`);
    }
    for (const id of runningIds) {
      const log = c.cli(["logs", String(id)]);
      assert.match(log.stdout, /finished-well/, `job ${id}'s whole log is stored`);
    }
    assert.ok(
      a1.stderr.some((l) => l.includes("every attempt finished and was delivered")),
      "the agent said it stopped with nothing to hand back",
    );
  });

  it("hands back what still runs at the timeout: steps stopped first, then requeued, not counted, once", async () => {
    c = await Cluster.create();
    await c.startCoordinator();
    const m = marker("timeout");
    const a1 = await c.startAgent("a1", { cores: 1, stop_timeout_s: 3 });
    const [id] = await c.submit(["sh", "-c", `sleep 1000; : ${m}`]);
    await c.waitForJobs((jobs) => jobs.some((j) => j.id === id && j.status === "submitted"), "the job running");
    await waitFor("its step to run", () => running(m) !== "");

    const signalled = Date.now();
    a1.child.kill("SIGTERM");
    await new Promise((r) => a1.child.once("exit", r));
    assert.equal(a1.child.exitCode, 0, a1.stderr.slice(-5).join("\n"));
    assert.ok(Date.now() - signalled >= 3000, "it waited for the stop timeout");
    assert.equal(running(m), "", "the step's processes are gone");

    // Another agent then takes it: after the hand-back was stored, never alongside it.
    await c.startAgent("a2", { cores: 1 });
    await c.waitForJobs((jobs) => jobs.some((j) => j.id === id && j.status === "submitted" && j.attempts === 2), "the job running on a2");
    const [first, second] = await attemptsOf([id]);
    assert.equal(first.agentId, "a1");
    assert.equal(first.status, "lost");
    assert.equal(first.counted, false);
    assert.match(first.details, /agent a1 cancelled it: handed back: SIGTERM/);
    assert.equal(second.agentId, "a2");
    assert.ok(second.createdAt >= first.finishedAt, "the beam went to a2 only once a1 had handed it back");
    const job = (await c.jobs()).find((j) => j.id === id)!;
    assert.equal(job.failures, 0, "nothing counted");
    assert.ok(
      a1.stderr.some((l) => l.includes("handing back the attempts still running")),
      a1.stderr.slice(-5).join("\n"),
    );
  });

  it("hands back at once on a second SIGTERM", async () => {
    c = await Cluster.create();
    await c.startCoordinator();
    const m = marker("second");
    const a1 = await c.startAgent("a1", { cores: 2, stop_timeout_s: 600 });
    const ids = await c.submit(["sh", "-c", `sleep 1000; : ${m}`], 2);
    await c.waitForJobs((jobs) => jobs.filter((j) => ids.includes(j.id) && j.status === "submitted").length === 2, "both jobs running");

    const exited = new Promise((r) => a1.child.once("exit", r));
    a1.child.kill("SIGTERM");
    await waitFor("the agent to start its graceful stop", () => a1.stderr.some((l) => l.includes("running attempts may finish")));
    // Still running after the first signal: the stop timeout is 600 s.
    assert.notEqual(running(m), "", "the first SIGTERM leaves the steps running");
    const a = c.admin();
    const view = (await findAgent(a, "a1"))!;
    assert.deepEqual([view.state, view.leaving], ["connected", true], "connected, stopping: it gets nothing new");
    assert.match(c.cli(["agents"]).stdout, /connected \(leaving\)/);
    a1.child.kill("SIGTERM");
    // Far sooner than the 600 s stop timeout (generous for a busy machine).
    await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error("still running 60 s after the second SIGTERM")), 60_000))]);
    assert.equal(a1.child.exitCode, 0, a1.stderr.slice(-5).join("\n"));
    assert.equal(running(m), "", "the steps are gone");

    const attempts = await attemptsOf(ids);
    assert.deepEqual(
      attempts.map((x) => [x.status, x.counted]),
      [
        ["lost", false],
        ["lost", false],
      ],
      JSON.stringify(attempts.map((x) => x.details)),
    );
    const jobs = (await c.jobs()).filter((j) => ids.includes(j.id));
    assert.deepEqual(
      jobs.map((j) => [j.status, j.failures]),
      [
        ["retrying", 0],
        ["retrying", 0],
      ],
    );
  });
});
