// Notices read back from a real tracker after each kind of jobChanged outcome.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Database from "better-sqlite3";
import { agentLostNotice, noticeForJobChange } from "../../../coordinator/notify/from-tracker";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker } from "../../../coordinator/tracker/tracker";

const R = { cores: 1, memory: 0, shm: 0 };
const MAX = 2;

describe("notify: notices from tracker outcomes", () => {
  let dir: string;
  let db: Database.Database;
  let t: Tracker;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-notify-tracker-"));
    createTracker(path.join(dir, "tracker.db"));
    db = openTracker(path.join(dir, "tracker.db"));
    t = new Tracker(db);
    t.ensureAgent("a1", "x");
    t.ensureAgent("a2", "y");
    t.recordHello("a2", { hostname: "node-2.cluster", version: "0", labels: {}, resources: {} });
  });
  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const far = () => Date.now() / 1000 + 600;
  function run(job: number, agent: string): number {
    const a = t.assign(job, agent, R, far());
    t.accept(a, agent, far());
    return a;
  }
  function newJob(beam: string, files: string[] = []): number {
    const ins = db.prepare("INSERT INTO files (filename, size, status, created_at, updated_at) VALUES (?, 1, 'downloaded', 0, 0)");
    const ids = files.map((f) => Number(ins.run(f).lastInsertRowid));
    return t.createJob({ beam, jobType: "commands", spec: {}, reservation: R, fileIds: ids });
  }

  it("a counted failure with attempts left ⇒ job_failed_will_retry; the last one ⇒ job_failed_for_good with every attempt", () => {
    const job = newJob("beamA", ["/data/beamA.0.fits"]);
    const a1 = run(job, "a1");
    const o1 = t.fail(a1, "a1", "step_failed", "prepsubband exited with status 1", MAX);
    assert.deepEqual(noticeForJobChange(t, o1, { maxAttempts: MAX }), {
      kind: "job_failed_will_retry",
      job,
      beam: "beamA",
      attempt: a1,
      attemptsUsed: 1,
      maxAttempts: MAX,
      errorClass: "step_failed",
      error: "prepsubband exited with status 1",
    });

    const lost = run(job, "a2");
    const o2 = t.lose(lost, "lease expired");
    assert.equal(noticeForJobChange(t, o2, { maxAttempts: MAX }), undefined); // lost: not counted, no mail

    const a3 = run(job, "a2");
    const o3 = t.fail(a3, "a2", "step_failed", "accelsearch killed by SIGKILL", MAX);
    const e = noticeForJobChange(t, o3, { maxAttempts: MAX });
    assert.ok(e && e.kind === "job_failed_for_good");
    assert.equal(e.beam, "beamA");
    assert.deepEqual(
      e.attempts.map((a) => [a.id, a.agent, a.status, a.errorClass]),
      [
        [a1, "a1", "processing_failed", "step_failed"],
        [lost, "a2", "lost", "lost"],
        [a3, "a2", "processing_failed", "step_failed"],
      ],
    );
    assert.equal(e.lastError, "step_failed: accelsearch killed by SIGKILL");
    assert.equal(e.rawDataDeleted, false);
    assert.equal((noticeForJobChange(t, o3, { maxAttempts: MAX, rawDataDeleted: true }) as typeof e).rawDataDeleted, true);
    db.prepare("UPDATE files SET status = 'deleted'").run();
    assert.equal((noticeForJobChange(t, o3, { maxAttempts: MAX }) as typeof e).rawDataDeleted, true);
  });

  it("a precheck failure (even after a counted failure) ⇒ precheck_failed; a kill, a polite stop or a success ⇒ nothing", () => {
    const job = newJob("beamB");
    const a1 = run(job, "a1");
    t.fail(a1, "a1", "step_failed", "boom", MAX);
    const o = t.failPrecheck(job, "no zaplist for beamB");
    assert.deepEqual(noticeForJobChange(t, o, { maxAttempts: MAX }), { kind: "precheck_failed", job, beam: "beamB", reason: "no zaplist for beamB" });

    const killed = newJob("beamC");
    assert.equal(noticeForJobChange(t, t.kill(killed), { maxAttempts: MAX }), undefined);

    const stopped = newJob("beamD");
    run(stopped, "a1");
    assert.equal(noticeForJobChange(t, t.stop(stopped, false, MAX).outcome, { maxAttempts: MAX }), undefined);
    const ok = run(stopped, "a1");
    assert.equal(noticeForJobChange(t, t.succeed(ok, "a1"), { maxAttempts: MAX }), undefined);
  });

  it("an upload that failed for good ⇒ upload_failed with the tries, the last error and the results dir; a counted retry of it ⇒ nothing", () => {
    const job = newJob("beamF");
    const a = run(job, "a1");
    t.recordOutputDir(a, "/results/60000/beamF/0/1");
    t.succeed(a, "a1");
    const first = t.uploads.failed(t.uploads.begin(job, a), job, a, "parse", "Cand_1.pfd.bestprof: truncated", 2);
    assert.equal(noticeForJobChange(t, first, { maxAttempts: MAX }), undefined);
    const last = t.uploads.failed(t.uploads.begin(job, a), job, a, "compare", "pdm_candidates row 1: sigma differs", 2);
    assert.deepEqual(noticeForJobChange(t, last, { maxAttempts: MAX }), {
      kind: "upload_failed",
      job,
      beam: "beamF",
      attempt: a,
      uploadsTried: 2,
      lastError: "compare: pdm_candidates row 1: sigma differs",
      resultsDir: "/results/60000/beamF/0/1",
    });
  });

  it("agent_lost names the agent's host, last sighting and the attempts' jobs and beams", () => {
    const job = newJob("beamE");
    const a = run(job, "a2");
    const e = agentLostNotice(t, "a2", [t.attempt(a)!]);
    assert.equal(e.hostname, "node-2.cluster");
    assert.ok(e.lastSeenAt !== null && Math.abs(e.lastSeenAt - Date.now() / 1000) < 60);
    assert.deepEqual(e.attempts, [{ id: a, job, beam: "beamE" }]);
  });
});
