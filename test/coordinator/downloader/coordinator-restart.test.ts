// The downloader inside a real coordinator process, against the reference archive on
// loopback: a coordinator killed (SIGKILL) mid-download comes back, re-verifies what
// its transfers left, resumes the partial file from where it stopped (the archive's
// Range log says so) and does not download a finished file again; `beamflow requests`
// and `beamflow downloads` show it all, the status page's data has the queue and the
// budget, and each downloaded beam gets its job (test/downloader/search-downloaded.test.ts
// searches them with the real PRESTO).
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { BIN, Cluster, waitFor } from "../../support/cluster";
import { type ReferenceArchive, startReferenceArchive } from "../../support/reference-archive";

const MiB = 1 << 20;

describe("downloader in a coordinator killed mid-download", function () {
  this.timeout(150_000);
  let cluster: Cluster | undefined;
  let archive: ReferenceArchive | undefined;
  let src: string | undefined;

  afterEach(async () => {
    await cluster?.close();
    await archive?.close();
    if (src) fs.rmSync(src, { recursive: true, force: true });
  });

  it("recovers without downloading finished files again and resumes the partial one", async () => {
    src = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "beamflow-archive-"));
    const beams = [0, 1, 2].map((i) => {
      const f = path.join(src!, `beam${i}.fits`);
      fs.writeFileSync(f, crypto.randomBytes(6 * MiB));
      return [f];
    });
    archive = await startReferenceArchive({ beams });
    archive.faults.bytesPerSecond = 3 * MiB; // two seconds per file: time to kill mid-file
    cluster = await Cluster.create({
      jobs: { type: "commands", commands: [{ name: "size", argv: ["stat", "-c", "%s", "{files}"] }] },
      downloader: {
        sources: [{ name: "archive", type: "restore-api", url: archive.url }],
        numdownloads: 1,
        request_size: 3,
        poll_s: 0.2,
        retry_initial_s: 0.2,
        min_free_space: 0,
      },
    });
    await cluster.startCoordinator();
    // The CLI without blocking this process, whose archive must keep answering.
    const files = () => cluster!.cliAsync(["downloads", "--json"]);
    // Kill it once the first file is in place and the second is half-way (its partial file).
    const rawdata = path.join(cluster.dataDir, "rawdata");
    const partSize = () => {
      try {
        const p = fs.readdirSync(path.join(rawdata, ".partial")).find((n) => n.includes("beam1.fits"));
        return p ? fs.statSync(path.join(rawdata, ".partial", p)).size : 0;
      } catch {
        return 0;
      }
    };
    await waitFor("beam0 downloaded and beam1 half-way", () => fs.existsSync(path.join(rawdata, "beam0.fits")) && partSize() > 2 * MiB, 30000, 20);
    await Cluster.kill(cluster.coordinator, "SIGKILL");
    const before = archive.offsets.length;
    assert.equal(before, 2, "two transfers started before the kill");

    archive.faults.bytesPerSecond = 0;
    await cluster.startCoordinator();
    await cluster.waitForJobs((js) => js.length === 3, "a job for each of the three beams", 60000);

    // After the restart: no transfer of beam0 again; beam1 resumed from where the kill left it.
    const after = archive.offsets.slice(before);
    assert.ok(!after.some((o) => o.name === "beam0.fits"), `beam0 was not fetched again: ${JSON.stringify(after)}`);
    const resumed = after.find((o) => o.name === "beam1.fits");
    assert.ok(resumed && resumed.via === "range" && resumed.start > 2 * MiB, `beam1 resumed with a Range: ${JSON.stringify(after)}`);

    const listing = JSON.parse((await files()).stdout) as { downloads: { name: string; status: string; resumedFrom: number; details: string }[] };
    const beam1 = listing.downloads.filter((d) => d.name === "beam1.fits");
    assert.deepEqual(
      beam1.map((d) => d.status),
      ["downloaded", "unknown"],
      "the interrupted attempt is unknown (its worker vanished), the next one resumed",
    );
    assert.ok(beam1[0].resumedFrom > 2 * MiB);
    assert.match(beam1[1].details, /vanished/);

    const req = await cluster.cliAsync(["requests"]);
    assert.equal(req.status, 0, req.stderr);
    assert.match(req.stdout, /cleaned_up/);
    assert.match(req.stdout, /3 \(3\/0\/0\)/);

    // The status page's data has the download queue and the space budget.
    const listening = cluster
      .coordinator!.stderr.map((l) => JSON.parse(l) as { url?: string; msg: string })
      .reverse()
      .find((l) => l.msg === "status page and metrics listening");
    const token = fs.readFileSync(path.join(cluster.dataDir, "admin.token"), "utf8").trim();
    const snap = (await (await fetch(`${listening!.url}/api/snapshot`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      downloads: { budget: { spaceToUse: number; used: number }; active: unknown[]; requests: unknown[] };
    };
    assert.equal(snap.downloads.budget.spaceToUse, 60 * 2 ** 30);
    assert.equal(snap.downloads.budget.used, 3 * 6 * MiB);
    assert.deepEqual(snap.downloads.active, []);

    // `add-files --watch DIR` registers what lands in DIR once it stops growing, until interrupted.
    const inbox = path.join(cluster.dir, "inbox");
    fs.mkdirSync(inbox);
    const watcher = spawn(process.execPath, [BIN, "--config", cluster.configPath, "add-files", "--watch", inbox, "--stable-s", "0.3"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let watchOut = "";
    watcher.stdout!.on("data", (d: Buffer) => {
      watchOut += d.toString();
    });
    try {
      fs.writeFileSync(path.join(inbox, "dropped-in.fits"), crypto.randomBytes(4096));
      await cluster.waitForJobs((js) => js.length === 4, "a job for the file dropped into the watched dir", 30000);
      await waitFor("the watcher to say so", () => /added .*dropped-in\.fits/.test(watchOut));
    } finally {
      const exited = new Promise((r) => watcher.once("exit", r));
      watcher.kill("SIGINT");
      await exited;
    }
  });
});
