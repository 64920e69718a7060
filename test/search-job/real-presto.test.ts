// The search end to end with the real PRESTO and psrfits_utils (/opt/presto), on
// synthetic beams with a known pulsar: a real coordinator and agent, the agent
// finding the programs through agent.toolchain.prefix only (they are not on its
// PATH), the results pushed back, verified and uploaded. What is checked is what
// an astronomer reads: the pulsar is the top candidate at its period and DM, its
// plot shows the whole prepfold page, the beam is filed under its number.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PNG } from "pngjs";
import { call } from "../../cli/admin-client";
import { Cluster, waitFor } from "../support/cluster";
import { PRESTO_PREFIX, requirePresto } from "../support/presto";
import { writeSynthBeam, type SynthOptions } from "../../shared/synth";
import { readAccelcandsFile } from "../../shared/presto";
import type { UploadListing } from "../../coordinator/uploader";
import type { JobDetail } from "../../shared/gen/admin";

// Two passes of 16 DM trials, 2 pc cm^-3 apart: DM 0-62. The pulsars sit in the second
// pass, which also runs the high-acceleration search.
const PLAN = [{ lodm: 0, dmstep: 2, dms_per_call: 16, calls: 2, nsub: 32, downsamp: 4 }];
const DM_STEP = 2;

// 21 s: longer than PALFA's low_T_to_search (20 s), so the default applies.
const BEAM: SynthOptions = { nchan: 64, lengthS: 21, seed: 11 };

const ENDED = ["uploaded", "upload_failed", "terminal_failure"];

/** The agent's PATH without PRESTO: it must find the programs through the configured prefix. */
function pathWithoutPresto(): string {
  return (process.env.PATH ?? "")
    .split(":")
    .filter((d) => d && !d.startsWith(PRESTO_PREFIX))
    .join(":");
}

describe("palfa-search with the real PRESTO", function () {
  this.timeout(600_000);
  let cluster: Cluster;
  let shm: string;

  beforeEach(function () {
    requirePresto(this);
    shm = `/dev/shm/beamflow-real-${process.pid}`;
  });

  afterEach(async () => {
    await cluster?.close();
    fs.rmSync(shm, { recursive: true, force: true });
  });

  async function start(zaplists: Record<string, unknown> = {}, nsub = PLAN[0].nsub) {
    // The README's configuration, but for the DDplan (PALFA's Mock plan has 6276 DM trials).
    cluster = await Cluster.create({
      jobs: { type: "palfa-search" },
      dispatch: { cores_per_beam: 2, memory_per_beam: 0 },
      search: { ddplan_source: "explicit", ddplan: PLAN.map((row) => ({ ...row, nsub })) },
      zaplists,
    });
    await cluster.startCoordinator();
    await cluster.startAgent(
      "node1",
      {
        cores: 2,
        work_base: shm,
        scratch_dir: path.join(cluster.dir, "scratch"),
        toolchain: { prefix: PRESTO_PREFIX },
      },
      { PATH: pathWithoutPresto(), PRESTO: "", PYTHONPATH: "" },
    );
  }

  async function searched(): Promise<{ beam: string; detail: JobDetail }> {
    const [job] = await cluster.waitForJobs((js) => js.length === 1 && ENDED.includes(js[0].status), "the search and its upload to end", 540_000);
    const a = cluster.admin();
    const detail = await call(a, a.client.getJob, { id: job.id });
    const why = detail.attempts.map((x) => `attempt ${x.id} ${x.status} ${x.errorClass}: ${x.details}`).join("\n");
    assert.equal(job.status, "uploaded", `${job.details}\n${why}`);
    assert.equal(detail.attempts.length, 1, why);
    return { beam: job.beam, detail };
  }

  /** The top sifted candidate is the pulsar: period within 0.1 %, DM within two DM steps. */
  function assertPulsarOnTop(resultsDir: string, base: string, periodS: number, dm: number) {
    const cands = readAccelcandsFile(path.join(resultsDir, `${base}.accelcands`));
    assert.ok(cands.length > 0, "sifting kept candidates");
    const top = cands[0];
    const dp = Math.abs(top.periodMs / 1000 - periodS) / periodS;
    assert.ok(dp < 0.001, `top candidate P ${top.periodMs} ms, the pulsar's ${periodS * 1000} ms (off by ${(dp * 100).toFixed(3)} %)`);
    assert.ok(Math.abs(top.dm - dm) <= 2 * DM_STEP, `top candidate DM ${top.dm}, the pulsar's ${dm}`);
    assert.ok(top.sigma > 8, `top candidate sigma ${top.sigma}`);
    return top;
  }

  /** prepfold's whole page: the right-hand panels and the bottom are drawn, not cut off. */
  function assertWholePlot(png: string) {
    const img = PNG.sync.read(fs.readFileSync(png));
    assert.ok(img.width >= 1000 && img.height >= 750, `${path.basename(png)} is ${img.width}x${img.height}`);
    const inked = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = Math.floor(y0 * img.height); y < y1 * img.height; y++) {
        for (let x = Math.floor(x0 * img.width); x < x1 * img.width; x++) {
          const i = (y * img.width + x) * 4;
          if (img.data[i] + img.data[i + 1] + img.data[i + 2] < 384) n++;
        }
      }
      return n;
    };
    // The P-Pdot plane and the period curves sit in prepfold's right-hand quarter, the
    // DM curve and the phase axes in its bottom fifth: the giza page lost both.
    assert.ok(inked(0.72, 0.3, 0.98, 0.95) > 2000, "the right-hand panels are drawn");
    assert.ok(inked(0.05, 0.8, 0.7, 0.97) > 2000, "the bottom of the page is drawn");
  }

  it("searches a beam with the default zaplist configuration (none: no birdies) to uploaded, the pulsar on top, its plot whole", async () => {
    await start();
    const beamFile = path.join(cluster.dir, "synth_J1000.fits");
    const pulsar = { periodS: 0.0734, dm: 41, snr: 25 };
    writeSynthBeam({ ...BEAM, beam: 5, pulsar }, beamFile);
    const added = cluster.cli(["add-files", beamFile]);
    assert.equal(added.status, 0, added.stderr);

    const { detail } = await searched();
    const attempt = detail.attempts[0];
    // The zaplist without birdies: zapbirds has nothing to do and is never run.
    const steps = attempt.steps.map((s) => s.name.split(" ")[0]);
    assert.equal(steps.filter((n) => n === "zapbirds").length, 0);
    assert.equal(steps.filter((n) => n === "realfft").length, 32);
    assert.equal(steps.filter((n) => n === "accelsearch").length, 32 + 16, "the high-z search outside the zero-DM pass");
    assert.ok(attempt.steps.every((s) => s.exitCode === 0));
    const rfifind = attempt.steps.find((s) => s.name === "rfifind")!;
    assert.equal(rfifind.argv[0], path.join(PRESTO_PREFIX, "bin", "rfifind"), "found through the prefix");
    assert.deepEqual(rfifind.argv.slice(1, 6), ["-psrfits", "-ncpus", "2", "-time", "2.097152"]);
    const diagnostics = new Map(detail.diagnostics.map((d) => [d.name, d]));
    assert.match(diagnostics.get("Zaplist used")!.text, /no birdies zapped/);
    assert.equal(diagnostics.get("Percent zapped total")!.value, 0);

    // Filed under the beam's number (IBEAM 5), the pulsar on top, its plot whole.
    const results = attempt.resultsDir;
    assert.match(results, new RegExp(`/results/60000/synth_J1000/5/${attempt.id}$`));
    const top = assertPulsarOnTop(results, "synth_J1000", pulsar.periodS, pulsar.dm);
    const pngs = fs.readdirSync(results).filter((f) => f.endsWith(".pfd.png"));
    assert.ok(pngs.length >= 1, fs.readdirSync(results).join(" "));
    for (const png of pngs) assertWholePlot(path.join(results, png));

    // In the results DB: the beam with its number, the pulsar's fold first.
    const listed = cluster.cli(["results", "--job", "1", "--json"]);
    assert.equal(listed.status, 0, listed.stderr);
    const [upload] = JSON.parse(listed.stdout) as UploadListing[];
    assert.equal(upload.beam, 5);
    assert.ok(upload.candidates.length >= 1);
    const best = upload.candidates[0];
    assert.ok(Math.abs((best.dm ?? -1) - pulsar.dm) <= 2 * DM_STEP, `best folded candidate DM ${best.dm}`);
    assert.ok(Math.abs(top.periodMs - pulsar.periodS * 1000) / (pulsar.periodS * 1000) < 0.001);

    await waitFor("the work dir to go", () => !fs.existsSync(path.join(shm, String(attempt.id))));
  });

  it("merges a Mock pair with the real combine_mocks, zaps its birdies, files it under the beam number in its PALFA names", async function () {
    const zapdir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-zap-"));
    try {
      // PALFA's default Mock list: the mains birdie and its harmonics, as makezaplist.py writes them.
      const birdies = [60, 120, 180].map((f) => `${String(f).padStart(20)}  ${String(f / 1200).padStart(20)}`).join("\n");
      fs.writeFileSync(path.join(zapdir, "PALFA_commondb_Mock.zaplist"), `# Freq  Width\n${birdies}\n`);
      // Halves of 34 channels sharing 4, plus the 2 blank ones combine_mocks adds: 66 channels.
      await start({ source: zapdir }, 33);
      const pulsar = { periodS: 0.1931, dm: 37, snr: 25 };
      const made = writeSynthBeam({ ...BEAM, nchan: 34, mock: true, beam: 3, seed: 12, pulsar, birdie: { freqHz: 60, ampSigma: 0.02 } }, cluster.dir);
      assert.equal(made.files.length, 2);
      const added = cluster.cli(["add-files", ...made.files.map((f) => f.path)]);
      assert.equal(added.status, 0, added.stderr);

      const { beam: base, detail } = await searched();
      const attempt = detail.attempts[0];
      const names = attempt.steps.map((s) => s.name.split(" ")[0]);
      assert.equal(names[0], "combine_mocks");
      assert.equal(names.filter((n) => n === "zapbirds").length, 32, "every DM trial zapped");
      // combine_mocks drops IBEAM: the number comes from the PALFA name (…b3…).
      assert.match(attempt.resultsDir, new RegExp(`/results/60000/${base.replace(/[.+]/g, "\\$&")}/3/${attempt.id}$`));
      assertPulsarOnTop(attempt.resultsDir, base, pulsar.periodS, pulsar.dm);
      const [upload] = JSON.parse(cluster.cli(["results", "--json"]).stdout) as UploadListing[];
      assert.equal(upload.beam, 3);
    } finally {
      fs.rmSync(zapdir, { recursive: true, force: true });
    }
  });
});
