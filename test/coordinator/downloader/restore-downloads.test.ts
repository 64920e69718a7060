// The downloader against a real reference archive on loopback (HTTP API, files over
// HTTP or a real FTP server): restores asked for, polled, listed, downloaded in
// parallel within the space budget, verified by size and SHA-256, resumed after a
// dropped connection, fetched again when corrupt, and every failure classified on
// the request or the transfer, with nothing half-registered.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { partDir } from "../../../coordinator/downloader/transfers";
import { waitFor } from "../../support/cluster";
import { downloaded, du, makeBeams, type Rig, rig } from "./helpers";

const MiB = 1 << 20;

describe("downloader: restores from a reference archive", function () {
  this.timeout(60_000);
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  const requests = () => r!.tracker.downloads.listRequests();
  const attempts = () => r!.tracker.downloads.listAttempts();

  it("downloads 10 beams, numdownloads at once, never over the space budget, and deletes each restore once settled", async () => {
    const size = 2 * MiB;
    r = await rig((d) => makeBeams(d, 10, size), { numdownloads: 3, request_size: 4, max_restored: 6, space_to_use: 7 * size + MiB }, {}, {});
    r.archive.faults.bytesPerSecond = 16 * MiB; // each transfer takes ~125 ms: they overlap
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(du(r!.config.downloader.dir)), 20);
    // Downloaded beams are consumed (searched, then removed as delete_rawdata does), so the
    // budget frees up as they go; the 10 beams do not fit in space_to_use at once.
    const consumer = setInterval(() => {
      for (const f of r!.tracker.files.tracked()) {
        if (f.status !== "downloaded") continue;
        fs.rmSync(f.filename, { force: true });
        r!.tracker.markFileDeleted(f.id, "consumed by the test");
      }
    }, 150);
    try {
      await r.downloader.start();
      await waitFor(
        "10 files downloaded",
        () => r!.tracker.files.tracked().filter((f) => f.status === "downloaded" || f.status === "deleted").length === 10,
        30000,
        20,
      );
    } finally {
      clearInterval(sampler);
      clearInterval(consumer);
    }
    assert.ok(r.archive.maxActiveTransfers >= 2, `transfers ran in parallel (at most ${r.archive.maxActiveTransfers} at once)`);
    assert.ok(r.archive.maxActiveTransfers <= 3, `never more than numdownloads at once (${r.archive.maxActiveTransfers})`);
    const max = Math.max(...samples);
    assert.ok(samples.length > 10, "sampled while running");
    assert.ok(max <= r.config.downloader.space_to_use, `at most space_to_use on disk: ${max} > ${r.config.downloader.space_to_use}`);
    assert.equal(r.jobs.length, 10, "a job per downloaded beam");
    // Every attempt fetched its file whole, once; every listed file was verified by SHA-256.
    assert.deepEqual(
      attempts().map((a) => [a.status, a.resumed_from, a.bytes]),
      Array.from({ length: 10 }, () => ["downloaded", 0, size]),
    );
    assert.ok(r.archive.offsets.every((o) => o.start === 0));
    await waitFor(
      "the restores deleted on the archive",
      () => requests().every((q) => q.status === "cleaned_up" || q.status === "requesting" || q.status === "waiting") && r!.archive.deleted.length >= 3,
    );
    const withFiles = requests().filter((q) => q.files > 0);
    assert.equal(
      withFiles.reduce((n, q) => n + q.files, 0),
      10,
    );
    assert.ok(withFiles.every((q) => q.numrequested! <= 4));
    assert.deepEqual(fs.readdirSync(partDir(r.config.downloader.dir)), [], "no partial file left");
  });

  it("a corrupted transfer fails its SHA-256 and is fetched again", async () => {
    r = await rig((d) => makeBeams(d, 1, 3 * MiB));
    r.archive.faults.corrupt = { times: 1 };
    await r.downloader.start();
    await downloaded(r, 1);
    const [ok, bad] = attempts();
    assert.equal(bad.status, "verification_failed");
    assert.equal(bad.error_class, "checksum");
    assert.equal(ok.status, "downloaded");
    assert.equal(ok.resumed_from, 0, "corrupt bytes are fetched again from zero");
    const file = r.tracker.downloads.file(ok.file_id)!;
    assert.equal(file.tries, 1, "the corrupt transfer counted");
    assert.equal(file.sha256, r.archive.restores.values().next().value!.files[0].sha256);
  });

  for (const transport of ["http", "ftp"] as const) {
    it(`a server that drops the connection mid-file is resumed (${transport === "http" ? "HTTP Range" : "FTP REST"}), not restarted`, async () => {
      r = await rig((d) => makeBeams(d, 1, 4 * MiB), {}, { transport });
      r.archive.faults.dropAfter = { bytes: 1536 * 1024, times: 1 };
      await r.downloader.start();
      await downloaded(r, 1);
      const [ok, dropped] = attempts();
      assert.equal(dropped.status, "download_failed");
      assert.equal(dropped.error_class, "dropped");
      assert.ok(ok.resumed_from > 0, "the second try started from the bytes on disk");
      assert.equal(ok.resumed_from, dropped.bytes);
      const resumed = r.archive.offsets.filter((o) => o.start > 0);
      assert.deepEqual(
        resumed.map((o) => [o.via, o.start]),
        [[transport === "http" ? "range" : "rest", ok.resumed_from]],
        "the archive saw one resumed transfer, from where the first stopped",
      );
      assert.equal(r.tracker.downloads.file(ok.file_id)!.sha256, r.archive.restores.values().next().value!.files[0].sha256);
    });
  }

  it("an archive answering garbage: the request retries with backoff as bad_answer, then fails for good; nothing registered", async () => {
    r = await rig((d) => makeBeams(d, 1, MiB), { request_retries: 3 });
    r.archive.faults.garbage = true;
    await r.downloader.start();
    const q = await waitFor("the request to fail for good", () => requests().find((x) => x.status === "failed"));
    assert.equal(q.error_class, "bad_answer");
    assert.equal(q.attempts, 3);
    assert.match(q.details, /not JSON/);
    assert.equal(r.tracker.files.tracked().length, 0);
  });

  it("a request whose restore fails is retried, and a failed one never blocks the next", async () => {
    r = await rig((d) => makeBeams(d, 1, MiB), { request_retries: 5 });
    r.archive.faults.pendingPolls = 0;
    r.archive.faults.garbage = true;
    await r.downloader.start();
    await waitFor("a retrying request", () => requests().find((x) => x.status === "retrying" && x.attempts >= 1));
    r.archive.faults.garbage = false; // the archive mends: the same request goes on
    await downloaded(r, 1);
    const q = requests().find((x) => x.files === 1)!;
    assert.ok(q.attempts >= 1);
    assert.equal(q.error_class, "");
  });

  it("a file listed with the wrong size fails for good as size_mismatch; its request still finishes and its restore is deleted", async () => {
    r = await rig((d) => makeBeams(d, 2, MiB), { numretries: 2, request_size: 2 });
    r.archive.faults.wrongSize = { delta: 1000, names: ["beam00.fits"] };
    await r.downloader.start();
    await downloaded(r, 1);
    await waitFor("the request cleaned up", () => requests().find((x) => x.files === 2 && x.status === "cleaned_up"));
    const bad = r.tracker.files.tracked().find((f) => f.filename.endsWith("beam00.fits"))!;
    const f = r.tracker.downloads.file(bad.id)!;
    assert.equal(f.status, "terminal_failure");
    assert.equal(f.error_class, "size_mismatch");
    assert.equal(f.tries, 2);
    assert.equal(r.jobs.length, 1, "only the good beam got a job");
    assert.ok(!fs.existsSync(f.filename), "nothing of the bad file in place");
    assert.deepEqual(fs.readdirSync(partDir(r.config.downloader.dir)), [], "its partial file removed");
    assert.equal(r.archive.deleted.length >= 1, true);
  });

  it("an unreachable archive is a classified failure (unreachable) and the downloader keeps going when it returns", async () => {
    r = await rig((d) => makeBeams(d, 1, MiB), { request_retries: 10 });
    await r.archive.goDown();
    await r.downloader.start();
    const q = await waitFor("a failed ask", () => requests().find((x) => x.attempts >= 1));
    assert.equal(q.error_class, "unreachable");
    assert.match(q.details, /ECONNREFUSED|fetch failed/);
    await r.archive.comeBack();
    await downloaded(r, 1);
  });

  it("a full disk stops a transfer as disk_full, not counted; it resumes once there is room, nothing half-registered", async function () {
    if (process.getuid?.() !== 0) this.skip();
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-small-"));
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", mnt]);
    try {
      // The download dir on a small tmpfs: the budget sees 6 MiB free and starts the 4 MiB
      // file; then something else takes the space mid-transfer.
      r = await rig((d) => makeBeams(d, 1, 4 * MiB), { dir: mnt });
      r.archive.faults.bytesPerSecond = 8 * MiB;
      await r.downloader.start();
      await waitFor("the transfer to be under way", () => [...r!.downloader.transfers.active.values()].some((t) => t.bytes > 0));
      const filler = path.join(mnt, "filler");
      try {
        fs.writeFileSync(filler, Buffer.alloc(4 * MiB));
      } catch {
        /* it fills what it can */
      }
      const failed = await waitFor("a disk_full failure", () => attempts().find((a) => a.error_class === "disk_full"), 15000);
      assert.equal(failed.status, "download_failed");
      const f = r.tracker.downloads.file(failed.file_id)!;
      assert.equal(f.tries, 0, "not counted against the file");
      assert.equal(r.tracker.files.tracked().filter((x) => x.status === "downloaded").length, 0, "nothing registered");
      assert.equal(r.jobs.length, 0);
      fs.rmSync(filler, { force: true });
      await downloaded(r, 1);
    } finally {
      await r?.close().catch(() => {});
      r = undefined;
      execFileSync("umount", ["-l", mnt]);
      fs.rmdirSync(mnt);
    }
  });
});
