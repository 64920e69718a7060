// Step reports gathered and written in batches, on a real tracker file: what lands, when,
// whose, and that a result's list is the last word and is not written twice.
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { StepRecords } from "../../../coordinator/sessions/step-records";
import type { NewStep, Tracker } from "../../../coordinator/tracker/tracker";
import { silentLogger } from "../../../shared/logging/logger";
import { scratchTracker } from "../fixtures";

const R = { cores: 1, memory: 0, shm: 0 };

const started = (idx: number, at = 1000 + idx): NewStep => ({ idx, name: `s${idx}`, argv: ["prog", String(idx)], startedAt: at });
const ended = (idx: number, exitCode = 0): NewStep => ({ ...started(idx), wallS: 0.5, cpuS: 0.25, exitCode, signal: "", error: "" });

describe("step records", () => {
  let scratch: ReturnType<typeof scratchTracker>;
  let tracker: Tracker;
  /** a second connection to the same file: what is on disk, and how many rows were written */
  let probe: Database.Database;
  let storageFailures: string[];
  let records: StepRecords;

  const attemptOn = (agentId: string) => {
    tracker.ensureAgent(agentId, `token-${agentId}`);
    const job = tracker.createJob({ beam: "b", jobType: "commands", spec: {}, reservation: R });
    const attempt = tracker.assign(job, agentId, R, Date.now() / 1000 + 30);
    tracker.accept(attempt, agentId, Date.now() / 1000 + 30);
    return attempt;
  };
  const rows = (attemptId: number) =>
    probe.prepare("SELECT idx, exit_code, wall_s FROM attempt_steps WHERE attempt_id = ? ORDER BY idx").all(attemptId) as {
      idx: number;
      exit_code: number | null;
      wall_s: number | null;
    }[];
  const writes = () => (probe.prepare("SELECT COUNT(*) AS n FROM step_writes").get() as { n: number }).n;

  beforeEach(() => {
    scratch = scratchTracker();
    tracker = scratch.tracker;
    probe = new Database(path.join(scratch.dir, "tracker.db"));
    // Counts every row written to attempt_steps, inserted or updated.
    probe.exec(`CREATE TABLE step_writes (idx INTEGER);
                CREATE TRIGGER step_inserted AFTER INSERT ON attempt_steps BEGIN INSERT INTO step_writes VALUES (new.idx); END;
                CREATE TRIGGER step_updated AFTER UPDATE ON attempt_steps BEGIN INSERT INTO step_writes VALUES (new.idx); END;`);
    storageFailures = [];
    records = new StepRecords({
      tracker,
      storageFailed: (err, what) => {
        storageFailures.push(`${what}: ${err.message}`);
        return true;
      },
      log: silentLogger(),
      flushMs: 60_000, // flushed by hand below
    });
  });
  afterEach(() => {
    records.close();
    probe.close();
    scratch.dispose();
  });

  it("writes nothing until the batch is flushed, then each step's newest report, several attempts in one go", () => {
    const a = attemptOn("a1");
    const b = attemptOn("a2");
    records.report(a, "a1", started(0));
    records.report(a, "a1", ended(0));
    records.report(a, "a1", started(1));
    records.report(b, "a2", ended(0, 3));
    assert.deepEqual(rows(a), [], "nothing written before the flush");
    records.flush();
    assert.deepEqual(rows(a), [
      { idx: 0, exit_code: 0, wall_s: 0.5 },
      { idx: 1, exit_code: null, wall_s: null },
    ]);
    assert.deepEqual(rows(b), [{ idx: 0, exit_code: 3, wall_s: 0.5 }]);
    assert.equal(writes(), 3, "one write per step, not one per report");
  });

  it("writes no report for an attempt that is not the reporting agent's", () => {
    const theirs = attemptOn("other");
    tracker.ensureAgent("a1", "token-a1");
    records.report(theirs, "a1", ended(0));
    records.report(999_999, "a1", ended(0));
    records.flush();
    assert.deepEqual(rows(theirs), []);
    assert.deepEqual(rows(999_999), []);
    assert.equal(writes(), 0);
  });

  it("takes a result's list as the record: what was still gathered is dropped, what is stored as listed is not written again", () => {
    const a = attemptOn("a1");
    records.report(a, "a1", ended(0));
    records.report(a, "a1", started(1));
    records.flush();
    assert.equal(writes(), 2);
    // Step 1 ends, step 2 starts; their reports are gathered when the result comes.
    records.report(a, "a1", ended(1, 1));
    records.report(a, "a1", started(2));
    records.settle(a, [ended(0), ended(1, 1)]);
    assert.deepEqual(rows(a), [
      { idx: 0, exit_code: 0, wall_s: 0.5 },
      { idx: 1, exit_code: 1, wall_s: 0.5 },
    ]);
    assert.equal(writes(), 3, "step 0 was stored as listed; only step 1 is written again");
    records.flush();
    assert.deepEqual(
      rows(a).map((r) => r.idx),
      [0, 1],
      "the dropped report of step 2 is not written after the result",
    );
    assert.equal(writes(), 3);
  });

  it("keeps the batch when the disk refuses it, and writes it at the next flush", () => {
    const a = attemptOn("a1");
    records.report(a, "a1", ended(0));
    const write = tracker.recordLiveSteps.bind(tracker);
    tracker.recordLiveSteps = () => {
      throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
    };
    records.flush();
    assert.deepEqual(storageFailures, ["step records: database or disk is full"]);
    assert.deepEqual(rows(a), []);
    tracker.recordLiveSteps = write;
    records.flush();
    assert.deepEqual(rows(a), [{ idx: 0, exit_code: 0, wall_s: 0.5 }]);
  });

  it("flushes by itself, at most flushMs after a report", async () => {
    const a = attemptOn("a1");
    const timed = new StepRecords({ tracker, storageFailed: () => false, log: silentLogger(), flushMs: 20 });
    timed.report(a, "a1", ended(0));
    assert.deepEqual(rows(a), []);
    await new Promise((r) => setTimeout(r, 60));
    assert.deepEqual(rows(a), [{ idx: 0, exit_code: 0, wall_s: 0.5 }]);
    timed.close();
  });
});
