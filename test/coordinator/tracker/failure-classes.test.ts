// How the tracker counts a failed attempt by its error class: a fault of the beam that no
// retry can mend fails the job at once; a payload failure counts and waits out a backoff
// (doubled each time) before the dispatcher sees the job again; a broken transfer counts not.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Database from "better-sqlite3";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker } from "../../../coordinator/tracker/tracker";

const R = { cores: 1, memory: 0, shm: 0 };
const soon = () => Date.now() / 1000 + 600;

describe("tracker: failure classes and the retry backoff", () => {
  let dir: string;
  let db: Database.Database;
  let t: Tracker;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-classes-"));
    createTracker(path.join(dir, "tracker.db"));
    db = openTracker(path.join(dir, "tracker.db"));
    t = new Tracker(db);
    t.ensureAgent("a1", "x");
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const attempt = (job: number) => {
    const a = t.assign(job, "a1", R, soon());
    t.accept(a, "a1", soon());
    return a;
  };
  const anything = { cores: 1e9, memory: 1e18, shm: 1e18, types: ["commands", "palfa-search", "canary"] };
  const waiting = () => t.waitingJobs(10, anything).map((j) => j.id);

  for (const cls of ["bad_input", "too_short", "checksum"]) {
    it(`${cls}: terminal_failure at the first attempt, with the reason`, () => {
      const job = t.createJob({ beam: "b", jobType: "palfa-search", spec: {}, reservation: R });
      const a = attempt(job);
      const out = t.fail(a, "a1", cls, "the reason", 5, 60);
      assert.deepEqual(out, { job, status: "terminal_failure", jobType: "palfa-search", attempt: a });
      const row = t.job(job)!;
      assert.equal(row.failures, 1);
      assert.match(row.details, new RegExp(`\\(${cls}, not retried: trying again cannot help\\): the reason`));
    });
  }

  it("a payload failure counts and waits out its backoff, doubled for the next one", () => {
    const job = t.createJob({ beam: "b", jobType: "commands", spec: {}, reservation: R });
    const before = Date.now() / 1000;
    const first = attempt(job);
    assert.deepEqual(t.fail(first, "a1", "exit_code", "exit 1", 5, 60), { job, status: "retrying", jobType: "commands", attempt: first });
    const nb = (db.prepare("SELECT not_before FROM jobs WHERE id = ?").get(job) as { not_before: number }).not_before;
    assert.ok(nb >= before + 60 && nb < before + 62, String(nb - before));
    assert.deepEqual(waiting(), [], "not dispatched during its backoff");
    db.prepare("UPDATE jobs SET not_before = 0 WHERE id = ?").run(job);
    assert.deepEqual(waiting(), [job]);
    t.fail(attempt(job), "a1", "exit_code", "exit 1", 5, 60);
    const nb2 = (db.prepare("SELECT not_before FROM jobs WHERE id = ?").get(job) as { not_before: number }).not_before;
    assert.ok(nb2 >= Date.now() / 1000 + 119, "doubled");
    // An operator's retry is not held back by an old backoff.
    db.prepare("UPDATE jobs SET status = 'terminal_failure' WHERE id = ?").run(job);
    t.retry(job);
    assert.deepEqual(waiting(), [job]);
  });

  it("a broken transfer (staging) is not counted", () => {
    const job = t.createJob({ beam: "b", jobType: "palfa-search", spec: {}, reservation: R });
    const a = attempt(job);
    assert.deepEqual(t.fail(a, "a1", "staging", "stream reset", 2, 60), { job, status: "retrying", jobType: "palfa-search", attempt: a });
    assert.equal(t.job(job)!.failures, 0);
    assert.deepEqual(waiting(), [job], "no backoff either");
  });
});
