// The uploader loop against a real job tracker (SQLite file) and real results DBs:
// processed → uploaded, counted upload failures that never re-process the beam,
// a PostgreSQL outage that counts nothing, and raw-data deletion after the move.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Database from "better-sqlite3";
import { createLogger } from "../../../shared/logging/logger";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker, type JobOutcome } from "../../../coordinator/tracker/tracker";
import { JobUploader, openResultsDb, queryResults, type ResultsDb } from "../../../coordinator/uploader";
import { deleteRawData } from "../../../coordinator/rawdata/delete-rawdata";
import { BASE, buildResultsDir, copyDir, refreshManifest, rewriteTarball, type BuiltResults } from "./results-dir";
import { rowCounts } from "./backends";
import { requirePostgres, type PgServer } from "../../support/postgres";
import { waitFor } from "../../support/cluster";

const R = { cores: 1, memory: 1, shm: 1 };
const log = createLogger("test", "silent");

describe("uploader loop: processed jobs to the results DB", function () {
  this.timeout(60_000);
  let scratch: string;
  let good: BuiltResults;
  let db: Database.Database;
  let tracker: Tracker;
  let moves: JobOutcome[];
  let results: ResultsDb | null;
  let uploader: JobUploader | null;

  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bf-job-uploader-"));
    good = await buildResultsDir(path.join(scratch, "good"), { copies: 2 });
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  beforeEach(() => {
    const file = path.join(scratch, `tracker-${Date.now()}-${Math.random()}.db`);
    createTracker(file);
    db = openTracker(file);
    tracker = new Tracker(db);
    tracker.registerAgent("a1", false);
    moves = [];
    results = null;
    uploader = null;
  });
  afterEach(async () => {
    await uploader?.stop();
    await results?.close();
    db.close();
  });

  /** A palfa-search job whose attempt succeeded with its results in `dir`. */
  function processedJob(dir: string, rawFile?: string): { job: number; attempt: number } {
    const job = tracker.createJob({ beam: "beam_J1903", jobType: "palfa-search", spec: {}, reservation: R, fileIds: rawFile ? [addFile(rawFile)] : [] });
    const attempt = tracker.assign(job, "a1", R, Date.now() / 1000 + 30);
    tracker.accept(attempt, "a1", Date.now() / 1000 + 600);
    tracker.recordOutputDir(attempt, dir);
    tracker.succeed(attempt, "a1");
    return { job, attempt };
  }

  function addFile(file: string): number {
    const now = Date.now() / 1000;
    return Number(
      db.prepare("INSERT INTO files (filename, size, status, created_at, updated_at) VALUES (?, ?, 'added', ?, ?)").run(file, fs.statSync(file).size, now, now)
        .lastInsertRowid,
    );
  }

  function start(open: () => Promise<ResultsDb>, settings: Partial<ConstructorParameters<typeof JobUploader>[2]> = {}): JobUploader {
    uploader = new JobUploader(tracker, open, { maxAttempts: 2, retryS: 0.05, dbBackoffMaxS: 0.2, dbBackoffInitialS: 0.05, ...settings }, log, (o) =>
      moves.push(o),
    );
    uploader.start();
    return uploader;
  }

  async function sqliteResults(): Promise<ResultsDb> {
    results = await openResultsDb({ backend: "sqlite", file: path.join(scratch, `results-${Date.now()}-${Math.random()}.db`) });
    return results;
  }

  it("uploads a processed job, records the results upload, and leaves an uploaded job alone", async () => {
    const r = await sqliteResults();
    const { job, attempt } = processedJob(good.dir);
    const u = start(async () => r);
    await u.idle();
    assert.equal(tracker.job(job)!.status, "uploaded");
    assert.deepEqual(moves, [{ job, status: "uploaded", jobType: "palfa-search", attempt }]);
    const ups = tracker.uploads.ofJob(job);
    assert.equal(ups.length, 1);
    assert.equal(ups[0].status, "uploaded");
    assert.equal(ups[0].attempt_id, attempt);
    const listing = await queryResults(r, { uploadIds: [tracker.uploads.resultsUploadOf(job)!] });
    assert.equal(listing.length, 1);
    assert.equal(listing[0].candidates.length, 2);
    assert.ok(Object.keys(listing[0].diagnostics).length >= 5, `float diagnostics listed: ${JSON.stringify(listing[0].diagnostics)}`);
    const before = await rowCounts(r);
    u.add(job); // not processed any more: nothing happens
    start(async () => r); // a restarted coordinator finds nothing to do
    await uploader!.idle();
    assert.deepEqual(await rowCounts(r), before);
    assert.equal(tracker.uploads.ofJob(job).length, 1);
    assert.equal(tracker.attemptsOfJob(job).length, 1, "never re-processed");
  });

  it("counts a truncated .bestprof against the upload's own limit, then upload_failed; retry starts a new round", async () => {
    const r = await sqliteResults();
    const dir = copyDir(good.dir, path.join(scratch, `truncated-${Date.now()}`));
    await rewriteTarball(dir, `${BASE}_bestprof.tgz`, (m) => {
      const [name, b] = [...m].find(([n]) => n.endsWith(".bestprof"))!;
      m.set(name, b.subarray(0, Math.floor(b.length / 2)));
    });
    await refreshManifest(dir);
    const { job, attempt } = processedJob(dir);
    start(async () => r);
    await waitFor("upload_failed", () => tracker.job(job)!.status === "upload_failed", 10_000);
    const j = tracker.job(job)!;
    assert.equal(j.upload_failures, 2);
    assert.equal(j.failures, 0, "the search's attempts are untouched");
    assert.match(j.details, /^upload failed: parse: .*bestprof/);
    assert.deepEqual(
      tracker.uploads.ofJob(job).map((u) => [u.status, u.error_class]),
      [
        ["upload_failed", "parse"],
        ["upload_failed", "parse"],
      ],
    );
    assert.equal(tracker.attemptsOfJob(job).length, 1, "never re-processed");
    assert.deepEqual(moves, [{ job, status: "upload_failed", jobType: "palfa-search", attempt }]);
    assert.equal((await rowCounts(r)).uploads, 0);

    // The operator mends the results and asks for a new round of uploads.
    fs.rmSync(dir, { recursive: true });
    copyDir(good.dir, dir);
    assert.deepEqual(tracker.retry(job), { job, status: "processed", jobType: "palfa-search", attempt });
    assert.equal(tracker.job(job)!.upload_failures, 0);
    uploader!.add(job);
    await uploader!.idle();
    assert.equal(tracker.job(job)!.status, "uploaded");
  });

  it("deletes raw data only when asked, after the move, and refuses to search a job whose data is gone", async () => {
    const raw = path.join(scratch, `raw-${Date.now()}.fits`);
    fs.writeFileSync(raw, "raw beam bytes");
    const { job } = processedJob(good.dir, raw);
    assert.deepEqual(deleteRawData(tracker, job, "results uploaded", log), { deleted: [raw], failed: [] });
    assert.equal(fs.existsSync(raw), false);
    assert.equal(tracker.filesOfJob(job)[0].status, "deleted");
    assert.deepEqual(deleteRawData(tracker, job, "again", log), { deleted: [], failed: [] }, "a deleted file is not deleted twice");
    db.prepare("UPDATE jobs SET status = 'terminal_failure' WHERE id = ?").run(job);
    assert.throws(() => tracker.retry(job), /raw data was deleted/);
  });

  describe("on PostgreSQL", function () {
    let server: PgServer;
    before(async function () {
      server = await requirePostgres(this);
    });
    after(async () => {
      await server?.destroy();
    });

    it("waits while the server is down, counting nothing, and stores the beam once when it is back", async () => {
      const url = await server.createDatabase(`loop_${Date.now()}`);
      const open = () => openResultsDb({ backend: "postgres", connectionString: url, connectTimeoutMs: 2000 });
      await (await open()).close(); // migrated while it is up
      await server.stop("immediate");
      const { job } = processedJob(good.dir);
      try {
        start(open);
        await waitFor(
          "two tries against the stopped server",
          () => tracker.uploads.ofJob(job).filter((u) => u.status === "db_unavailable").length >= 2,
          15_000,
        );
        assert.equal(tracker.job(job)!.status, "processed");
        assert.equal(tracker.job(job)!.upload_failures, 0, "a DB outage is not the beam's fault");
      } finally {
        await server.start();
      }
      await waitFor("the upload after the restart", () => tracker.job(job)!.status === "uploaded", 15_000);
      results = await open();
      assert.equal((await rowCounts(results)).uploads, 1);
      assert.equal((await rowCounts(results)).pdm_candidates, 2);
    });
  });
});
