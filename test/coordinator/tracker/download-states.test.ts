// PALFA's request, file and download-attempt state machines as guarded moves on a real
// tracker: each move starts only from the states its table row names, and PALFA's bugs
// stay fixed (a failed file settles its request; failures retry with backoff; a vanished
// transfer is re-verified, not lost).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker } from "../../../coordinator/tracker/tracker";
import { IllegalTransition } from "../../../coordinator/tracker/transitions";
import { DOWNLOAD_ATTEMPT_TRANSITIONS, DOWNLOAD_FILE_TRANSITIONS, REQUEST_TRANSITIONS } from "../../../coordinator/tracker/download-states";

describe("tracker: download state machines", () => {
  let dir: string;
  let t: Tracker;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-dlstates-"));
    const db = path.join(dir, "tracker.db");
    createTracker(db);
    t = new Tracker(openTracker(db));
  });
  afterEach(() => {
    t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const file = (requestId: number, name: string) => ({
    requestId,
    source: "archive",
    remoteName: name,
    remoteUrl: `http://127.0.0.1:1/${name}`,
    filename: path.join(dir, name),
    size: 100,
    sha256: null,
  });

  it("every table row starts from states of its own machine", () => {
    for (const t of Object.values(REQUEST_TRANSITIONS)) assert.ok(t.from.length > 0 && !t.owner);
    for (const t of Object.values(DOWNLOAD_FILE_TRANSITIONS)) assert.ok(t.from.length > 0);
    for (const t of Object.values(DOWNLOAD_ATTEMPT_TRANSITIONS)) assert.ok(t.from.length > 0);
  });

  it("a request: asked, ready with its files, settled only when every file is, a failed file included", () => {
    const d = t.downloads;
    const r = d.beginRequest("archive", 2, "mock", 4);
    assert.throws(() => d.moveRequest("ready", r, { size: 0, details: "" }), IllegalTransition, "not ready before it was asked for");
    d.moveRequest("asked", r, { guid: "g1", numrequested: 2 });
    const [a, b] = d.restoreReady(r, [file(r, "a.fits"), file(r, "b.fits")], "2 files");
    assert.equal(d.settle(r), false, "files pending");
    const attempt = d.startAttempt(a, 0);
    d.moveAttempt("succeed", attempt, { bytes: 100 });
    d.moveFile("downloaded", a, { sha256: "x", details: "" });
    assert.equal(d.settle(r), false, "b still pending");
    // b fails for good on its first counted failure with numretries 1.
    d.startAttempt(b, 0);
    assert.equal(
      d.transferFailed(null, b, { errorClass: "size_mismatch", details: "short", bytes: 10, verification: true }, 1, () => 1),
      "terminal_failure",
    );
    assert.equal(d.settle(r), true, "a file that failed for good settles its request (PALFA's never did)");
    d.moveRequest("cleanUp", r);
    assert.equal(d.request(r)!.status, "cleaned_up");
  });

  it("a failed request retries with backoff, then fails for good; an archive that says it failed ends it at once", () => {
    const d = t.downloads;
    const r = d.beginRequest("archive", 1, "mock", 4);
    const before = Date.now() / 1000;
    assert.equal(
      d.requestFailed(r, "unreachable", "refused", 2, (n) => 30 * n),
      "retrying",
    );
    const row = d.request(r)!;
    assert.equal(row.attempts, 1);
    assert.ok(row.next_try_at! >= before + 30);
    assert.deepEqual(d.dueRequests("archive"), [], "not due before its backoff");
    assert.equal(
      d.requestFailed(r, "bad_answer", "garbage", 2, () => 1),
      "failed",
    );
    const r2 = d.beginRequest("archive", 1, "mock", 4);
    d.moveRequest("asked", r2, { guid: "g2", numrequested: 1 });
    assert.equal(
      d.requestFailed(r2, "archive_failed", "tape error", 9, () => 1),
      "failed",
    );
  });

  it("a disk_full failure is not counted; a vanished transfer's file is re-verified (unverified), then resumed", () => {
    const d = t.downloads;
    const r = d.beginRequest("archive", 1, "mock", 4);
    d.moveRequest("asked", r, { guid: "g3", numrequested: 1 });
    const [f] = d.restoreReady(r, [file(r, "c.fits")], "");
    const a1 = d.startAttempt(f, 0);
    assert.equal(
      d.transferFailed(a1, f, { errorClass: "disk_full", details: "ENOSPC", bytes: 50, verification: false }, 1, () => 0),
      "retrying",
    );
    assert.equal(d.file(f)!.tries, 0);
    const a2 = d.startAttempt(f, 50);
    const orphans = d.orphanRunning();
    assert.deepEqual(
      orphans.map((o) => [o.attempt.id, o.attempt.status, o.file.status]),
      [[a2, "unknown", "unverified"]],
    );
    d.moveFile("resume", f, { details: "50 bytes on disk" });
    assert.equal(d.file(f)!.status, "retrying");
    assert.throws(() => d.moveFile("resume", f, { details: "" }), IllegalTransition);
  });
});
