// A job no agent can run: refused at submit unless forced; forced, it waits saying why
// (as Slurm's pending reasons) and never holds back the jobs behind it. Real CLI,
// coordinator and agent.
import assert from "node:assert/strict";
import { Cluster } from "../support/cluster";

describe("waiting jobs say why (real processes)", function () {
  this.timeout(120_000);
  let c: Cluster;
  afterEach(async () => c.close());

  it("refuses an impossible job unless forced, then shows why it waits while smaller ones run", async () => {
    c = await Cluster.create();
    await c.startCoordinator();
    await c.startAgent("a1", { cores: 4 });

    const refused = c.cli(["submit", "--cores", "1000", "--", "true"]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /no registered agent offers 1000 cores \(the most is 4\).*--force/);
    assert.equal((await c.jobs()).length, 0, "nothing created");

    const forced = c.cli(["submit", "--cores", "1000", "--force", "--", "true"]);
    assert.equal(forced.status, 0, forced.stderr);
    const [big] = (await c.jobs()).map((j) => j.id);
    const [small] = await c.submit(["true"]);
    await c.waitForJobs((jobs) => jobs.some((j) => j.id === small && j.status === "processed"), "the small job processed");

    const shown = c.cli(["job", String(big)]);
    assert.match(shown.stdout, /waiting: needs 1000 cores; the largest agent able to run it has 4/);
    const listed = c.cli(["jobs"]);
    assert.match(listed.stdout, /needs 1000 cores/);
  });
});
