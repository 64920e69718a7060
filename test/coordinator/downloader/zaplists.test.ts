// Zaplists that follow the archive: fetched when they change (ETag, 304 otherwise),
// versioned in the tracker, used by the searches assigned from then on, and the version
// named in what the search is sent (its results' provenance).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ArchiveClient } from "../../../coordinator/downloader/archive-client";
import { ZaplistFollower } from "../../../coordinator/downloader/zaplists";
import { SearchSpecs } from "../../../coordinator/search/search-spec";
import { createTarball } from "../../../shared/files/tarball";
import { createLogger } from "../../../shared/logging/logger";
import { waitFor } from "../../support/cluster";
import { makeBeams, type Rig, rig } from "./helpers";

async function tarballOf(dir: string, text: string): Promise<Buffer> {
  const src = fs.mkdtempSync(path.join(dir, "z-"));
  fs.writeFileSync(path.join(src, "default.zaplist"), text);
  const out = path.join(src, "zaplists.tar.gz");
  await createTarball(out, src, ["default.zaplist"]);
  return fs.readFileSync(out);
}

describe("downloader: zaplists that follow the archive", function () {
  this.timeout(30_000);
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it("fetches them when they change, versions them, and searches are sent the newest with its version", async () => {
    r = await rig((d) => makeBeams(d, 1, 1024), {}, {}, { zaplists: true });
    r.archive.setZaplists(await tarballOf(r.dir, "# first\nB 60.0 0.5\n"));
    const follower = new ZaplistFollower("archive", new ArchiveClient({ url: r.archive.url }), r.tracker, r.config.data_dir, createLogger("z", "silent"), 0);
    assert.equal(await follower.check(true), 1);
    assert.equal(await follower.check(true), null, "unchanged: a 304, no new version");
    assert.equal(r.archive.calls.filter((c) => c === "GET /api/v1/zaplists").length, 2);
    r.archive.setZaplists(await tarballOf(r.dir, "# second\nB 50.0 0.5\nB 100.0 0.5\n"));
    assert.equal(await follower.check(true), 2);
    const v = r.tracker.downloads.latestZaplist("archive")!;
    assert.equal(v.id, 2);
    assert.ok(fs.existsSync(v.path));

    let ready = 0;
    const specs = new SearchSpecs(
      r.config,
      () => ready++,
      () => r!.tracker.downloads.latestZaplist(),
    );
    assert.equal(specs.get(1, "beam00", {}), undefined, "prepared in the background");
    await waitFor("the spec", () => ready > 0);
    const spec = specs.get(1, "beam00", {})!;
    assert.match(spec.zaplist!.text, /# second/);
    assert.match(spec.zaplist!.source, /archive archive zaplists version 2 \(sha256 [0-9a-f]{16}…\)/);
    assert.equal(specs.zaplistVersion(1), 2);
  });

  it("an archive without zaplists or with garbage is a classified error, and the version held stays", async () => {
    r = await rig((d) => makeBeams(d, 1, 1024));
    const follower = new ZaplistFollower("archive", new ArchiveClient({ url: r.archive.url }), r.tracker, r.config.data_dir, createLogger("z", "silent"), 0);
    assert.equal(await follower.check(true), null);
    assert.match(follower.lastError, /bad_answer: GET \/zaplists: HTTP 404/);
    r.archive.setZaplists(Buffer.from("not a tarball"));
    assert.equal(await follower.check(true), null);
    assert.match(follower.lastError, /not a gzip file/);
    assert.equal(r.tracker.downloads.latestZaplist(), undefined);
  });

  it("the downloader fetches them on its passes", async () => {
    r = await rig((d) => makeBeams(d, 1, 1024), {}, {}, { zaplists: true });
    r.archive.setZaplists(await tarballOf(r.dir, "B 60.0 0.5\n"));
    await r.downloader.start();
    await waitFor("a zaplist version", () => r!.tracker.downloads.latestZaplist("archive"));
  });
});
