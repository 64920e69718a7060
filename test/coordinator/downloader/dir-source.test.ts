// A `dir` source: files that stop growing in a watched directory are registered as
// add-files registers them (hashed, grouped into beams, a job per complete beam); a file
// still being written waits, a rejected one is said why, none is registered twice.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Downloader } from "../../../coordinator/downloader/downloader";
import { StableFileWatcher } from "../../../coordinator/downloader/dir-watch";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker } from "../../../coordinator/tracker/tracker";
import { defaultConfig } from "../../../shared/config/load";
import type { ConfigInput } from "../../../shared/config/schema";
import { createLogger } from "../../../shared/logging/logger";
import { waitFor } from "../../support/cluster";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("downloader: a watched directory", function () {
  this.timeout(30_000);
  let dir: string;
  let tracker: Tracker | undefined;
  let downloader: Downloader | undefined;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-dir-"));
  });
  afterEach(async () => {
    await downloader?.stop();
    tracker?.close();
    downloader = undefined;
    tracker = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ["inotify", "polling"] as const) {
    it(`registers stable files as beams, a Mock pair as one, and waits for a file still growing (${mode})`, async () => {
      const incoming = path.join(dir, "incoming");
      fs.mkdirSync(incoming);
      const config = defaultConfig(path.join(dir, "data"), {
        jobs: { type: "commands", commands: [{ name: "true", argv: ["true"] }] },
        downloader: { sources: [{ name: "incoming", type: "dir", path: incoming, stable_s: 0.4, poll_s: mode === "polling" ? 0.1 : 0 }] },
      } as ConfigInput);
      createTracker(config.coordinator.db);
      tracker = new Tracker(openTracker(config.coordinator.db));
      const jobs: number[] = [];
      downloader = new Downloader(tracker, config, createLogger("dl", "silent"), (ids) => jobs.push(...ids));
      await downloader.start();
      const mock = (s: number) => path.join(incoming, `p2030.20230225.G037.00-00.10.C.b0s${s}g0.00000.fits`);
      fs.writeFileSync(path.join(incoming, "single.fits"), crypto.randomBytes(4096));
      fs.writeFileSync(mock(0), crypto.randomBytes(4096));
      fs.writeFileSync(path.join(incoming, ".hidden.part"), "partial upload");
      // A file still being written: it grows every 100 ms for a while.
      const growing = path.join(incoming, "growing.fits");
      fs.writeFileSync(growing, "x");
      const grower = setInterval(() => fs.appendFileSync(growing, crypto.randomBytes(1024)), 100);
      try {
        await waitFor("the single file registered", () => tracker!.files.tracked().some((f) => f.filename.endsWith("single.fits")), 10000);
        assert.ok(!tracker.files.tracked().some((f) => f.filename === growing), "a growing file is not registered");
        assert.equal(jobs.length, 1, "one beam complete; the Mock half waits for its pair");
        fs.writeFileSync(mock(1), crypto.randomBytes(4096));
        await waitFor("the Mock pair's job", () => jobs.length === 2, 10000);
      } finally {
        clearInterval(grower);
      }
      await waitFor("the grown file registered once it stopped", () => tracker!.files.tracked().some((f) => f.filename === growing), 10000);
      const rows = tracker.files.tracked();
      assert.equal(rows.length, 4);
      assert.ok(!rows.some((f) => f.filename.includes(".hidden")), "dot files are left alone");
      assert.equal(jobs.length, 3);
      // Beam 7 is refused (PALFA's can_add_file), said why, never registered.
      fs.writeFileSync(path.join(incoming, "p2030.20230225.G037.00-00.10.C.b7.00000.fits"), "beam seven");
      await waitFor("the refusal", () => downloader!.snapshot().dirProblems.length === 1, 10000);
      assert.match(downloader.snapshot().dirProblems[0].why, /beam 7/);
      await sleep(500);
      assert.equal(tracker.files.tracked().length, 4, "nothing registered twice, nothing refused registered");
    });
  }

  it("the watcher reports a file once, and again only when it changes", async () => {
    const seen: string[][] = [];
    const w = new StableFileWatcher(dir, { stableS: 0.2, pollS: 0.05, onStable: async (p) => void seen.push(p.map((x) => path.basename(x))) });
    w.start();
    try {
      fs.writeFileSync(path.join(dir, "a.fits"), "a");
      await waitFor("a reported", () => seen.length === 1);
      await sleep(400);
      assert.deepEqual(seen, [["a.fits"]]);
      fs.appendFileSync(path.join(dir, "a.fits"), "more");
      await waitFor("a reported again", () => seen.length === 2);
    } finally {
      w.stop();
    }
  });
});
