// The lifecycle service alone, over a real tracker file: each move is the tracker's
// transaction followed by its consequences, recorded here in the order they happen.
import assert from "node:assert/strict";
import { isNewsOfTheBeam, JobLifecycle } from "../../../coordinator/lifecycle/job-lifecycle";
import type { Tracker } from "../../../coordinator/tracker/tracker";
import { IllegalTransition } from "../../../coordinator/tracker/transitions";
import { scratchTracker } from "../fixtures";

const R = { cores: 1, memory: 0, shm: 0 };

describe("job lifecycle", () => {
  let scratch: ReturnType<typeof scratchTracker>;
  let tracker: Tracker;
  let log: string[];
  let lifecycle: JobLifecycle;

  beforeEach(() => {
    scratch = scratchTracker();
    tracker = scratch.tracker;
    tracker.ensureAgent("a1", "t");
    log = [];
    lifecycle = new JobLifecycle({
      tracker,
      release: (attempt, agent) => log.push(`release ${attempt} ${agent}`),
      announce: (o, cause) => log.push(`jobChanged ${o.job} ${o.status} (${cause})`),
      afterFailure: (agent) => log.push(`streak ${agent}`),
      cancelOnAgent: (agent, attempt) => log.push(`cancel ${attempt} on ${agent}`),
      schedule: () => log.push("schedule"),
      maxAttempts: 2,
    });
  });
  afterEach(() => scratch.dispose());

  const running = () => {
    const job = tracker.createJob({ beam: "b", jobType: "commands", spec: {}, reservation: R });
    const attempt = tracker.assign(job, "a1", R, Date.now() / 1000 + 30);
    tracker.accept(attempt, "a1", Date.now() / 1000 + 30);
    return { job, attempt };
  };

  it("ends an attempt in one call: the move, its reservation released, the event, the streak, the dispatcher", () => {
    const { job, attempt } = running();
    assert.deepEqual(lifecycle.fail(attempt, "a1", "search_failed", "boom"), { job, status: "retrying", jobType: "commands", attempt });
    assert.deepEqual(log, [`release ${attempt} a1`, `jobChanged ${job} retrying (attempt)`, "streak a1", "schedule"]);
  });

  it("does nothing when the move is refused: no event, nothing released", () => {
    const { attempt } = running();
    lifecycle.succeed(attempt, "a1");
    log.length = 0;
    assert.throws(() => lifecycle.succeed(attempt, "a1"), IllegalTransition);
    assert.deepEqual(log, []);
  });

  it("stops a running job: the agent is told, listeners hear it, the reservation waits for the agent", () => {
    const { job, attempt } = running();
    lifecycle.stop(job, false);
    assert.deepEqual(log, [`cancel ${attempt} on a1`, `jobChanged ${job} retrying (stop)`, "schedule"]);
  });

  it("kills, retries and fails a precheck through the same path, naming the cause", () => {
    const killed = tracker.createJob({ beam: "k", jobType: "commands", spec: {}, reservation: R });
    const unsearchable = tracker.createJob({ beam: "p", jobType: "commands", spec: {}, reservation: R });
    lifecycle.kill(killed);
    lifecycle.retry(killed);
    lifecycle.failPrecheck(unsearchable, "no zaplist");
    assert.deepEqual(log, [
      `jobChanged ${killed} terminal_failure (kill)`,
      "schedule",
      `jobChanged ${killed} retrying (retry)`,
      "schedule",
      `jobChanged ${unsearchable} terminal_failure (precheck)`,
      "schedule",
    ]);
    // An operator's kill or retry is no news of the beam: no notice, no verdict, raw data kept.
    assert.deepEqual(
      ["attempt", "stop", "kill", "retry", "precheck", "upload"].filter((c) => isNewsOfTheBeam(c as never)),
      ["attempt", "stop", "precheck", "upload"],
    );
  });
});
