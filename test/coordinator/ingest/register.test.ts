// registerFiles against a real tracker file and real files on disk.
// The Mock halves and combine_mocks' output are the real fixtures in
// test/fixtures/psrfits/ (copied from shared/fixtures/presto/mock_split). Every
// other file here is a small DUMMY made by dummy(): only its name matters.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Database from "better-sqlite3";
import { defaultConfig } from "../../../shared/config/load";
import type { Config, ConfigInput } from "../../../shared/config/schema";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker, type FileRow, type JobRow } from "../../../coordinator/tracker/tracker";
import { ADDED_DETAILS, AddFilesError, hashFile, registerFiles } from "../../../coordinator/ingest/register";

const FIXTURES = path.resolve(__dirname, "../../fixtures/psrfits");
const S0 = path.join(FIXTURES, "p2030.20230225.G037.00-00.10.C.b0s0g0.00000.fits");
const S1 = path.join(FIXTURES, "p2030.20230225.G037.00-00.10.C.b0s1g0.00000.fits");
const COMBINED = path.join(FIXTURES, "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits");
const MERGED_BEAM = "p2030.20230225.G037.00-00.10.C.b0.00000";

const sha256Of = (p: string) => crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");

describe("ingest/register: registerFiles", () => {
  let tmp: string;
  let db: Database.Database;
  let tracker: Tracker;
  let config: Config;

  const counts = () => ({
    files: (db.prepare("SELECT COUNT(*) AS n FROM files").get() as { n: number }).n,
    jobs: (db.prepare("SELECT COUNT(*) AS n FROM jobs").get() as { n: number }).n,
    job_files: (db.prepare("SELECT COUNT(*) AS n FROM job_files").get() as { n: number }).n,
  });
  const fileRow = (p: string) => db.prepare("SELECT * FROM files WHERE filename = ?").get(p) as FileRow | undefined;
  const jobs = () => db.prepare("SELECT * FROM jobs ORDER BY id").all() as JobRow[];
  const fileIdsOfJob = (id: number) =>
    (db.prepare("SELECT file_id FROM job_files WHERE job_id = ? ORDER BY id").all(id) as { file_id: number }[]).map((r) => r.file_id);
  /** A small dummy file with the given name (not real data: only the name is used). */
  const dummy = (name: string, dir = tmp) => {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, `DUMMY file for a beamflow ingest test, not real data: ${name}\n`);
    return p;
  };
  // Commands jobs unless a test says otherwise: a palfa-search beam must be searchable PSRFITS (the dummies are not),
  // and long enough (the fixtures are 1 s long).
  const configWith = (overrides: ConfigInput) => defaultConfig(tmp, { jobs: { type: "commands" }, search: { low_T_to_search: 0.5 }, ...overrides });

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-ingest-"));
    const dbPath = path.join(tmp, "tracker.db");
    assert.equal(createTracker(dbPath), true);
    db = openTracker(dbPath);
    tracker = new Tracker(db);
    config = configWith({
      dispatch: { shm_factor: 2.5, cores_per_beam: 2, memory_per_beam: "1GiB" },
      jobs: { type: "commands", commands: [{ name: "list", argv: ["ls", "-l", "{files}"] }] },
    });
  });
  afterEach(() => {
    db.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("groups the real Mock fixture halves into one job named after the merged beam", async () => {
    const r = await registerFiles(tracker, [S1, S0], config);
    assert.deepEqual(
      r.added.map((a) => a.path),
      [S1, S0],
    );
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(r.rejected, []);
    assert.deepEqual(r.waiting, []);
    assert.equal(r.jobsCreated.length, 1);
    assert.deepEqual(counts(), { files: 2, jobs: 1, job_files: 2 });

    const [job] = jobs();
    assert.equal(job.id, r.jobsCreated[0]);
    assert.equal(job.beam, MERGED_BEAM);
    assert.equal(job.status, "new");
    assert.equal(job.job_type, "commands");
    assert.deepEqual(JSON.parse(job.spec_json), { commands: config.jobs.commands });
    assert.deepEqual(fileIdsOfJob(job.id), [fileRow(S0)!.id, fileRow(S1)!.id], "s0 first, then s1");
    for (const p of [S0, S1]) {
      const row = fileRow(p)!;
      assert.equal(row.status, "downloaded");
      assert.equal(row.details, ADDED_DETAILS);
      assert.equal(row.details, "added by add-files");
      assert.equal(row.request_id, null);
      assert.equal(row.size, fs.statSync(p).size);
      assert.equal(row.sha256, sha256Of(p));
    }
  });

  it("reserves cores and memory from the config and shm = ceil(bytes of the beam × shm_factor)", async () => {
    const r = await registerFiles(tracker, [S0, S1], config);
    const job = tracker.job(r.jobsCreated[0])!;
    const bytes = fs.statSync(S0).size + fs.statSync(S1).size;
    assert.equal(bytes, 599040);
    assert.equal(job.shm, Math.ceil(bytes * 2.5));
    assert.equal(job.cores, 2);
    assert.equal(job.memory, 2 ** 30);

    // A factor that leaves a fraction rounds up.
    const db2 = path.join(tmp, "t2.db");
    createTracker(db2);
    const other = new Tracker(openTracker(db2));
    try {
      const r2 = await registerFiles(other, [COMBINED], configWith({ dispatch: { shm_factor: 1.0001 } }));
      const size = fs.statSync(COMBINED).size;
      assert.equal(other.job(r2.jobsCreated[0])!.shm, Math.ceil(size * 1.0001));
      assert.notEqual(size * 1.0001, Math.ceil(size * 1.0001));
    } finally {
      other.close();
    }
  });

  it("lets s0 alone wait, and creates the job when a later call adds s1", async () => {
    const first = await registerFiles(tracker, [S0], config);
    assert.equal(first.added.length, 1);
    assert.deepEqual(first.jobsCreated, []);
    assert.deepEqual(first.waiting, [`${MERGED_BEAM} (mock): have s0, missing s1`]);
    assert.deepEqual(counts(), { files: 1, jobs: 0, job_files: 0 });

    const second = await registerFiles(tracker, [S1], config);
    assert.deepEqual(
      second.added.map((a) => a.path),
      [S1],
    );
    assert.equal(second.jobsCreated.length, 1);
    assert.deepEqual(second.waiting, []);
    assert.deepEqual(counts(), { files: 2, jobs: 1, job_files: 2 });
    assert.deepEqual(fileIdsOfJob(second.jobsCreated[0]), [fileRow(S0)!.id, fileRow(S1)!.id]);
  });

  it("skips and reports a file registered already (same absolute path), creating nothing twice", async () => {
    await registerFiles(tracker, [S0, S1], config);
    const before = counts();
    const relative = path.relative(process.cwd(), S0);
    const again = await registerFiles(tracker, [relative, S1], config);
    assert.deepEqual(again.skipped, [S0, S1]);
    assert.deepEqual(again.added, []);
    assert.deepEqual(again.jobsCreated, []);
    assert.deepEqual(counts(), before);
  });

  it("registers a path given twice in one call once", async () => {
    const r = await registerFiles(tracker, [COMBINED, COMBINED, path.join(FIXTURES, ".", path.basename(COMBINED))], config);
    assert.equal(r.added.length, 1);
    assert.deepEqual(counts(), { files: 1, jobs: 1, job_files: 1 });
  });

  it("stores the SHA-256 of the contents, across read-chunk boundaries and for an empty file", async () => {
    const big = path.join(tmp, "random-bytes.bin");
    fs.writeFileSync(big, crypto.randomBytes(3 * 65536 + 123));
    const empty = path.join(tmp, "empty.bin");
    fs.writeFileSync(empty, "");
    const r = await registerFiles(tracker, [big, empty, S0], { ...config, readChunkBytes: 65536 });
    for (const p of [big, empty, S0]) {
      const a = r.added.find((x) => x.path === p)!;
      assert.equal(a.sha256, sha256Of(p), p);
      assert.equal(a.size, fs.statSync(p).size, p);
      assert.equal(fileRow(p)!.sha256, sha256Of(p));
    }
    assert.equal(r.added.find((x) => x.path === empty)!.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.deepEqual(await hashFile(big, 1000), { size: 3 * 65536 + 123, sha256: sha256Of(big) });
  });

  it("makes each WAPP and merged Mock file a job of its own", async () => {
    const wapp = dummy("p2030_53478_41423_0123_G45.01+00.12_3.w4bit.fits");
    const merged = dummy(`${MERGED_BEAM}.fits`);
    const r = await registerFiles(tracker, [wapp, merged], config);
    assert.equal(r.jobsCreated.length, 2);
    assert.deepEqual(
      jobs().map((j) => [j.beam, fileIdsOfJob(j.id)]),
      [
        ["p2030_53478_41423_0123_G45.01+00.12_3", [fileRow(wapp)!.id]],
        [MERGED_BEAM, [fileRow(merged)!.id]],
      ],
    );
  });

  it("groups by a configured rule with members, and uses the default rule for other names", async () => {
    const cfg = configWith({ beams: { rules: [{ name: "halves", regex: "^(?<beam>obs\\d+)_part(?<member>[ab])\\.dat$", members: ["a", "b"] }] } });
    const a = dummy("obs5_parta.dat");
    const first = await registerFiles(tracker, [a, COMBINED], cfg);
    // The real combine_mocks output name matches no PALFA kind: the default rule makes it one beam.
    assert.deepEqual(
      jobs().map((j) => j.beam),
      ["p2030.20230225.G037.00-00.10.C.b0g0_0001"],
    );
    assert.deepEqual(first.waiting, ["obs5 (halves): have a, missing b"]);
    const b = dummy("obs5_partb.dat");
    const second = await registerFiles(tracker, [b], cfg);
    assert.equal(second.jobsCreated.length, 1);
    assert.equal(tracker.job(second.jobsCreated[0])!.beam, "obs5");
    assert.deepEqual(fileIdsOfJob(second.jobsCreated[0]), [fileRow(a)!.id, fileRow(b)!.id]);
  });

  it("gives a palfa-search job the parameters given for it, and nothing else", async () => {
    const r = await registerFiles(tracker, [S0, S1], { ...configWith({ jobs: { type: "palfa-search" } }), searchOverrides: { low_DM_cutoff: 1.0 } });
    const job = tracker.job(r.jobsCreated[0])!;
    assert.equal(job.job_type, "palfa-search");
    assert.deepEqual(JSON.parse(job.spec_json), { params: { low_DM_cutoff: 1.0 } });
  });

  it("rejects beam 7 with the reason and registers nothing for it", async () => {
    const b7 = dummy("p2030.20230225.G037.00-00.10.C.b7s0g0.00000.fits");
    const r = await registerFiles(tracker, [b7], config);
    assert.deepEqual(r.added, []);
    assert.equal(r.rejected.length, 1);
    assert.equal(r.rejected[0].path, b7);
    assert.match(r.rejected[0].reason, /beam 7 is not an ALFA beam/);
    assert.deepEqual(counts(), { files: 0, jobs: 0, job_files: 0 });
  });

  it("rejects a second file for a beam's member that is tracked already (PALFA refused a tracked name)", async () => {
    await registerFiles(tracker, [S0], config);
    const copy = dummy(`4bit-${path.basename(S0)}`, path.join(tmp, "elsewhere"));
    const r = await registerFiles(tracker, [copy, S1], config);
    assert.deepEqual(
      r.rejected.map((x) => x.path),
      [copy],
    );
    assert.match(r.rejected[0].reason, new RegExp(`has its s0 file already: ${S0.replace(/[.]/g, "\\.")}`));
    assert.deepEqual(fileIdsOfJob(r.jobsCreated[0]), [fileRow(S0)!.id, fileRow(S1)!.id]);
  });

  it("rejects a file whose name is tracked already under another path, as PALFA's can_add_file", async () => {
    await registerFiles(tracker, [COMBINED], config);
    const sameName = dummy(path.basename(COMBINED), path.join(tmp, "copy"));
    const other = dummy(`${MERGED_BEAM}.fits`, path.join(tmp, "a"));
    const otherAgain = dummy(`${MERGED_BEAM}.fits`, path.join(tmp, "b"));
    const r = await registerFiles(tracker, [sameName, other, otherAgain], config);
    assert.deepEqual(
      r.added.map((a) => a.path),
      [other],
    );
    assert.deepEqual(
      r.rejected.map((x) => x.path),
      [sameName, otherAgain],
    );
    assert.match(r.rejected[0].reason, /a file of the same name is tracked already: .*b0g0_0001\.fits \(file 1, downloaded\)/);
    assert.match(r.rejected[1].reason, /a file of the same name is tracked already: .*\/a\/.*\(given in this call too\)$/);
    assert.deepEqual(counts(), { files: 2, jobs: 2, job_files: 2 });
  });

  describe("bad paths: one clear error, nothing registered", () => {
    async function expectRefused(paths: string[], bad: string, reason: RegExp): Promise<void> {
      const before = counts();
      await assert.rejects(registerFiles(tracker, paths, config), (err: unknown) => {
        assert.ok(err instanceof AddFilesError, String(err));
        assert.equal(err.problems.length, 1);
        assert.equal(err.problems[0].path, bad);
        assert.match(err.problems[0].reason, reason);
        assert.ok(err.message.includes(bad), err.message);
        assert.match(err.message, /nothing was registered/);
        return true;
      });
      assert.deepEqual(counts(), before);
      assert.deepEqual(counts(), { files: 0, jobs: 0, job_files: 0 });
    }

    it("a missing file", async () => {
      const missing = path.join(tmp, "no-such.fits");
      await expectRefused([S0, S1, missing], missing, /^no such file$/);
    });

    it("a broken symbolic link", async () => {
      const link = path.join(tmp, "dangling.fits");
      fs.symlinkSync(path.join(tmp, "gone.fits"), link);
      await expectRefused([S0, link], link, /symbolic link to a missing file/);
    });

    it("a directory", async () => {
      const dir = path.join(tmp, "a-directory");
      fs.mkdirSync(dir);
      await expectRefused([S0, S1, dir], dir, /^is a directory/);
    });

    it("a FIFO", async () => {
      const fifo = path.join(tmp, "pipe.fits");
      execFileSync("mkfifo", [fifo]);
      await expectRefused([S0, fifo], fifo, /not a regular file/);
    });

    it("a file without read permission (chmod 000)", async function () {
      const locked = dummy("locked.fits");
      fs.chmodSync(locked, 0o000);
      let readable = true;
      try {
        fs.closeSync(fs.openSync(locked, "r"));
      } catch {
        readable = false;
      }
      // As root (or with CAP_DAC_OVERRIDE) mode 000 does not stop reads, so there
      // is nothing to refuse; the next test covers an unreadable file for root.
      if (readable) this.skip();
      await expectRefused([S0, S1, locked], locked, /not readable \(permission denied\)/);
    });

    it("a file whose reading fails (EIO from /proc/self/mem, unreadable even for root)", async function () {
      if (!fs.existsSync("/proc/self/mem")) this.skip();
      await expectRefused([S0, S1, "/proc/self/mem"], "/proc/self/mem", /^read failed \(EIO\)$/);
    });

    it("several bad paths are all named in the one error", async () => {
      const missing = path.join(tmp, "missing.fits");
      await assert.rejects(registerFiles(tracker, [S0, missing, tmp], config), (err: unknown) => {
        assert.ok(err instanceof AddFilesError);
        assert.deepEqual(
          err.problems.map((p) => p.path),
          [missing, tmp],
        );
        assert.match(err.message, /cannot add 2 files; nothing was registered:\n {2}- .*missing\.fits: no such file\n {2}- .*: is a directory/);
        return true;
      });
      assert.deepEqual(counts(), { files: 0, jobs: 0, job_files: 0 });
    });
  });
});
