// Beams' expected durations and the dispatcher's walltime fit: an agent that says when it
// must be done (a batch pilot, agent.end_time) gets only beams expected to finish before
// then, learned from finished attempts of the same type and a similar raw size.
import assert from "node:assert/strict";
import path from "node:path";
import { Dispatcher } from "../../../coordinator/dispatcher/dispatcher";
import { DurationEstimates, ESTIMATE, percentile, similarSize, WalltimeFit } from "../../../coordinator/dispatcher/expected-duration";
import { waitReason } from "../../../coordinator/dispatcher/wait-reason";
import { AgentRegistry } from "../../../coordinator/sessions/registry";
import { DurationRecords } from "../../../coordinator/tracker/durations";
import { openTracker } from "../../../coordinator/tracker/open";
import type { Tracker } from "../../../coordinator/tracker/tracker";
import { silentLogger } from "../../../shared/logging/logger";
import { FakeLink, resources, scratchTracker } from "../fixtures";

const MB = 2 ** 20;
const commands = { commands: [{ name: "echo", argv: ["echo", "hi"] }] };

describe("expected beam durations", () => {
  it("percentile: nearest rank, whatever the order", () => {
    assert.equal(percentile([], 0.9), undefined);
    assert.equal(percentile([7], 0.9), 7);
    assert.equal(percentile([5, 1, 4, 2, 3, 10, 9, 8, 7, 6], 0.9), 9);
    assert.equal(percentile([5, 1, 4, 2, 3, 10, 9, 8, 7, 6], 1), 10);
    assert.equal(percentile([3, 1, 2], 0.5), 2);
  });

  it("similar sizes: within a factor of 1.5; nothing is like an empty job but another", () => {
    assert.ok(similarSize(100 * MB, 149 * MB));
    assert.ok(similarSize(150 * MB, 100 * MB));
    assert.ok(!similarSize(100 * MB, 151 * MB));
    assert.ok(similarSize(0, 0));
    assert.ok(!similarSize(0, 1));
  });

  it("learns from finished attempts of the same type and a similar size: a high percentile of the newest ones", () => {
    const e = new DurationEstimates();
    assert.equal(e.learned("palfa-search", 400 * MB), undefined, "nothing known yet");
    // 20 beams of ~400 MB: 100..119 s, plus one slow one; small beams and another type are apart.
    for (let i = 0; i < 20; i++) e.add({ jobType: "palfa-search", rawBytes: (390 + i) * MB, seconds: 100 + i });
    e.add({ jobType: "palfa-search", rawBytes: 410 * MB, seconds: 400 });
    for (let i = 0; i < 30; i++) e.add({ jobType: "palfa-search", rawBytes: 40 * MB, seconds: 10 });
    for (let i = 0; i < 30; i++) e.add({ jobType: "commands", rawBytes: 400 * MB, seconds: 5000 });
    const big = e.learned("palfa-search", 400 * MB)!;
    assert.equal(big.samples, 21);
    // The 90th percentile of 21 (rank 19): 118 s; one slow beam in 21 does not set it, two would.
    assert.equal(big.seconds, 118);
    assert.deepEqual(e.learned("palfa-search", 40 * MB), { seconds: 10, samples: 30 });
    assert.equal(e.learned("palfa-search", 4000 * MB), undefined, "ten times larger: not similar");
    assert.deepEqual(e.learned("commands", 400 * MB), { seconds: 5000, samples: 30 });
  });

  it("forgets old attempts: only the newest window counts (a faster toolchain is learned)", () => {
    const e = new DurationEstimates();
    for (let i = 0; i < 100; i++) e.add({ jobType: "palfa-search", rawBytes: MB, seconds: 1000 });
    for (let i = 0; i < ESTIMATE.window; i++) e.add({ jobType: "palfa-search", rawBytes: MB, seconds: 200 });
    assert.deepEqual(e.learned("palfa-search", MB), { seconds: 200, samples: ESTIMATE.window });
    e.add({ jobType: "palfa-search", rawBytes: MB, seconds: 1000 });
    assert.equal(e.learned("palfa-search", MB)!.seconds, 200, "a single slow one among 50 is above the 90th percentile");
  });

  describe("from the tracker", () => {
    let scratch: ReturnType<typeof scratchTracker>;
    let tracker: Tracker;
    let records: DurationRecords;
    let db: ReturnType<typeof openTracker>;
    beforeEach(() => {
      scratch = scratchTracker();
      tracker = scratch.tracker;
      db = openTracker(path.join(scratch.dir, "tracker.db"));
      records = new DurationRecords(db);
      tracker.ensureAgent("n1", "t");
    });
    afterEach(() => {
      db.close();
      scratch.dispose();
    });

    /** A job of raw files of these sizes, run on n1 for `seconds` and ended as `end`. */
    const ran = (sizes: number[], seconds: number, end: "succeed" | "fail") => {
      const fileIds = sizes.map((size, i) => {
        const filename = `/data/beam-${Math.random().toString(36).slice(2)}-${i}.fits`;
        tracker.files.add({ filename, size, sha256: "", details: "" });
        return (db.prepare("SELECT id FROM files WHERE filename = ?").get(filename) as { id: number }).id;
      });
      const job = tracker.createJob({ beam: `b${fileIds[0] ?? 0}`, jobType: "palfa-search", spec: {}, reservation: { cores: 1, memory: 0, shm: 0 }, fileIds });
      const attempt = tracker.assign(job, "n1", { cores: 1, memory: 0, shm: 0 }, Date.now() / 1000 + 30);
      tracker.accept(attempt, "n1", Date.now() / 1000 + 600);
      if (end === "succeed") tracker.succeed(attempt, "n1");
      else tracker.fail(attempt, "n1", "exit_code", "failed", 2);
      db.prepare("UPDATE job_submits SET started_at = finished_at - ? WHERE id = ?").run(seconds, attempt);
      return { job, attempt };
    };

    it("reads processed attempts' durations with their job's type and raw size, oldest first; failed ones are no measure", () => {
      const a = ran([100 * MB, 100 * MB], 300, "succeed");
      ran([100 * MB], 5, "fail");
      const b = ran([50 * MB], 120, "succeed");
      const recent = records.recent(10);
      assert.deepEqual(
        recent.map((s) => [s.jobType, s.rawBytes, Math.round(s.seconds)]),
        [
          ["palfa-search", 200 * MB, 300],
          ["palfa-search", 50 * MB, 120],
        ],
      );
      assert.equal(records.recent(1)[0]!.rawBytes, 50 * MB, "the newest");
      assert.equal(Math.round(records.ofAttempt(a.attempt)!.seconds), 300);
      assert.equal(records.rawBytesOfJob(b.job), 50 * MB);
      assert.equal(records.rawBytesOfJob(tracker.createJob({ beam: "x", jobType: "commands", spec: {}, reservation: { cores: 1, memory: 0, shm: 0 } })), 0);
    });
  });
});

describe("dispatcher: walltime fit", () => {
  let scratch: ReturnType<typeof scratchTracker>;
  let tracker: Tracker;
  let registry: AgentRegistry;
  let estimates: DurationEstimates;

  /** raw bytes by job id (0 when not set) */
  let sizes: Map<number, number>;
  const walltimeFit = (settings = { marginS: 60, unknownS: 0 }) => new WalltimeFit(estimates, (id) => sizes.get(id) ?? 0, settings);
  const dispatcher = (walltime: WalltimeFit) =>
    new Dispatcher({
      tracker,
      registry,
      settings: { acceptTimeoutS: 30, leaseS: 600, batch: 16 },
      log: silentLogger(),
      onDeadline: () => undefined,
      failPrecheck: () => undefined,
      walltime,
    });
  /** A connected agent with `cores` free cores, done in `leftS` seconds (undefined: no end). */
  const connect = (id: string, cores: number, leftS?: number) => {
    tracker.ensureAgent(id, `token-${id}`);
    const agent = registry.get(id);
    const link = new FakeLink();
    agent.link = link;
    agent.heartbeat(resources(cores), Date.now() / 1000);
    agent.endTime = leftS === undefined ? 0 : Date.now() / 1000 + leftS;
    return link;
  };
  const job = (jobType = "commands") => tracker.createJob({ beam: "b", jobType, spec: commands, reservation: { cores: 1, memory: 0, shm: 0 } });

  beforeEach(() => {
    scratch = scratchTracker();
    tracker = scratch.tracker;
    registry = new AgentRegistry();
    estimates = new DurationEstimates();
    sizes = new Map();
  });
  afterEach(() => scratch.dispose());

  it("gives an agent with an end only beams expected to finish before it, minus the margin", () => {
    for (let i = 0; i < 5; i++) estimates.add({ jobType: "commands", rawBytes: 0, seconds: 600 });
    const pilot = connect("pilot", 4, 600);
    const id = job();
    dispatcher(walltimeFit()).pass();
    assert.equal(pilot.of("assign").length, 0, "600 s expected, 540 s left after the margin");
    const j = tracker.job(id)!;
    assert.match(
      waitReason(j, registry.all(), undefined, walltimeFit()),
      /^walltime: expected to take 600 s \(learned from 5 finished beams of its type and size\); the agent able to run it has at most 5[34]\d s left/,
    );

    const longer = connect("longer", 1, 700);
    dispatcher(walltimeFit()).pass();
    assert.equal(longer.of("assign").length, 1, "640 s left: it fits");
    assert.equal(longer.of("assign")[0]!.jobId, id);
  });

  it("gives agents without an end anything, and says nothing of walltime while one of them could run it", () => {
    for (let i = 0; i < 5; i++) estimates.add({ jobType: "commands", rawBytes: 0, seconds: 36_000 });
    connect("pilot", 4, 600);
    const service = connect("service", 1);
    const busy = job();
    const waiting = job();
    dispatcher(walltimeFit()).pass();
    assert.deepEqual(
      service.of("assign").map((a) => a.jobId),
      [busy],
    );
    assert.equal(waitReason(tracker.job(waiting)!, registry.all(), undefined, walltimeFit()), "waiting for room: every agent able to run it is busy");
  });

  it("a job of a kind never finished: assumed to fit, or to take dispatch.unknown_duration_s when that is set", () => {
    const pilot = connect("pilot", 4, 600);
    job();
    dispatcher(walltimeFit({ marginS: 60, unknownS: 3600 })).pass();
    assert.equal(pilot.of("assign").length, 0);
    assert.match(
      waitReason(tracker.job(1)!, registry.all(), undefined, walltimeFit({ marginS: 60, unknownS: 3600 })),
      /^walltime: expected to take 3600 s \(dispatch\.unknown_duration_s\)/,
    );
    dispatcher(walltimeFit({ marginS: 60, unknownS: 0 })).pass();
    assert.equal(pilot.of("assign").length, 1, "unknown and no default: assumed to fit");
  });

  it("nothing at all once an agent's end minus the margin has come", () => {
    const pilot = connect("pilot", 4, 30);
    const id = job();
    dispatcher(walltimeFit()).pass();
    assert.equal(pilot.of("assign").length, 0);
    assert.match(waitReason(tracker.job(id)!, registry.all(), undefined, walltimeFit()), /^walltime: the agent able to run it has no time left/);
  });

  it("short beams still reach a pilot past a queue head of long ones it cannot fit", () => {
    for (let i = 0; i < 5; i++) estimates.add({ jobType: "commands", rawBytes: 0, seconds: 36_000 });
    for (let i = 0; i < 5; i++) estimates.add({ jobType: "commands", rawBytes: MB, seconds: 10 });
    const pilot = connect("pilot", 1, 600);
    for (let i = 0; i < 6; i++) job();
    const short = job();
    sizes.set(short, MB);
    dispatcher(walltimeFit()).pass();
    assert.deepEqual(
      pilot.of("assign").map((a) => a.jobId),
      [short],
    );
  });
});
