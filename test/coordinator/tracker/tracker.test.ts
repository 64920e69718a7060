// The job tracker on a real SQLite file: transitions are guarded by state and
// by the owning attempt, and counting follows PALFA's rules minus its bugs.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { createTracker, openTracker, TrackerLock, TrackerLockedError, TrackerMissingError } from "../../../coordinator/tracker/open";
import { IllegalTransition } from "../../../coordinator/tracker/transitions";
import { RefusedAction, Tracker } from "../../../coordinator/tracker/tracker";
import { JOB_TRANSITIONS, ATTEMPT_TRANSITIONS, JOB_STATES, ATTEMPT_STATES } from "../../../coordinator/tracker/states";
import { MIGRATIONS } from "../../../coordinator/tracker/migrations";

const R = { cores: 1, memory: 0, shm: 0 };

describe("job tracker", () => {
  let dir: string;
  let db: Database.Database;
  let t: Tracker;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-tracker-"));
    createTracker(path.join(dir, "tracker.db"));
    db = openTracker(path.join(dir, "tracker.db"));
    t = new Tracker(db);
    t.ensureAgent("a1", "x");
    t.ensureAgent("a2", "y");
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("opens in WAL mode with foreign keys and every migration applied", () => {
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    assert.equal(db.pragma("foreign_keys", { simple: true }), 1);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    for (const name of ["requests", "files", "download_attempts", "jobs", "job_files", "job_submits", "agents", "attempt_steps", "diagnostics"])
      assert.ok(tables.includes(name), name);
    assert.throws(() => db.prepare("INSERT INTO job_files (job_id, file_id, created_at) VALUES (999, 999, 0)").run(), /FOREIGN KEY/);
  });

  it("refuses to create over an existing tracker and to open a missing one", () => {
    assert.equal(createTracker(path.join(dir, "tracker.db")), false);
    assert.throws(() => openTracker(path.join(dir, "nope.db")), TrackerMissingError);
  });

  it("the state tables only name known states", () => {
    for (const tr of Object.values(JOB_TRANSITIONS)) for (const s of [...tr.from, tr.to]) assert.ok((JOB_STATES as readonly string[]).includes(s), s);
    for (const tr of Object.values(ATTEMPT_TRANSITIONS)) for (const s of [...tr.from, tr.to]) assert.ok((ATTEMPT_STATES as readonly string[]).includes(s), s);
  });

  it("runs a job through assign, accept and succeed", () => {
    const job = t.createJob({ beam: "b1", jobType: "commands", spec: {}, reservation: R });
    const a = t.assign(job, "a1", R, Date.now() / 1000 + 30);
    assert.equal(t.job(job)!.status, "submitted");
    assert.equal(t.attempt(a)!.status, "assigned");
    t.accept(a, "a1", Date.now() / 1000 + 600);
    assert.equal(t.attempt(a)!.status, "running");
    assert.deepEqual(t.succeed(a, "a1"), { job, status: "processed", jobType: "commands", attempt: a });
    assert.equal(t.attempt(a)!.status, "processed");
  });

  it("a stale attempt cannot complete a job it lost, and the error says why", () => {
    const job = t.createJob({ beam: "b1", jobType: "commands", spec: {}, reservation: R });
    const first = t.assign(job, "a1", R, Date.now() / 1000 + 30);
    t.accept(first, "a1", Date.now() / 1000 + 600);
    t.lose(first, "lease expired");
    const second = t.assign(job, "a2", R, Date.now() / 1000 + 30);
    t.accept(second, "a2", Date.now() / 1000 + 600);
    assert.throws(
      () => t.succeed(first, "a1"),
      (err: unknown) => err instanceof IllegalTransition && /attempt \d+: cannot succeed from assigned\/running as a1: it is lost/.test(err.message),
    );
    // The other agent cannot complete it either.
    assert.throws(() => t.succeed(second, "a1"), IllegalTransition);
    assert.equal(t.job(job)!.status, "submitted");
    assert.equal(t.job(job)!.current_attempt_id, second);
    t.succeed(second, "a2");
    assert.equal(t.job(job)!.status, "processed");
  });

  it("a failed move changes nothing (the transaction rolls back)", () => {
    const job = t.createJob({ beam: "b1", jobType: "commands", spec: {}, reservation: R });
    const a = t.assign(job, "a1", R, Date.now() / 1000 + 30);
    // Another agent's success is illegal: the job must stay as it was, its attempt unstarted.
    assert.throws(() => t.succeed(a, "a2"), IllegalTransition);
    assert.equal(t.attempt(a)!.status, "assigned");
    assert.equal(t.attempt(a)!.started_at, null);
    assert.equal(t.job(job)!.status, "submitted");
  });

  it("a result before the accept is the accept too: the attempt started when it was assigned", () => {
    const job = t.createJob({ beam: "b1", jobType: "commands", spec: {}, reservation: R });
    const a = t.assign(job, "a1", R, Date.now() / 1000 + 30);
    assert.deepEqual(t.succeed(a, "a1"), { job, status: "processed", jobType: "commands", attempt: a });
    const row = t.attempt(a)!;
    assert.equal(row.status, "processed");
    assert.equal(row.started_at, row.created_at);
    assert.ok(row.finished_at! >= row.started_at!);
    // An accepted one keeps the time of its accept.
    const other = t.createJob({ beam: "b2", jobType: "commands", spec: {}, reservation: R });
    const b = t.assign(other, "a1", R, Date.now() / 1000 + 30);
    t.accept(b, "a1", Date.now() / 1000 + 600);
    const accepted = t.attempt(b)!.started_at;
    t.fail(b, "a1", "payload_failed", "boom", 3);
    assert.equal(t.attempt(b)!.started_at, accepted);
  });

  it("counts payload failures and forced stops toward max_attempts, not lost, withdrawn or polite stops", () => {
    const job = t.createJob({ beam: "b1", jobType: "commands", spec: {}, reservation: R });
    const run = (agent: string) => {
      const a = t.assign(job, agent, R, Date.now() / 1000 + 30);
      t.accept(a, agent, Date.now() / 1000 + 600);
      return a;
    };
    t.lose(run("a1"), "lease");
    t.withdraw(t.assign(job, "a2", R, Date.now() / 1000 + 30), "no accept");
    run("a1");
    t.stop(job, false, 2);
    assert.equal(t.job(job)!.failures, 0);
    assert.equal(t.job(job)!.status, "retrying");
    const f1 = run("a2");
    assert.deepEqual(t.fail(f1, "a2", "exit_code", "exit 3", 2), { job, status: "retrying", jobType: "commands", attempt: f1 });
    assert.equal(t.attempt(f1)!.details, "exit 3");
    run("a1");
    const { outcome } = t.stop(job, true, 2);
    assert.equal(outcome.status, "terminal_failure");
    assert.equal(t.job(job)!.failures, 2);
    assert.equal(t.attemptsOfJob(job).length, 5);
  });

  it("a new attempt clears the job's details: the previous attempt's error stays with that attempt", () => {
    const job = t.createJob({ beam: "b1", jobType: "commands", spec: {}, reservation: R });
    const first = t.assign(job, "a1", R, Date.now() / 1000 + 30);
    t.accept(first, "a1", Date.now() / 1000 + 600);
    t.fail(first, "a1", "exit_code", "exit 3", 2);
    assert.equal(t.job(job)!.details, `attempt ${first} failed: exit 3`);
    const second = t.assign(job, "a2", R, Date.now() / 1000 + 30);
    assert.equal(t.job(job)!.details, "", "the running attempt is not described by the last one's error");
    assert.equal(t.attempt(first)!.details, "exit 3");
    t.accept(second, "a2", Date.now() / 1000 + 600);
    assert.equal(t.job(job)!.status, "submitted");
  });

  it("a failure that is the node's fault (missing_program, toolchain, workdir, shm_occupied) requeues the job without counting it", () => {
    const job = t.createJob({ beam: "b1", jobType: "palfa-search", spec: {}, reservation: R });
    for (const [i, cls] of ["missing_program", "toolchain", "workdir", "shm_occupied"].entries()) {
      const a = t.assign(job, i % 2 ? "a2" : "a1", R, Date.now() / 1000 + 30);
      t.accept(a, i % 2 ? "a2" : "a1", Date.now() / 1000 + 600);
      assert.deepEqual(t.fail(a, i % 2 ? "a2" : "a1", cls, `${cls} on the node`, 1), { job, status: "retrying", jobType: "palfa-search", attempt: a }, cls);
      assert.equal(t.attempt(a)!.status, "node_failed");
      assert.equal(t.attempt(a)!.error_class, cls);
    }
    assert.equal(t.job(job)!.failures, 0);
    assert.match(t.job(job)!.details, /failed on agent a2, not counted \(the node's fault\): shm_occupied on the node/);
    // The same failure is the beam's when its class is not the node's: counted (max_attempts 1: failed for good).
    const a = t.assign(job, "a1", R, Date.now() / 1000 + 30);
    t.accept(a, "a1", Date.now() / 1000 + 600);
    assert.deepEqual(t.fail(a, "a1", "shm_full", "the beam outgrew its reservation", 1), {
      job,
      status: "terminal_failure",
      jobType: "palfa-search",
      attempt: a,
    });
  });

  it("a beam that failed through 'the node's fault' on 3 other nodes is counted from then on: it cannot bounce forever", () => {
    for (const id of ["a3", "a4"]) t.ensureAgent(id, id);
    const job = t.createJob({ beam: "poison", jobType: "palfa-search", spec: {}, reservation: R });
    const failOn = (agent: string) => {
      const a = t.assign(job, agent, R, Date.now() / 1000 + 30);
      t.accept(a, agent, Date.now() / 1000 + 600);
      return { a, outcome: t.fail(a, agent, "workdir", "cannot write poison.fits", 2) };
    };
    for (const agent of ["a1", "a2", "a1", "a3"]) assert.equal(t.attempt(failOn(agent).a)!.status, "node_failed", agent);
    assert.equal(t.job(job)!.failures, 0);
    const { a, outcome } = failOn("a4");
    assert.deepEqual(outcome, { job, status: "retrying", jobType: "palfa-search", attempt: a });
    assert.equal(t.attempt(a)!.status, "processing_failed");
    assert.match(t.attempt(a)!.details, /counted: the beam failed through "the node's fault" on 3 other nodes already/);
    assert.equal(t.job(job)!.failures, 1);
  });

  it("an agent's failure streak: failed attempts (counted or not) since its last success or undrain, oldest first", () => {
    const finish = (agent: string, how: "ok" | "fail" | "node" | "lost") => {
      const job = t.createJob({ beam: "b", jobType: "commands", spec: {}, reservation: R });
      const a = t.assign(job, agent, R, Date.now() / 1000 + 30);
      t.accept(a, agent, Date.now() / 1000 + 600);
      if (how === "ok") t.succeed(a, agent);
      else if (how === "fail") t.fail(a, agent, "exit_code", "exit 1", 2);
      else if (how === "node") t.fail(a, agent, "missing_program", "accelsearch not found", 2);
      else t.lose(a, "lease");
      return a;
    };
    const f1 = finish("a1", "fail");
    finish("a1", "lost"); // neither a failure nor a success
    const f2 = finish("a1", "node");
    finish("a2", "fail"); // another agent's
    assert.deepEqual(
      t.failureStreak("a1").map((a) => a.id),
      [f1, f2],
    );
    finish("a1", "ok");
    assert.deepEqual(t.failureStreak("a1"), []);
    const f3 = finish("a1", "fail");
    assert.deepEqual(
      t.failureStreak("a1").map((a) => a.id),
      [f3],
    );

    t.drain("a1", "2 failed attempts in a row", "auto");
    assert.deepEqual([t.agent("a1")!.drained, t.agent("a1")!.drained_by, t.agent("a1")!.drain_reason], [1, "auto", "2 failed attempts in a row"]);
    t.undrain("a1");
    assert.deepEqual([t.agent("a1")!.drained, t.agent("a1")!.drained_by, t.agent("a1")!.drain_reason], [0, "", ""]);
    assert.deepEqual(t.failureStreak("a1"), [], "undrain starts the streak over");
    assert.throws(() => t.drain("nobody", "x", "operator"), /no agent nobody/);
  });

  it("keeps its counts by state exact through every kind of move, as a GROUP BY over every row would find them", () => {
    const groupBy = (tbl: string) =>
      db.prepare(`SELECT status, COUNT(*) AS count FROM ${tbl} GROUP BY status ORDER BY status`).all() as { status: string; count: number }[];
    const check = (when: string) => {
      assert.deepEqual(t.reports.jobStatusCounts(), groupBy("jobs"), `jobs, ${when}`);
      assert.deepEqual(t.reports.attemptStatusCounts(), groupBy("job_submits"), `attempts, ${when}`);
    };
    const job = () => t.createJob({ beam: "b", jobType: "commands", spec: {}, reservation: R });
    const running = (agent = "a1") => {
      const j = job();
      const a = t.assign(j, agent, R, 1e12);
      t.accept(a, agent, 1e12);
      return { j, a };
    };
    check("empty");
    const ids = Array.from({ length: 5 }, job);
    check("created");
    t.succeed(running().a, "a1");
    t.fail(running().a, "a1", "exit", "boom", 3);
    t.fail(running("a2").a, "a2", "exit", "boom", 1);
    t.lose(running().a, "lease ran out");
    t.withdraw(t.assign(job(), "a2", R, 1e12), "refused");
    t.kill(ids[0]!);
    t.failPrecheck(ids[1]!, "no zaplist");
    t.stop(running().j, false, 3);
    check("after every kind of move");
    t.retry(ids[1]!);
    check("after a retry");
    // A row that goes (fsck's repairs may delete): its count goes with it.
    db.prepare("DELETE FROM job_files WHERE job_id = ?").run(ids[2]!);
    db.prepare("DELETE FROM jobs WHERE id = ?").run(ids[2]!);
    check("after a delete");
  });

  it("counts what a tracker from before the kept counts holds, when it is migrated", () => {
    const file = path.join(dir, "old.db");
    const old = new Database(file);
    old.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)");
    for (const m of MIGRATIONS.filter((m) => m.version < 10)) {
      old.exec(m.sql);
      old.prepare("INSERT INTO schema_migrations VALUES (?, ?, 0)").run(m.version, m.name);
    }
    old.prepare("INSERT INTO agents (id, token_hash, registered_at) VALUES ('a1', 'x', 0)").run();
    const ins = old.prepare(
      "INSERT INTO jobs (beam, job_type, spec_json, cores, memory, shm, status, created_at, updated_at) VALUES ('b', 'commands', '{}', 1, 0, 0, ?, 0, 0)",
    );
    for (const st of ["new", "new", "processed", "terminal_failure"]) ins.run(st);
    old
      .prepare(
        "INSERT INTO job_submits (job_id, agent_id, status, cores, memory, shm, lease_expires_at, created_at, updated_at) VALUES (3, 'a1', 'processed', 1, 0, 0, 0, 0, 0)",
      )
      .run();
    old.close();
    const migrated = new Tracker(openTracker(file));
    try {
      assert.deepEqual(migrated.reports.jobStatusCounts(), [
        { status: "new", count: 2 },
        { status: "processed", count: 1 },
        { status: "terminal_failure", count: 1 },
      ]);
      assert.deepEqual(migrated.reports.attemptStatusCounts(), [{ status: "processed", count: 1 }]);
    } finally {
      migrated.close();
    }
  });

  it("kill takes only waiting jobs; retry only terminal failures", () => {
    const job = t.createJob({ beam: "b1", jobType: "commands", spec: {}, reservation: R });
    const a = t.assign(job, "a1", R, Date.now() / 1000 + 30);
    assert.throws(
      () => t.kill(job),
      (e: unknown) => e instanceof RefusedAction && /submitted.*stop it first/.test((e as Error).message),
    );
    assert.throws(() => t.retry(job), RefusedAction);
    t.withdraw(a, "x");
    t.kill(job);
    assert.equal(t.job(job)!.status, "terminal_failure");
    t.retry(job);
    assert.equal(t.job(job)!.status, "retrying");
    assert.equal(t.job(job)!.failures, 0);
  });

  it("renews only the leases of attempts the agent holds", () => {
    const job = t.createJob({ beam: "b1", jobType: "commands", spec: {}, reservation: R });
    const a = t.assign(job, "a1", R, Date.now() / 1000 + 30);
    t.accept(a, "a1", 100);
    assert.deepEqual(t.renewLeases("a1", [a], 500), []);
    assert.equal(t.attempt(a)!.lease_expires_at, 500);
    assert.deepEqual(t.renewLeases("a2", [a], 900), [a]);
    assert.equal(t.attempt(a)!.lease_expires_at, 500);
    assert.deepEqual(
      t.expiredAttempts(600).map((x) => x.id),
      [a],
    );
    // An assigned one its agent names is renewed too (the agent may hold its accept back); an ended one is not.
    const other = t.createJob({ beam: "b2", jobType: "commands", spec: {}, reservation: R });
    const held = t.assign(other, "a1", R, 200);
    assert.deepEqual(t.renewLeases("a1", [held], 700), []);
    assert.equal(t.attempt(held)!.lease_expires_at, 700);
    t.succeed(held, "a1");
    assert.deepEqual(t.renewLeases("a1", [held], 800), [held]);
  });

  it("a second holder of the tracker lock is refused, and a dead holder's lock is free at once", () => {
    const dbPath = path.join(dir, "tracker.db");
    const lock = TrackerLock.acquire(dbPath);
    assert.throws(
      () => TrackerLock.acquire(dbPath),
      (e: unknown) => e instanceof TrackerLockedError && /in use by another coordinator \(pid \d+/.test((e as Error).message),
    );
    lock.release();
    TrackerLock.acquire(dbPath).release();
  });
});
