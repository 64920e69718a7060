// `beamflow fsck` on a real tracker file: each invariant broken on purpose (with the
// SQL a crash or a bug would have left), reported in words, and repaired where safe.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { describeFindings, fsck, type LiveReservations } from "../../../coordinator/fsck/fsck";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker } from "../../../coordinator/tracker/tracker";

const R = { cores: 1, memory: 0, shm: 0 };
const soon = () => Date.now() / 1000 + 600;

describe("fsck", () => {
  let dir: string;
  let results: string;
  let db: Database.Database;
  let raw: Database.Database;
  let t: Tracker;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-fsck-"));
    results = path.join(dir, "results");
    fs.mkdirSync(results);
    createTracker(path.join(dir, "tracker.db"));
    db = openTracker(path.join(dir, "tracker.db"));
    raw = new Database(path.join(dir, "tracker.db"));
    t = new Tracker(db);
    t.ensureAgent("a1", "x");
    t.ensureAgent("a2", "y");
  });
  afterEach(() => {
    raw.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const job = () => t.createJob({ beam: "b", jobType: "commands", spec: {}, reservation: R });
  const running = (jobId: number, agent = "a1") => {
    const a = t.assign(jobId, agent, R, soon());
    t.accept(a, agent, soon());
    return a;
  };
  const run = (repair: boolean, reservations?: LiveReservations) => fsck(t, { repair, resultsRoot: results, reservations });

  it("a consistent tracker is clean", () => {
    const j = job();
    const a = running(j);
    t.succeed(a, "a1");
    job();
    const r = run(true);
    assert.deepEqual(r.findings, []);
    assert.match(describeFindings(r), /the tracker is consistent .*reservations not checked/);
  });

  it("two live attempts of one job: reported; the one that does not own the job is lost, nothing counted", () => {
    const j = job();
    const a1 = running(j, "a1");
    // A second attempt written for the same job, as a double dispatch would leave it.
    raw
      .prepare(
        "INSERT INTO job_submits (job_id, agent_id, status, cores, memory, shm, lease_expires_at, created_at, updated_at) VALUES (?, 'a2', 'running', 1, 0, 0, ?, 0, 0)",
      )
      .run(j, soon());
    const report = run(false);
    assert.deepEqual(report.findings.map((f) => f.check).sort(), ["live_attempts", "stray_attempt"]);
    assert.match(
      report.findings.find((f) => f.check === "live_attempts")!.problem,
      new RegExp(`job ${j} has 2 live attempts \\(${a1},${a1 + 1}\\); its current one is ${a1}`),
    );
    assert.match(
      report.findings.find((f) => f.check === "stray_attempt")!.problem,
      new RegExp(`attempt ${a1 + 1} on agent a2 is running but owns no job: job ${j}'s current attempt is ${a1}`),
    );
    const repaired = run(true);
    assert.ok(
      repaired.findings.every((f) => f.repaired),
      describeFindings(repaired),
    );
    assert.equal(t.attempt(a1 + 1)!.status, "lost");
    assert.equal(t.attempt(a1)!.status, "running");
    assert.equal(t.job(j)!.failures, 0);
    assert.deepEqual(run(false).findings, []);
  });

  it("a submitted job whose attempt ended: requeued; a live attempt of a finished job: lost", () => {
    const j = job();
    const a = running(j);
    raw.prepare("UPDATE job_submits SET status = 'processing_failed' WHERE id = ?").run(a);
    const k = job();
    const b = running(k);
    t.succeed(b, "a1");
    raw.prepare("UPDATE job_submits SET status = 'running' WHERE id = ?").run(b);
    raw.prepare("UPDATE jobs SET status = 'terminal_failure' WHERE id = ?").run(k);
    const report = run(true);
    const text = describeFindings(report);
    assert.match(
      text,
      new RegExp(`submitted_orphan: job ${j} is submitted but its current attempt ${a} is processing_failed\\n    repaired: job ${j} waits for an agent again`),
    );
    assert.match(
      text,
      new RegExp(`stray_attempt: attempt ${b} on agent a1 is running but owns no job: job ${k} is terminal_failure\\n    repaired: attempt ${b} ended as lost`),
    );
    assert.equal(t.job(j)!.status, "retrying");
    assert.equal(t.attempt(b)!.status, "lost");
    assert.deepEqual(run(false).findings, []);
  });

  it("a processed job without its successful attempt, an uploaded one without an upload: reported, left alone", () => {
    const j = job();
    const a = running(j);
    t.succeed(a, "a1");
    raw.prepare("UPDATE job_submits SET status = 'lost' WHERE id = ?").run(a);
    raw.prepare("UPDATE jobs SET status = 'uploaded' WHERE id = ?").run(j);
    const report = run(true);
    assert.deepEqual(report.findings.map((f) => f.check).sort(), ["done_without_success", "upload_record"]);
    assert.ok(report.findings.every((f) => !f.repaired && f.unrepairable));
    assert.match(describeFindings(report), /job \d+ is uploaded but its current attempt \d+ is lost/);
    assert.match(describeFindings(report), /fsck: 2 violation\(s\), 0 repaired, 2 left/);
  });

  it("counts by state that disagree with the rows (changed with the triggers dropped): reported, counted again", () => {
    const j = job();
    t.succeed(running(j), "a1");
    job();
    // What a hand edit with the triggers gone would leave.
    raw.exec("DROP TRIGGER jobs_counted_update");
    raw.prepare("UPDATE jobs SET status = 'terminal_failure' WHERE id = ?").run(j);
    const r = run(false);
    assert.deepEqual(
      r.findings.map((f) => [f.check, f.problem]),
      [
        ["status_counts", "jobs in state processed: 1 counted, 0 in the table"],
        ["status_counts", "jobs in state terminal_failure: 0 counted, 1 in the table"],
      ],
    );
    run(true);
    assert.deepEqual(run(false).findings, [], "counted again");
    assert.deepEqual(t.reports.jobStatusCounts(), [
      { status: "new", count: 1 },
      { status: "terminal_failure", count: 1 },
    ]);
  });

  it("raw files: missing or of another size fail their waiting job; a missing one of a finished job is recorded as deleted", () => {
    const add = (name: string, bytes: number) => {
      const p = path.join(dir, name);
      fs.writeFileSync(p, Buffer.alloc(bytes));
      t.files.add({ filename: p, size: bytes, sha256: "", details: "" });
      const id = t.files.tracked().find((f) => f.filename === p)!.id;
      return { p, id, job: t.createJob({ beam: name, jobType: "commands", spec: {}, reservation: R, fileIds: [id] }) };
    };
    const gone = add("gone.fits", 10);
    const shrunk = add("shrunk.fits", 10);
    const done = add("done.fits", 10);
    fs.rmSync(gone.p);
    fs.truncateSync(shrunk.p, 4);
    t.succeed(running(done.job), "a1");
    raw.prepare("UPDATE jobs SET status = 'terminal_failure' WHERE id = ?").run(done.job);
    fs.rmSync(done.p);
    const report = run(true);
    const text = describeFindings(report);
    assert.match(
      text,
      /raw_missing: raw file .*gone\.fits \(file \d+\) is registered but not on disk \(job \d+ is new\)\n    repaired: job \d+ failed for good: raw file .*gone\.fits is gone/,
    );
    assert.match(text, /raw_size: raw file .*shrunk\.fits \(file \d+\) is 4 bytes on disk, 10 registered/);
    assert.match(text, /raw_missing: raw file .*done\.fits .*\(job \d+ is terminal_failure\)\n    repaired: file \d+ recorded as deleted/);
    assert.equal(t.job(gone.job)!.status, "terminal_failure");
    assert.match(t.job(shrunk.job)!.details, /changed size: 4 bytes, 10 registered/);
    assert.deepEqual(run(false).findings, []);
  });

  it("results: filed results gone are reported; an orphaned attempt dir of an ended attempt is removed", () => {
    const j = job();
    const a = running(j);
    const filed = path.join(results, "60000", "obs", "0", String(a));
    t.recordOutputDir(a, filed);
    t.succeed(a, "a1");
    const k = job();
    const b = running(k);
    t.fail(b, "a1", "exit_code", "boom", 3);
    const orphan = path.join(results, "60000", "obs2", "0", String(b));
    fs.mkdirSync(orphan, { recursive: true });
    const report = run(true);
    const text = describeFindings(report);
    assert.match(
      text,
      new RegExp(`results_missing: attempt ${a}'s results .* are gone \\(job ${j} is processed\\)\\n    not repaired: the results cannot be made again`),
    );
    assert.match(
      text,
      new RegExp(
        `results_orphan: results dir .*obs2/0/${b} is not the filed results of any attempt \\(attempt ${b} is processing_failed\\)\\n    repaired: removed`,
      ),
    );
    assert.equal(fs.existsSync(orphan), false);
  });

  it("reservations in memory: a stray one released, a missing one taken", () => {
    const j = job();
    const a = running(j);
    const ended = running(job());
    t.succeed(ended, "a1");
    const held = new Map<string, number[]>([["a1", [ended]]]);
    const log: string[] = [];
    const res: LiveReservations = {
      held: () => held,
      release: (id, agent) => {
        held.set(
          agent,
          held.get(agent)!.filter((x) => x !== id),
        );
        log.push(`release ${id}`);
      },
      reserve: (id, agent) => {
        held.set(agent, [...(held.get(agent) ?? []), id]);
        log.push(`reserve ${id}`);
      },
      cancel: () => {},
      schedule: () => log.push("schedule"),
    };
    const found = run(false, res);
    assert.deepEqual(found.findings.map((f) => f.problem).sort(), [
      `agent a1 holds a reservation for attempt ${ended}, which is processed`,
      `live attempt ${a} holds no reservation on its agent a1`,
    ]);
    assert.ok(run(true, res).findings.every((f) => f.repaired));
    assert.deepEqual(log, [`release ${ended}`, `reserve ${a}`, "schedule"]);
    assert.deepEqual(run(false, res).findings, []);
  });
});
