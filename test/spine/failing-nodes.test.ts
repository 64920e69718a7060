// Which node a failed job goes to next, and a node whose work dir breaks while
// it runs: real coordinator and agent processes running command jobs.
import assert from "node:assert/strict";
import fs from "node:fs";
import { call } from "../../cli/admin-client";
import type { AgentView } from "../../shared/gen/admin";
import { JobType } from "../../shared/gen/common";
import { Cluster, waitFor } from "../support/cluster";
import { findAgent } from "../../cli/agent-listing";

describe("failing nodes", function () {
  this.timeout(60_000);
  let cluster: Cluster;

  afterEach(async () => {
    await cluster?.close();
  });

  async function attemptsOf(id: number) {
    const a = cluster.admin();
    return (await call(a, a.client.getJob, { id })).attempts;
  }

  async function agent(id: string): Promise<AgentView> {
    const a = cluster.admin();
    return (await findAgent(a, id))!;
  }

  it("a job that failed on one agent is retried on another", async () => {
    cluster = await Cluster.create({ jobs: { max_attempts: 2 }, dispatch: { drain_after_failures: 0 } });
    await cluster.startCoordinator();
    await Promise.all([cluster.startAgent("node1"), cluster.startAgent("node2")]);
    const ids = await cluster.submit(["sh", "-c", "echo broken >&2; exit 3"], 3);
    await cluster.waitForJobs((js) => js.length === 3 && js.every((j) => j.status === "terminal_failure"), "every job to fail twice");
    for (const id of ids) {
      const agents = (await attemptsOf(id)).map((a) => a.agentId);
      assert.equal(agents.length, 2);
      assert.notEqual(agents[0], agents[1], `job ${id}: the second attempt went to the other agent`);
    }
  });

  it("a work dir the agent can no longer create fails the attempt as workdir, not counted (max_attempts 1); the agent says why and the job runs on another", async () => {
    cluster = await Cluster.create({ jobs: { max_attempts: 1 } });
    await cluster.startCoordinator();
    // The most free cores: the broken agent is chosen first. No periodic look: only the failure makes it check again.
    await cluster.startAgent("broken", { cores: 8, fitness_check_s: 3600 });
    await cluster.startAgent("working", { cores: 2 });
    const base = cluster.workDir("broken");
    fs.rmSync(base, { recursive: true, force: true });
    fs.writeFileSync(base, "not a directory\n");

    const [id] = await cluster.submit(["sh", "-c", "echo ran in $BEAMFLOW_WORKDIR"]);
    const [job] = await cluster.waitForJobs((js) => js[0]?.status === "processed" || js[0]?.status === "terminal_failure", "the job to end");
    assert.equal(job.status, "processed", job.details);
    assert.equal(job.failures, 0);
    const attempts = await attemptsOf(id);
    assert.deepEqual(
      attempts.map((a) => [a.agentId, a.status, a.errorClass, a.counted]),
      [
        ["broken", "node_failed", "workdir", false],
        ["working", "processed", "", false],
      ],
    );
    assert.match(attempts[0].details, /^cannot create the work dir .*broken-work\/\d+: ENOTDIR/);

    const broken = await waitFor("the agent to say it can run nothing", async () => {
      const v = await agent("broken");
      return v.capabilities?.jobTypes.every((f) => !f.fit) && v;
    });
    assert.match(
      broken.capabilities!.jobTypes.find((f) => f.jobType === JobType.JOB_TYPE_COMMANDS)!.reason,
      /^work dir: cannot create or write work dirs under \S+broken-work \((EEXIST|ENOTDIR)/,
    );
    assert.match(broken.noBeamsReason, /^cannot run palfa-search: work dir: cannot create or write/);
    assert.equal(broken.failureStreak, 1);

    // Nothing more goes there, even with all its cores free.
    const more = await cluster.submit(["true"], 3);
    await cluster.waitForJobs((js) => more.every((m) => js.find((j) => j.id === m)?.status === "processed"), "three more jobs");
    for (const m of more)
      assert.deepEqual(
        (await attemptsOf(m)).map((a) => a.agentId),
        ["working"],
      );
  });
});
