// End to end, with the real PRESTO (/opt/presto): a synthetic Mock beam pair with a known
// pulsar restored from the reference archive (its files over FTP), downloaded, verified
// and registered by a real coordinator's downloader, grouped into one beam, searched by a
// real agent and uploaded; the pulsar comes out on top. A few minutes on two cores, so it
// runs apart from `npm test`: `npm run test:downloads-e2e`.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { readAccelcandsFile } from "../../../shared/presto";
import { writeSynthBeam } from "../../../shared/synth";
import { call } from "../../../cli/admin-client";
import { Cluster } from "../../support/cluster";
import { PRESTO_PREFIX, requirePresto } from "../../support/presto";
import { type ReferenceArchive, startReferenceArchive } from "../../support/reference-archive";

const PLAN = [{ lodm: 0, dmstep: 2, dms_per_call: 16, calls: 2, nsub: 33, downsamp: 4 }];

describe("downloaded beams are searched and uploaded (real PRESTO)", function () {
  this.timeout(900_000);
  let cluster: Cluster | undefined;
  let archive: ReferenceArchive | undefined;
  const shm = `/dev/shm/beamflow-dl-e2e-${process.pid}`;
  let src: string | undefined;

  afterEach(async () => {
    await cluster?.close();
    await archive?.close();
    if (src) fs.rmSync(src, { recursive: true, force: true });
    fs.rmSync(shm, { recursive: true, force: true });
  });

  it("restores a Mock pair over FTP, downloads it, searches it and uploads the pulsar on top", async function () {
    requirePresto(this);
    src = fs.mkdtempSync(path.join(fs.realpathSync("/tmp"), "beamflow-archive-"));
    const pulsar = { periodS: 0.1931, dm: 37, snr: 25 };
    const made = writeSynthBeam({ nchan: 34, lengthS: 21, mock: true, beam: 3, seed: 12, pulsar }, src);
    archive = await startReferenceArchive({ beams: [made.files.map((f) => f.path)], transport: "ftp" });
    archive.faults.dropAfter = { bytes: 1 << 20, times: 1 }; // and one transfer resumed on the way
    cluster = await Cluster.create({
      jobs: { type: "palfa-search" },
      dispatch: { cores_per_beam: 2, memory_per_beam: 0 },
      search: { ddplan_source: "explicit", ddplan: PLAN },
      downloader: {
        sources: [{ name: "archive", type: "restore-api", url: archive.url }],
        request_size: 1,
        poll_s: 0.5,
        retry_initial_s: 0.5,
        min_free_space: 0,
      },
    });
    await cluster.startCoordinator();
    await cluster.startAgent("node1", { cores: 2, work_base: shm, scratch_dir: path.join(cluster.dir, "scratch"), toolchain: { prefix: PRESTO_PREFIX } });
    const [job] = await cluster.waitForJobs(
      (js) => js.length === 1 && ["uploaded", "upload_failed", "terminal_failure"].includes(js[0].status),
      "the beam searched and uploaded",
      840_000,
    );
    const a = cluster.admin();
    const detail = await call(a, a.client.getJob, { id: job.id });
    assert.equal(job.status, "uploaded", `${job.details}\n${detail.attempts.map((x) => `${x.status} ${x.errorClass}: ${x.details}`).join("\n")}`);
    assert.ok(
      archive.offsets.some((o) => o.via === "rest" && o.start > 0),
      "a dropped transfer was resumed with REST",
    );
    assert.equal(archive.deleted.length >= 1, true, "the restore was deleted once downloaded");
    const cands = readAccelcandsFile(path.join(detail.attempts[0].resultsDir, `${job.beam}.accelcands`));
    const top = cands[0];
    assert.ok(Math.abs(top.periodMs / 1000 - pulsar.periodS) / pulsar.periodS < 0.001, `top candidate P ${top.periodMs} ms`);
    assert.ok(Math.abs(top.dm - pulsar.dm) <= 4, `top candidate DM ${top.dm}`);
  });
});
