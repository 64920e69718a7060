// The dispatcher alone, over a real tracker file and fake agent links: which agent a
// waiting job goes to, which agents it skips, and what a failed precheck does.
import assert from "node:assert/strict";
import { Dispatcher } from "../../../coordinator/dispatcher/dispatcher";
import { PrecheckFailed } from "../../../coordinator/search/search-spec";
import { AgentRegistry } from "../../../coordinator/sessions/registry";
import type { Tracker } from "../../../coordinator/tracker/tracker";
import { CANARY_JOB_TYPE, jobTypeToWire, SEARCH_JOB_TYPE } from "../../../shared/protocol/job-types";
import { waitReason, waitReasons } from "../../../coordinator/dispatcher/wait-reason";
import { silentLogger } from "../../../shared/logging/logger";
import { FakeLink, resources, scratchTracker } from "../fixtures";

const ONE_CORE = { cores: 1, memory: 0, shm: 0 };
const commands = { commands: [{ name: "echo", argv: ["echo", "hi"] }] };

describe("dispatcher", () => {
  let scratch: ReturnType<typeof scratchTracker>;
  let tracker: Tracker;
  let registry: AgentRegistry;
  let deadlines: number[];
  let prechecks: { jobId: number; details: string }[];
  let searchSpec: (jobId: number) => never;

  const dispatcher = () =>
    new Dispatcher({
      tracker,
      registry,
      settings: { acceptTimeoutS: 30, leaseS: 600, batch: 16 },
      log: silentLogger(),
      searchSpec: (jobId) => searchSpec(jobId),
      onDeadline: (t) => deadlines.push(t),
      failPrecheck: (jobId, details) => {
        prechecks.push({ jobId, details });
        tracker.failPrecheck(jobId, details);
      },
    });

  /** A connected agent with `cores` free cores. */
  const connect = (id: string, cores: number, opts: { drained?: boolean; unfitFor?: string } = {}) => {
    tracker.ensureAgent(id, `token-${id}`);
    const agent = registry.get(id);
    const link = new FakeLink();
    agent.link = link;
    agent.drained = opts.drained ?? false;
    agent.heartbeat(resources(cores), Date.now() / 1000);
    if (opts.unfitFor)
      agent.capabilities = { jobTypes: [{ jobType: jobTypeToWire(opts.unfitFor), fit: false, reason: "no PRESTO here" }], checkedAt: 0, toolchain: "" };
    return link;
  };

  beforeEach(() => {
    scratch = scratchTracker();
    tracker = scratch.tracker;
    registry = new AgentRegistry();
    deadlines = [];
    prechecks = [];
    searchSpec = () => {
      throw new PrecheckFailed("no zaplist for this beam");
    };
  });
  afterEach(() => scratch.dispose());

  it("assigns a waiting job to the fitting agent with the most free cores, storing the attempt and its deadline first", () => {
    const small = connect("small", 1);
    const big = connect("big", 4);
    const job = tracker.createJob({ beam: "b1", jobType: "commands", spec: commands, reservation: { cores: 2, memory: 0, shm: 0 } });
    dispatcher().pass();
    assert.equal(small.sent.length, 0);
    const [assign] = big.of("assign");
    assert.ok(assign, "the big agent got an Assign");
    assert.equal(assign.jobId, job);
    const attempt = tracker.attempt(assign.attemptId)!;
    assert.equal(attempt.agent_id, "big");
    assert.equal(attempt.status, "assigned");
    assert.equal(tracker.job(job)!.status, "submitted");
    assert.deepEqual(deadlines, [attempt.lease_expires_at]);
    assert.equal(registry.get("big").free().cores, 2, "its cores are reserved");
  });

  it("gives an assignment the accept timeout, or lease_s when its agent holds its accepts back", () => {
    connect("prompt", 1);
    connect("holding", 1);
    registry.get("holding").holdsAccepts = true;
    for (const beam of ["b1", "b2"]) tracker.createJob({ beam, jobType: "commands", spec: commands, reservation: ONE_CORE });
    const before = Date.now() / 1000;
    dispatcher().pass();
    const deadlineOn = (agent: string) => {
      const [a] = tracker.liveAttempts().filter((x) => x.agent_id === agent);
      assert.ok(a, `an attempt on ${agent}`);
      return a.lease_expires_at - before;
    };
    assert.ok(Math.abs(deadlineOn("prompt") - 30) < 5, `accept timeout: ${deadlineOn("prompt")}`);
    assert.ok(Math.abs(deadlineOn("holding") - 600) < 5, `lease: ${deadlineOn("holding")}`);
  });

  it("sends nothing and reserves nothing when the pass's writes are refused (a full disk), and assigns them all on the next pass", () => {
    const link = connect("a1", 4);
    const jobs = [1, 2, 3].map((i) => tracker.createJob({ beam: `b${i}`, jobType: "commands", spec: commands, reservation: ONE_CORE }));
    const filesOfJob = tracker.filesOfJob.bind(tracker);
    let reads = 0;
    // The third assignment's write fails, after two attempts were written in the same pass.
    tracker.filesOfJob = (jobId) => {
      if (++reads === 3) throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
      return filesOfJob(jobId);
    };
    assert.throws(() => dispatcher().pass(), /disk is full/);
    assert.deepEqual(link.sent, [], "no agent hears of an attempt the tracker does not have");
    assert.equal(registry.get("a1").free().cores, 4, "nothing stays reserved");
    assert.deepEqual(deadlines, []);
    for (const id of jobs) assert.equal(tracker.job(id)!.status, "new");
    assert.deepEqual(tracker.attemptsOfJob(jobs[0]!), [], "the attempts written before the failure are undone with it");

    tracker.filesOfJob = filesOfJob;
    dispatcher().pass();
    assert.deepEqual(
      link.of("assign").map((a) => a.jobId),
      jobs,
    );
    assert.equal(registry.get("a1").free().cores, 1);
  });

  it("never lets jobs that fit no agent starve the ones behind them, and says why they wait", () => {
    const link = connect("tiny", 1);
    const huge = Array.from({ length: 40 }, (_, i) =>
      tracker.createJob({ beam: `huge${i}`, jobType: "commands", spec: commands, reservation: { cores: 1000, memory: 0, shm: 0 } }),
    );
    const searches = Array.from({ length: 40 }, (_, i) =>
      tracker.createJob({ beam: `s${i}`, jobType: SEARCH_JOB_TYPE, spec: { params: {} }, reservation: ONE_CORE }),
    );
    registry.get("tiny").capabilities = {
      jobTypes: [{ jobType: jobTypeToWire(SEARCH_JOB_TYPE), fit: false, reason: "accelsearch not found" }],
      checkedAt: 0,
      toolchain: "",
    };
    const small = tracker.createJob({ beam: "small", jobType: "commands", spec: commands, reservation: ONE_CORE });
    dispatcher().pass();
    assert.deepEqual(
      link.sent.map((m) => (m.body?.$case === "assign" ? m.body.value.jobId : 0)),
      [small],
      "the one job that fits runs, whatever waits before it",
    );
    const agents = registry.all();
    assert.equal(waitReason(tracker.job(huge[0]!)!, agents), "needs 1000 cores; the largest agent able to run it has 1");
    assert.equal(waitReason(tracker.job(searches[0]!)!, agents), "no agent can run palfa-search jobs now (tiny: accelsearch not found)");
    assert.equal(waitReason(tracker.job(small)!, agents), "", "it runs");
    registry.get("tiny").drained = true;
    assert.equal(waitReason(tracker.job(huge[1]!)!, agents), "all 1 connected agent is drained");
    registry.get("tiny").link = null;
    assert.equal(waitReason(tracker.job(huge[1]!)!, agents), "no agent is connected");
  });

  it("says why each job of a mixed page waits, the agents summed up once per kind of job", () => {
    connect("big", 16, { unfitFor: SEARCH_JOB_TYPE });
    connect("small", 2);
    connect("off", 64, { drained: true });
    const job = (beam: string, jobType: string, cores: number, spec: object = commands) =>
      tracker.createJob({ beam, jobType, spec, reservation: { cores, memory: 0, shm: 0 } });
    const page = [
      job("c-huge", "commands", 32),
      job("s-huge", SEARCH_JOB_TYPE, 8, { params: {} }),
      job("c-fits", "commands", 16),
      job("s-fits", SEARCH_JOB_TYPE, 2, { params: {} }),
      job("canary-off", CANARY_JOB_TYPE, 48, { agent: "off", params: {} }),
      job("canary-gone", CANARY_JOB_TYPE, 1, { agent: "gone", params: {} }),
    ].map((id) => tracker.job(id)!);
    const reasons = waitReasons(registry.all());
    assert.deepEqual(
      page.map((j) => reasons(j)),
      [
        "needs 32 cores; the largest agent able to run it has 16",
        "needs 8 cores; the largest agent able to run it has 2",
        "waiting for room: every agent able to run it is busy",
        "waiting for room: every agent able to run it is busy",
        "waiting for room: every agent able to run it is busy",
        "its agent gone is not connected",
      ],
      "a drained agent counts for a canary pinned to it, not for the others",
    );
    assert.deepEqual(
      page.map((j) => reasons(j)),
      page.map((j) => waitReason(j, registry.all())),
      "the same answers one job at a time",
    );
  });

  it("skips a drained agent and one that says it cannot run the job's type", () => {
    const drained = connect("drained", 8, { drained: true });
    const unfit = connect("unfit", 8, { unfitFor: SEARCH_JOB_TYPE });
    const job = tracker.createJob({ beam: "b1", jobType: SEARCH_JOB_TYPE, spec: { params: {} }, reservation: ONE_CORE });
    searchSpec = () => assert.fail("no agent fits, so the spec is never asked for");
    dispatcher().pass();
    assert.equal(drained.sent.length + unfit.sent.length, 0);
    assert.equal(tracker.job(job)!.status, "new");
  });

  it("gives a canary job only to the agent it was made for, even a drained one", () => {
    const other = connect("other", 8);
    const pinned = connect("pinned", 1, { drained: true });
    const job = tracker.createJob({ beam: "canary", jobType: CANARY_JOB_TYPE, spec: { agent: "pinned", params: {} }, reservation: ONE_CORE });
    searchSpec = () => ({}) as never;
    dispatcher().pass();
    assert.equal(other.sent.length, 0);
    assert.deepEqual(
      pinned.of("assign").map((a) => a.jobId),
      [job],
    );
  });

  it("fails a job whose precheck fails through the failPrecheck it was given, and assigns nothing", () => {
    const link = connect("a1", 4);
    const job = tracker.createJob({ beam: "b1", jobType: SEARCH_JOB_TYPE, spec: { params: {} }, reservation: ONE_CORE });
    dispatcher().pass();
    assert.deepEqual(prechecks, [{ jobId: job, details: "no zaplist for this beam" }]);
    assert.equal(tracker.job(job)!.status, "terminal_failure");
    assert.equal(link.sent.length, 0);
    assert.equal(registry.get("a1").free().cores, 4);
  });
});
