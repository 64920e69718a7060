// One agent's stream, driven directly: a fake stream in place of gRPC's, a real
// tracker file under a real CoordinatorCore, and the lifecycle service watched so
// each attempt's end is seen going through it.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CoordinatorCore, settingsFrom } from "../../../coordinator/core";
import { AgentSession } from "../../../coordinator/sessions/agent-session";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import type { JobOutcome } from "../../../coordinator/tracker/rows";
import { defaultConfig } from "../../../shared/config/load";
import { AttemptOutcome, type AgentMessage, type CoordinatorMessage } from "../../../shared/gen/agent";
import { silentLogger } from "../../../shared/logging/logger";
import { resources } from "../fixtures";
import { ErrorClass, StepState } from "../../../shared/gen/agent";
import { SEARCH_JOB_TYPE } from "../../../shared/protocol/job-types";

/** What AgentSession uses of a gRPC duplex stream: messages in as "data", writes recorded. */
class FakeStream extends EventEmitter {
  readonly written: CoordinatorMessage[] = [];
  ended = false;
  write(msg: CoordinatorMessage): boolean {
    this.written.push(msg);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  destroy(err?: Error): void {
    this.emit("error", err ?? new Error("destroyed"));
  }
  receive(body: AgentMessage["body"]): void {
    this.emit("data", { body });
  }
  of<K extends NonNullable<CoordinatorMessage["body"]>["$case"]>(kind: K): unknown[] {
    return this.written.flatMap((m) => (m.body?.$case === kind ? [m.body.value] : []));
  }
}

const commands = { commands: [{ name: "echo", argv: ["echo", "hi"] }] };

describe("agent session", () => {
  let dir: string;
  let core: CoordinatorCore;
  let changes: JobOutcome[];
  /** the lifecycle's attempt ends that went through (a refused one throws before it counts) */
  let ends: string[];

  /** A session for `agentId` that has said Hello (holding `held`). */
  const connect = (agentId: string, held: number[] = [], finished = false) => {
    core.tracker.ensureAgent(agentId, `token-${agentId}`);
    const stream = new FakeStream();
    new AgentSession(core.sessionDeps, stream as never, agentId);
    stream.receive({
      $case: "hello",
      value: {
        agentId,
        hostname: `${agentId}.local`,
        version: "test",
        labels: {},
        resources: resources(4),
        held: held.map((attemptId) => ({ attemptId, finished })),
      } as never,
    });
    return stream;
  };

  /** A commands job with an attempt on `agentId`, accepted (running) unless told otherwise. */
  const attemptOn = (agentId: string, accept = true) => {
    core.tracker.ensureAgent(agentId, `token-${agentId}`);
    const job = core.tracker.createJob({ beam: "b", jobType: "commands", spec: commands, reservation: { cores: 1, memory: 0, shm: 0 } });
    const attempt = core.tracker.assign(job, agentId, { cores: 1, memory: 0, shm: 0 }, Date.now() / 1000 + 30);
    core.registry.get(agentId).reserve(attempt, { cores: 1, memory: 0, shm: 0 });
    if (accept) core.tracker.accept(attempt, agentId, Date.now() / 1000 + 5);
    return { job, attempt };
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-session-"));
    const file = path.join(dir, "tracker.db");
    createTracker(file);
    const config = defaultConfig(dir);
    core = new CoordinatorCore(openTracker(file), config, settingsFrom(config), silentLogger());
    changes = [];
    core.on("jobChanged", (o) => changes.push(o));
    ends = [];
    for (const name of ["succeed", "fail", "lose", "withdraw"] as const) {
      const original = core.lifecycle[name].bind(core.lifecycle) as (...args: never[]) => JobOutcome;
      (core.lifecycle as unknown as Record<string, unknown>)[name] = (...args: never[]) => {
        const outcome = original(...args); // throws IllegalTransition when the attempt had ended already
        ends.push(name);
        return outcome;
      };
    }
  });
  afterEach(() => {
    core.stop();
    core.tracker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses a result for an attempt it does not hold: acknowledged, nothing moves", () => {
    const { job, attempt } = attemptOn("other");
    const stream = connect("a1");
    stream.receive({
      $case: "attemptResult",
      value: {
        attemptId: attempt,
        outcome: AttemptOutcome.OUTCOME_SUCCEEDED,
        errorClass: ErrorClass.ERROR_CLASS_UNSPECIFIED,
        errorMessage: "",
        steps: [],
        resultsDir: "",
        logSeq: 0,
      },
    });
    assert.deepEqual(stream.of("resultAck"), [{ attemptId: attempt }]);
    assert.equal(core.tracker.attempt(attempt)!.status, "running");
    assert.equal(core.tracker.job(job)!.status, "submitted");
    assert.deepEqual(ends, []);
    assert.deepEqual(changes, []);
  });

  it("renews the leases of the attempts a heartbeat says it holds, and cancels one it no longer owns", () => {
    const mine = attemptOn("a1");
    const stream = connect("a1", [mine.attempt]);
    // The Hello renewed it already, possibly within the same millisecond: make it shorter.
    core.tracker.renewLeases("a1", [mine.attempt], Date.now() / 1000 + 1);
    const before = core.tracker.attempt(mine.attempt)!.lease_expires_at;
    const gone = attemptOn("a1");
    core.tracker.lose(gone.attempt, "for the test");
    stream.receive({
      $case: "heartbeat",
      value: {
        resources: resources(4),
        held: [
          { attemptId: mine.attempt, finished: false },
          { attemptId: gone.attempt, finished: false },
        ],
      } as never,
    });
    assert.ok(core.tracker.attempt(mine.attempt)!.lease_expires_at > before, "the lease moved later");
    assert.deepEqual(
      stream.of("cancel").map((c) => (c as { attemptId: number }).attemptId),
      [gone.attempt],
    );
  });

  it("keeps the lease of a finished attempt whose result is still on its way, and acknowledges each heartbeat by its number", () => {
    const { attempt } = attemptOn("a1");
    const stream = connect("a1", [attempt]);
    core.tracker.renewLeases("a1", [attempt], Date.now() / 1000 + 1);
    stream.receive({
      $case: "heartbeat",
      value: { resources: resources(4), held: [{ attemptId: attempt, finished: true }], seq: 7 } as never,
    });
    assert.ok(core.tracker.attempt(attempt)!.lease_expires_at > Date.now() / 1000 + core.settings.leaseS - 5, "renewed by a full lease");
    assert.deepEqual(stream.of("heartbeatAck"), [{ seq: 7 }]);
    assert.deepEqual(stream.of("cancel"), [], "a finished attempt is settled by its result, not cancelled");
    assert.equal(stream.of("welcome").length, 1);
    assert.equal((stream.of("welcome")[0] as { leaseS: number }).leaseS, core.settings.leaseS, "the agent is told the lease it fences by");
  });

  it("stores no log output for another agent's attempt, or for none, and cancels it there", () => {
    const theirs = attemptOn("other");
    const stream = connect("a1");
    stream.receive({ $case: "logChunk", value: { attemptId: theirs.attempt, seq: 1, step: "s", data: Buffer.from("forged\n") } });
    stream.receive({ $case: "logChunk", value: { attemptId: 999_999, seq: 1, step: "s", data: Buffer.from("nobody's\n") } });
    const logs = path.join(dir, "logs");
    const stored = fs.existsSync(logs) ? fs.readdirSync(logs, { recursive: true }).map(String) : [];
    assert.deepEqual(
      stored.filter((f) => f.includes(String(theirs.attempt)) || f.includes("999999")),
      [],
      "no log file written for them",
    );
    assert.deepEqual(
      stream.of("cancel").map((c) => (c as { attemptId: number }).attemptId),
      [theirs.attempt, 999_999],
    );
    assert.deepEqual(
      stream.of("logAck").map((a) => (a as { attemptId: number }).attemptId),
      [theirs.attempt, 999_999],
      "acknowledged, so the sender stops sending them",
    );
    // Its own attempt's output is stored as ever.
    const mine = attemptOn("a1");
    stream.receive({ $case: "logChunk", value: { attemptId: mine.attempt, seq: 1, step: "s", data: Buffer.from("mine\n") } });
    assert.match(core.logs.read(mine.attempt).toString(), /mine/);
  });

  it("ends an attempt through the lifecycle service exactly once, however often the result comes", () => {
    const { job, attempt } = attemptOn("a1");
    const stream = connect("a1", [attempt]);
    const result = {
      attemptId: attempt,
      outcome: AttemptOutcome.OUTCOME_SUCCEEDED,
      errorClass: ErrorClass.ERROR_CLASS_UNSPECIFIED,
      errorMessage: "",
      steps: [],
      resultsDir: "",
      logSeq: 0,
    };
    stream.receive({ $case: "attemptResult", value: result });
    stream.receive({ $case: "attemptResult", value: result }); // re-sent after a reconnect, say
    assert.deepEqual(ends, ["succeed"]);
    assert.deepEqual(changes, [{ job, status: "processed", jobType: "commands", attempt }]);
    assert.equal(core.tracker.attempt(attempt)!.status, "processed");
    assert.equal(core.registry.get("a1").reserved.size, 0, "its reservation is released");
    assert.equal(stream.of("resultAck").length, 2, "both are acknowledged so the agent forgets them");
  });

  it("records step reports of its own attempts only, and a result's steps with the attempt's end, even when the result is refused", () => {
    const mine = attemptOn("a1");
    const theirs = attemptOn("other");
    const stream = connect("a1", [mine.attempt]);
    const step = (index: number, exitCode?: number) => ({
      index,
      name: `s${index}`,
      argv: ["prog"],
      startedAt: 1000 + index,
      wallS: exitCode === undefined ? 0 : 1,
      cpuS: 0,
      signal: "",
      error: "",
      ...(exitCode !== undefined && { exitCode }),
    });
    stream.receive({ $case: "stepUpdate", value: { attemptId: mine.attempt, state: StepState.STEP_STARTED, step: step(0) } });
    stream.receive({ $case: "stepUpdate", value: { attemptId: theirs.attempt, state: StepState.STEP_STARTED, step: step(0) } });
    assert.deepEqual(
      stream.of("cancel").map((c) => (c as { attemptId: number }).attemptId),
      [theirs.attempt],
      "another agent's attempt is cancelled here",
    );
    core.steps.flush();
    assert.deepEqual(
      core.tracker.stepsOf(mine.attempt).map((s) => s.exit_code),
      [null],
      "its own step shows running",
    );
    assert.deepEqual(core.tracker.stepsOf(theirs.attempt), []);

    const result = (attemptId: number) => ({
      attemptId,
      outcome: AttemptOutcome.OUTCOME_SUCCEEDED,
      errorClass: ErrorClass.ERROR_CLASS_UNSPECIFIED,
      errorMessage: "",
      steps: [step(0, 0), step(1, 0)],
      resultsDir: "",
      logSeq: 0,
    });
    stream.receive({ $case: "attemptResult", value: result(mine.attempt) });
    assert.deepEqual(
      core.tracker.stepsOf(mine.attempt).map((s) => [s.idx, s.exit_code]),
      [
        [0, 0],
        [1, 0],
      ],
      "written with the attempt's end, not at the next flush",
    );
    // An attempt of this agent that was lost meanwhile: the result is refused, its steps still recorded.
    const lost = attemptOn("a1");
    core.tracker.lose(lost.attempt, "for the test");
    stream.receive({ $case: "attemptResult", value: result(lost.attempt) });
    assert.equal(core.tracker.attempt(lost.attempt)!.status, "lost");
    assert.equal(core.tracker.stepsOf(lost.attempt).length, 2);
  });

  it("fails a search that reports success without its results having arrived (results_missing), counted", () => {
    core.tracker.ensureAgent("a1", "token-a1");
    const job = core.tracker.createJob({ beam: "b", jobType: SEARCH_JOB_TYPE, spec: { params: {} }, reservation: { cores: 1, memory: 0, shm: 0 } });
    const attempt = core.tracker.assign(job, "a1", { cores: 1, memory: 0, shm: 0 }, Date.now() / 1000 + 30);
    core.tracker.accept(attempt, "a1", Date.now() / 1000 + 30);
    const stream = connect("a1", [attempt]);
    stream.receive({
      $case: "attemptResult",
      value: {
        attemptId: attempt,
        outcome: AttemptOutcome.OUTCOME_SUCCEEDED,
        errorClass: ErrorClass.ERROR_CLASS_UNSPECIFIED,
        errorMessage: "",
        steps: [],
        resultsDir: "/scratch/kept-here",
        logSeq: 0,
      },
    });
    const a = core.tracker.attempt(attempt)!;
    assert.equal(a.status, "processing_failed");
    assert.equal(a.error_class, "results_missing");
    assert.match(a.details, /results never arrived .*\/scratch\/kept-here/);
    assert.equal(core.tracker.job(job)!.failures, 1);
  });

  it("stores each log chunk once when the agent sends them again after a reconnect", () => {
    const { attempt } = attemptOn("a1");
    const chunk = (seq: number) => ({ $case: "logChunk" as const, value: { attemptId: attempt, seq, step: "s", data: Buffer.from(`line ${seq}\n`) } });
    const first = connect("a1", [attempt]);
    for (const seq of [1, 2, 3]) first.receive(chunk(seq));
    // The acknowledgement of 2 and 3 was lost with the stream: the new one starts again from 2.
    const second = connect("a1", [attempt]);
    for (const seq of [2, 3, 4]) second.receive(chunk(seq));
    assert.equal(core.logs.read(attempt).toString(), "line 1\nline 2\nline 3\nline 4\n");
    assert.deepEqual(
      second.of("logAck").map((x) => (x as { seq: number }).seq),
      [3, 3, 4],
    );
  });

  it("says in its Welcome that it takes batches of log chunks, and stores a batch as its chunks, one LogAck per attempt in it", () => {
    const mine = attemptOn("a1");
    const also = attemptOn("a1");
    const theirs = attemptOn("other");
    const stream = connect("a1", [mine.attempt, also.attempt]);
    assert.equal((stream.of("welcome")[0] as { logBatches: boolean }).logBatches, true);
    const c = (attemptId: number, seq: number) => ({ attemptId, seq, step: "s", data: Buffer.from(`${attemptId}:${seq}\n`) });
    stream.receive({
      $case: "logChunks",
      value: { chunks: [c(mine.attempt, 1), c(mine.attempt, 2), c(also.attempt, 1), c(theirs.attempt, 1), c(mine.attempt, 3)] },
    });
    // Again after a reconnect, with a gap (5 before 4 arrived): what is stored is said, and that the rest was not.
    stream.receive({ $case: "logChunks", value: { chunks: [c(mine.attempt, 2), c(mine.attempt, 3), c(mine.attempt, 5)] } });
    assert.equal(core.logs.read(mine.attempt).toString(), `${mine.attempt}:1\n${mine.attempt}:2\n${mine.attempt}:3\n`);
    assert.equal(core.logs.read(also.attempt).toString(), `${also.attempt}:1\n`);
    assert.deepEqual(
      stream.of("logAck").map((a) => a as { attemptId: number; seq: number; notStored: boolean }),
      [
        { attemptId: mine.attempt, seq: 2, notStored: false },
        { attemptId: also.attempt, seq: 1, notStored: false },
        { attemptId: theirs.attempt, seq: 1, notStored: false },
        { attemptId: mine.attempt, seq: 3, notStored: false },
        { attemptId: mine.attempt, seq: 3, notStored: true },
      ],
    );
    assert.deepEqual(
      stream.of("cancel").map((x) => (x as { attemptId: number }).attemptId),
      [theirs.attempt],
    );
  });

  it("acknowledges a result only once the attempt's whole log is stored (chunks a full disk refused come again)", () => {
    const { job, attempt } = attemptOn("a1");
    const stream = connect("a1", [attempt]);
    const chunk = (seq: number) => ({ $case: "logChunk" as const, value: { attemptId: attempt, seq, step: "s", data: Buffer.from(`line ${seq}\n`) } });
    stream.receive(chunk(1));
    stream.receive({
      $case: "attemptResult",
      value: { attemptId: attempt, outcome: AttemptOutcome.OUTCOME_SUCCEEDED, errorClass: 0, errorMessage: "", steps: [], resultsDir: "", logSeq: 3 },
    });
    assert.equal(core.tracker.job(job)!.status, "processed", "the result itself is stored at once");
    assert.deepEqual(stream.of("resultAck"), [], "but the agent must keep the attempt: its log is short of seq 3");
    stream.receive(chunk(2));
    assert.deepEqual(stream.of("resultAck"), []);
    stream.receive(chunk(3));
    assert.deepEqual(stream.of("resultAck"), [{ attemptId: attempt }]);
    assert.equal(core.logs.read(attempt).toString(), "line 1\nline 2\nline 3\n");
  });

  it("does not cancel its own finished attempt on a reconnect while the result waits for its log: the re-sent result and chunks settle it", () => {
    const { job, attempt } = attemptOn("a1");
    const result = {
      $case: "attemptResult" as const,
      value: { attemptId: attempt, outcome: AttemptOutcome.OUTCOME_SUCCEEDED, errorClass: 0, errorMessage: "", steps: [], resultsDir: "", logSeq: 2 },
    };
    const chunk = (seq: number) => ({ $case: "logChunk" as const, value: { attemptId: attempt, seq, step: "s", data: Buffer.from(`line ${seq}\n`) } });
    const first = connect("a1", [attempt]);
    first.receive(chunk(1));
    first.receive(result);
    assert.equal(core.tracker.job(job)!.status, "processed");
    assert.deepEqual(first.of("resultAck"), []);
    // The stream drops (the coordinator's disk had room again); the agent comes back holding it, finished.
    const second = connect("a1", [attempt], true);
    assert.deepEqual(second.of("cancel"), [], "a cancel would make the agent drop the log output still owed");
    second.receive(result);
    assert.deepEqual(second.of("resultAck"), []);
    second.receive(chunk(2));
    assert.deepEqual(second.of("resultAck"), [{ attemptId: attempt }]);
    assert.deepEqual(ends, ["succeed"], "ended once");
    assert.equal(core.logs.read(attempt).toString(), "line 1\nline 2\n");
  });

  it("withdraws, through the lifecycle service, an assignment the agent reconnects without", () => {
    const { job, attempt } = attemptOn("a1", false);
    connect("a1", []);
    assert.deepEqual(ends, ["withdraw"]);
    assert.deepEqual(changes, [{ job, status: "retrying", jobType: "commands", attempt }]);
    assert.equal(core.tracker.attempt(attempt)!.status, "withdrawn");
  });

  it("on a Hello, ends only the attempts of that agent it does not hold: another agent's stay live", () => {
    const mine = attemptOn("a1");
    const held = attemptOn("a1");
    const others = [attemptOn("a2"), attemptOn("a2", false)];
    connect("a1", [held.attempt]);
    assert.deepEqual(ends, ["lose"]);
    assert.equal(core.tracker.attempt(mine.attempt)!.status, "lost");
    assert.equal(core.tracker.attempt(held.attempt)!.status, "running");
    assert.deepEqual(
      others.map((o) => core.tracker.attempt(o.attempt)!.status),
      ["running", "assigned"],
    );
  });
});
