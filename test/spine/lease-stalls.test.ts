// Leases that survive stalls, and agents that fence themselves, on real processes:
// a coordinator paused (SIGSTOP) past the lease must not rerun beams that finished
// meanwhile; an agent paused past the lease must have its steps killed before the
// beam may start elsewhere, so the beam never runs in two places at once.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { call } from "../../cli/admin-client";
import type { JobDetail } from "../../shared/gen/admin";
import { Cluster, waitFor } from "../support/cluster";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function detail(c: Cluster, id: number): Promise<JobDetail> {
  const a = c.admin();
  return call(a, a.client.getJob, { id });
}

describe("leases through stalls (real processes)", function () {
  this.timeout(90_000);
  let c: Cluster;

  afterEach(async () => {
    // Never leave a stopped process behind, whatever failed.
    for (const p of [c.coordinator, ...c.agents.values()]) if (p && p.child.exitCode === null) p.child.kill("SIGCONT");
    await c.close();
  });

  /**
   * A beam assigned to agent a1 while it is paused (its Assign waits unread), then a second
   * agent a2 started; the beam's step appends its attempt to runs/started and sleeps.
   */
  async function assignedWhilePaused(leaseS: number, sleepS: number) {
    c = await Cluster.create({ jobs: { lease_s: leaseS, accept_timeout_s: 2 } });
    await c.startCoordinator();
    const paused = await c.startAgent("a1");
    const runs = path.join(c.dir, "runs");
    fs.mkdirSync(runs);
    paused.child.kill("SIGSTOP");
    const [id] = await c.submit(["sh", "-c", `echo "$BEAMFLOW_ATTEMPT" >> ${runs}/started; sleep ${sleepS}`]);
    await waitFor("the beam assigned to the paused agent", async () => (await detail(c, id!)).attempts[0]?.agentId === "a1" || undefined);
    await c.startAgent("a2");
    return { paused, runs, id: id! };
  }

  it("a coordinator paused longer than the lease delivers what finished meanwhile instead of running it again", async () => {
    c = await Cluster.create({ jobs: { lease_s: 4 } });
    const coordinator = await c.startCoordinator();
    await c.startAgent("a1");
    const ids = await c.submit(["sh", "-c", "sleep 0.3; echo done"], 2);
    await c.waitForJobs((jobs) => jobs.filter((j) => ids.includes(j.id) && j.status === "submitted").length === 2, "both jobs running");

    coordinator.child.kill("SIGSTOP");
    await sleep(9000); // over 2 leases: the jobs finish on the agent while nobody listens
    coordinator.child.kill("SIGCONT");

    await c.waitForJobs((jobs) => jobs.filter((j) => ids.includes(j.id) && j.status === "processed").length === 2, "both jobs processed", 20_000);
    for (const id of ids) {
      const d = await detail(c, id);
      assert.deepEqual(
        d.attempts.map((a) => a.status),
        ["processed"],
        `job ${id} ran once: ${JSON.stringify(d.attempts.map((a) => [a.status, a.details]))}`,
      );
    }
    assert.ok(
      coordinator.stderr.some((l) => l.includes("stalled or its clock stepped")),
      "the coordinator noticed its stall and extended the leases",
    );
  });

  it("an agent paused longer than the lease has its steps killed before the beam starts on another agent", async () => {
    c = await Cluster.create({ jobs: { lease_s: 6 } });
    await c.startCoordinator();
    await c.startAgent("a1");
    await c.startAgent("a2");
    const runs = path.join(c.dir, "runs");
    fs.mkdirSync(runs);
    // Each run first looks for an earlier run still alive (it would be a double run), then
    // leaves its own pid for the next one to look for.
    const script = `for f in ${runs}/pid-*; do [ -e "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && echo "$f" >> ${runs}/overlap; done; echo $$ > ${runs}/pid-$BEAMFLOW_ATTEMPT; sleep 1000`;
    const [id] = await c.submit(["sh", "-c", script]);
    // The shell creates the file before it writes the pid into it: wait for the whole line.
    const pidIn = (f: string) => /^(\d+)\n$/.exec(fs.readFileSync(path.join(runs, f), "utf8"))?.[1];
    const first = await waitFor("the first run to start", async () => fs.readdirSync(runs).find((f) => f.startsWith("pid-") && pidIn(f)));
    const firstPid = Number(pidIn(first));
    assert.ok(firstPid > 1, `the first run's pid: ${firstPid}`);
    const holder = (await detail(c, id)).attempts[0]!.agentId;
    const other = holder === "a1" ? "a2" : "a1";
    const paused = c.agents.get(holder)!;
    paused.child.kill("SIGSTOP");
    const second = await waitFor(
      "the beam to start again on the other agent",
      async () => fs.readdirSync(runs).find((f) => f.startsWith("pid-") && f !== first),
      20_000,
    );
    assert.ok(second);
    assert.ok(
      !fs.existsSync(path.join(runs, "overlap")),
      `a run overlapped another: ${fs.existsSync(path.join(runs, "overlap")) ? fs.readFileSync(path.join(runs, "overlap"), "utf8") : ""}`,
    );
    assert.throws(() => process.kill(firstPid, 0), /ESRCH/, "the paused agent's step is gone");

    paused.child.kill("SIGCONT");
    // Back, the paused agent tells its fenced attempt's end; the beam stays where it runs now.
    await waitFor("the paused agent back", async () => (await detail(c, id)).attempts[0]!.status === "lost" || undefined, 20_000);
    await sleep(2000);
    const d = await detail(c, id);
    assert.deepEqual(
      d.attempts.map((a) => [a.agentId, a.status, a.counted]),
      [
        [holder, "lost", false],
        [other, "running", false],
      ],
    );
    assert.equal(d.job?.failures, 0, "nothing counted against the beam");
  });

  it("an agent paused before it could answer an Assign keeps the beam past the accept timeout, and runs it once when it wakes", async () => {
    // It holds its accepts back, so its assignments are leased like running attempts: the beam
    // must not go elsewhere while the Assign waits, unread, in the paused agent's socket.
    const { paused, runs, id } = await assignedWhilePaused(30, 0.3);
    await sleep(6000); // three accept timeouts
    let d = await detail(c, id);
    assert.deepEqual(
      d.attempts.map((a) => [a.agentId, a.status]),
      [["a1", "assigned"]],
      "still the paused agent's, and nowhere else",
    );
    assert.ok(!fs.existsSync(path.join(runs, "started")), "nothing ran while the agent was paused");

    paused.child.kill("SIGCONT");
    await waitFor("the beam processed", async () => (await detail(c, id)).job?.status === "processed" || undefined, 20_000);
    d = await detail(c, id);
    assert.deepEqual(
      d.attempts.map((a) => [a.agentId, a.status]),
      [["a1", "processed"]],
    );
    assert.equal(fs.readFileSync(path.join(runs, "started"), "utf8").trim().split("\n").length, 1, "it ran once");
  });

  it("an agent that wakes from a pause past the lease refuses the Assign it reads late: the beam runs only where it went meanwhile", async () => {
    const { paused, runs, id } = await assignedWhilePaused(6, 2);
    // Its lease runs out: the beam goes to a2, while a1's Assign still waits unread.
    await waitFor("the beam running on the other agent", async () => fs.existsSync(path.join(runs, "started")) || undefined, 30_000);
    paused.child.kill("SIGCONT");
    await waitFor("the beam processed", async () => (await detail(c, id)).job?.status === "processed" || undefined, 20_000);
    await sleep(1000);
    const d = await detail(c, id);
    assert.deepEqual(
      d.attempts.map((a) => [a.agentId, a.status]),
      [
        ["a1", "withdrawn"],
        ["a2", "processed"],
      ],
    );
    const started = fs.readFileSync(path.join(runs, "started"), "utf8").trim().split("\n");
    assert.deepEqual(started, [String(d.attempts[1]!.id)], "only a2's attempt ever started");
    assert.ok(
      paused.stderr.some((l) => l.includes("refusing an assignment") && l.includes("may have gone to another agent")),
      "a1 said why it refused",
    );
  });
});
