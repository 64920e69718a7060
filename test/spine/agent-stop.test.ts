// One agent per work base, and a clean stop, on real processes: a second agent
// pointed at a live agent's work base refuses to start (it would delete the first
// one's running work as stale); an agent that stops hands each running attempt
// back once and is given nothing more meanwhile.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { call } from "../../cli/admin-client";
import { Cluster, waitFor } from "../support/cluster";

describe("agent work base and stop (real processes)", function () {
  this.timeout(120_000);
  let c: Cluster;

  afterEach(async () => {
    await c.close();
  });

  it("refuses a second agent on a work base in use, leaving the first one's work alone", async () => {
    c = await Cluster.create();
    await c.startCoordinator();
    await c.startAgent("a1");
    const [id] = await c.submit(["sleep", "1000"]);
    await c.waitForJobs((jobs) => jobs.some((j) => j.id === id && j.status === "submitted"), "the job running");
    const live = await waitFor("the attempt's work dir", async () => fs.readdirSync(c.workDir("a1")).find((n) => !n.startsWith(".")));

    // a2 with a1's work base, named by another path to the same dir.
    const alias = path.join(c.dir, "alias-of-a1-work");
    fs.symlinkSync(c.workDir("a1"), alias);
    c.registerAgent("a2", { work_base: alias });
    const a2 = c.cli(["agent"], path.join(c.dir, "a2.yaml"));
    assert.notEqual(a2.status, 0, "the second agent must not start");
    assert.match(a2.stderr, /work base .*alias-of-a1-work is in use by agent a1: pid \d+/);
    assert.ok(fs.existsSync(path.join(c.workDir("a1"), live)), "the running attempt's work dir is still there");
    const jobs = await c.jobs();
    assert.equal(jobs.find((j) => j.id === id)?.status, "submitted", "the job still runs");
  });

  it("hands each running attempt back once when stopped, and is given nothing while it stops", async () => {
    c = await Cluster.create();
    await c.startCoordinator();
    const a1 = await c.startAgent("a1", { cores: 3 });
    const ids = await c.submit(["sleep", "1000"], 8);
    await c.waitForJobs((jobs) => jobs.filter((j) => ids.includes(j.id) && j.status === "submitted").length === 3, "three jobs running");

    await Cluster.kill(a1, "SIGTERM");
    assert.equal(a1.child.exitCode, 0, a1.stderr.slice(-5).join("\n"));

    const a = c.admin();
    const attempts = (await Promise.all(ids.map((id) => call(a, a.client.getJob, { id })))).flatMap((d) => d.attempts);
    assert.deepEqual(
      attempts.map((x) => x.status).sort(),
      ["lost", "lost", "lost"],
      `each of the three handed back once, nothing assigned meanwhile: ${JSON.stringify(attempts.map((x) => [x.jobId, x.status, x.details]))}`,
    );
    assert.ok(
      attempts.every((x) => !x.counted && /agent a1 cancelled it: handed back: SIGTERM/.test(x.details)),
      JSON.stringify(attempts.map((x) => x.details)),
    );
    const jobs = await c.jobs();
    const mine = jobs.filter((j) => ids.includes(j.id));
    assert.deepEqual(mine.map((j) => j.status).sort(), ["new", "new", "new", "new", "new", "retrying", "retrying", "retrying"], "all eight wait again");
    assert.ok(
      mine.every((j) => j.failures === 0),
      "nothing counted",
    );
  });
});
