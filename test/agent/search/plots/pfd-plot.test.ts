// The candidate plot (agent/search/plots/pfd_plot.py): drawn from the fixture fold's
// .pfd by the real PRESTO's python (the bundle under /opt/presto), checked against
// the .bestprof prepfold wrote, with every panel on the page (prepfold's own .ps,
// built against giza, is cut off on the right and at the bottom); and how the search
// finds and checks that python. Tests needing the real PRESTO skip without it, or
// fail with BEAMFLOW_REQUIRE_PRESTO=1 (test/support/presto.ts).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PNG } from "pngjs";
import { checkCapabilities } from "../../../../agent/fitness/capabilities";
import { pfdPlotArgv } from "../../../../agent/search/plots/pfd-plot";
import { PFD_PLOT_SCRIPT } from "../../../../agent/search/plots/pfd-plot-script";
import { doctor } from "../../../../agent/search/toolchain/doctor";
import { PlotPythonError } from "../../../../agent/search/toolchain/python";
import { resolveProgram } from "../../../../agent/search/toolchain/resolve";
import { toolchainStepEnv } from "../../../../agent/search/toolchain/step-env";
import { Toolchain, type ToolchainConfig } from "../../../../agent/search/toolchain/toolchain";
import { parseMeasurement, readBestprofFile } from "../../../../shared/presto";
import { PRESTO_PREFIX, requirePresto } from "../../../support/presto";
import { JobType } from "../../../../shared/gen/common";

const BEAM = path.join(__dirname, "..", "..", "..", "fixtures", "presto", "beam_J1903");
const CAND1 = "beam_J1903_DM57.00_Z0_ACCEL_Cand_1.pfd";
const CROPPED = path.join(BEAM, `${CAND1}.page.png`);
const STANDINS = path.join(__dirname, "..", "..", "..", "toolchain", "bin");

/** What pfd_plot.py --json writes (the fields checked here). */
interface Plotted {
  best_dm: number | null;
  candidate: string;
  telescope: string;
  data_folded: number;
  data_avg: number;
  data_stddev: number;
  profile_bins: number;
  profile_avg: number;
  profile_stddev: number;
  t_sample: number;
  reduced_chi2: number;
  prepfold_py_reduced_chi2: number | null;
  sigma: number;
  p_topo_ms: number;
  pd_topo: number;
  p_bary_ms: number;
  pd_bary: number;
  p_err_ms: number;
  pd_err: number;
  pdd_err: number;
  size_px: [number, number];
  text: string[];
}

function prestoConfig(): ToolchainConfig {
  return { path: [], prefix: PRESTO_PREFIX, wrapper: [], prestoDir: "", psrfitsUtilsDir: "" };
}

/** Fraction of pixels that are not white in a rectangle given as figure fractions (y up, as PGPLOT's viewports). */
function ink(png: PNG, x0: number, x1: number, y0: number, y1: number, test = (r: number, g: number, b: number) => r < 250 || g < 250 || b < 250): number {
  const px0 = Math.round(x0 * png.width);
  const px1 = Math.round(x1 * png.width);
  const py0 = Math.round((1 - y1) * png.height);
  const py1 = Math.round((1 - y0) * png.height);
  let n = 0;
  let hit = 0;
  for (let y = py0; y < py1; y++) {
    for (let x = px0; x < px1; x++) {
      const i = (y * png.width + x) * 4;
      n++;
      if (test(png.data[i]!, png.data[i + 1]!, png.data[i + 2]!)) hit++;
    }
  }
  return hit / n;
}
/** The smallest rectangle holding every non-white pixel. */
function inkBox(png: PNG): { x0: number; y0: number; x1: number; y1: number } {
  const box = { x0: png.width, y0: png.height, x1: 0, y1: 0 };
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const i = (y * png.width + x) * 4;
      if (png.data[i]! < 250 || png.data[i + 1]! < 250 || png.data[i + 2]! < 250) {
        box.x0 = Math.min(box.x0, x);
        box.y0 = Math.min(box.y0, y);
        box.x1 = Math.max(box.x1, x + 1);
        box.y1 = Math.max(box.y1, y + 1);
      }
    }
  }
  return box;
}
const colourful = (r: number, g: number, b: number) => Math.max(r, g, b) - Math.min(r, g, b) > 40;

const sha256 = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("candidate plot from the .pfd (pfd_plot.py)", function () {
  this.timeout(120_000);
  let scratch: string;

  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-pfdplot-"));
    for (const n of [CAND1, `${CAND1}.bestprof`]) fs.copyFileSync(path.join(BEAM, n), path.join(scratch, n));
  });
  afterEach(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("draws every panel of prepfold's page, with prepfold's numbers (checked against the .bestprof)", function () {
    requirePresto(this);
    const cfg = prestoConfig();
    const python = resolveProgram("python", cfg);
    assert.equal(python.file, path.join(PRESTO_PREFIX, "bin", "python"), "PRESTO's python, under the prefix");
    const pfd = path.join(scratch, CAND1);
    const json = path.join(scratch, "plotted.json");
    const started = Date.now();
    const r = spawnSync(python.argv[0], [...python.argv.slice(1), PFD_PLOT_SCRIPT, pfd, "-o", `${pfd}.png`, "--json", json], {
      cwd: scratch,
      env: { ...process.env, ...toolchainStepEnv(cfg) },
      encoding: "utf8",
    });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
    assert.match(r.stdout, /: DM 57\.000, P_topo 89\.2952416\d* ms, P_bary 89\.3013382\d* ms, reduced chi\^2 38\.628 \(56\.7 sigma\)/);
    assert.ok(seconds < 60, `${seconds} s for one plot`);

    // The page: landscape, 1100 x 850 at 100 dpi, nothing missing.
    const png = PNG.sync.read(fs.readFileSync(`${pfd}.png`));
    assert.deepEqual([png.width, png.height], [1100, 850]);
    const plotted = JSON.parse(fs.readFileSync(json, "utf8")) as Plotted;
    assert.deepEqual(plotted.size_px, [1100, 850]);
    // Panels where prepfold_plot.c puts them (cpgsvp viewports, as figure fractions).
    assert.ok(ink(png, 0.07, 0.26, 0.1, 0.67) > 0.5, "time vs phase greyscale");
    assert.ok(ink(png, 0.28, 0.35, 0.1, 0.67) > 0.005, "reduced chi^2 vs time");
    assert.ok(ink(png, 0.06, 0.27, 0.69, 0.93) > 0.01, "two pulses of the best profile");
    assert.ok(ink(png, 0.45, 0.65, 0.31, 0.67) > 0.5, "sub-band vs phase greyscale");
    assert.ok(ink(png, 0.45, 0.65, 0.1, 0.21) > 0.01, "reduced chi^2 vs DM");
    assert.ok(ink(png, 0.27, 0.519, 0.68, 0.94) > 0.02, "data information text");
    // The right-hand part, which giza's page leaves out (the cropped render is 850 px wide of 1025).
    assert.equal(PNG.sync.read(fs.readFileSync(CROPPED)).width, 850, "the fixture's gs render of prepfold's .ps is the cropped one");
    assert.ok(ink(png, 0.75, 0.93, 0.59, 0.67) > 0.01, "reduced chi^2 vs P-dot");
    assert.ok(ink(png, 0.75, 0.93, 0.42, 0.5) > 0.01, "reduced chi^2 vs period");
    assert.ok(ink(png, 0.75, 0.93, 0.1, 0.28, colourful) > 0.5, "the P-Pdot plane in prepfold's colours");
    assert.ok(ink(png, 0.8, 0.94, 0.68, 0.94) > 0.01, "search information text, right column");
    assert.ok(ink(png, 0.0, 1.0, 0.0, 0.09) > 0.003, "the bottom strip: axis titles and the file name");
    const box = inkBox(png);
    assert.ok(
      box.x0 >= 10 && box.y0 >= 10 && box.x1 <= png.width - 10 && box.y1 <= png.height - 10,
      `nothing runs off the page: ink from (${box.x0}, ${box.y0}) to (${box.x1}, ${box.y1})`,
    );

    // The numbers, against what prepfold itself wrote.
    const bp = readBestprofFile(`${pfd}.bestprof`);
    assert.equal(plotted.candidate, bp.candidate);
    assert.equal(plotted.telescope, bp.telescope);
    assert.equal(plotted.best_dm, bp.bestDm);
    assert.equal(plotted.data_folded, bp.dataFolded);
    assert.equal(plotted.profile_bins, bp.profileBins);
    for (const [ours, theirs, what] of [
      [plotted.data_avg, bp.dataAvg, "data avg"],
      [plotted.data_stddev, bp.dataStdDev, "data stddev"],
      [plotted.profile_avg, bp.profileAvg, "profile avg"],
      [plotted.profile_stddev, bp.profileStdDev, "profile stddev"],
      [plotted.p_topo_ms, bp.pTopoMs!.value, "P topo"],
      [plotted.p_bary_ms, bp.pBaryMs!.value, "P bary"],
      [plotted.pd_topo, bp.pdotTopo!.value, "P' topo"],
      [plotted.pd_bary, bp.pdotBary!.value, "P' bary"],
    ] as const) {
      assert.ok(Math.abs(ours - theirs) <= 1e-12 * Math.abs(theirs), `${what}: ${ours} vs ${theirs}`);
    }
    assert.equal(Number(plotted.t_sample.toPrecision(6)), bp.sampleTime);
    assert.equal(plotted.reduced_chi2.toFixed(3), bp.reducedChiSqr.toFixed(3));
    assert.equal(plotted.sigma.toFixed(1), bp.probNoise.sigma.toFixed(1));
    assert.equal(Number(plotted.p_err_ms.toPrecision(3)), bp.pTopoMs!.uncertainty);
    assert.equal(Number(plotted.pd_err.toPrecision(3)), bp.pdotTopo!.uncertainty);
    assert.equal(Number(plotted.pdd_err.toPrecision(3)), bp.pddotTopo!.uncertainty);
    // prepfold.py's own dedisperse + adjust_period + calc_redchi2 agree.
    assert.ok(plotted.prepfold_py_reduced_chi2 !== null && Math.abs(plotted.prepfold_py_reduced_chi2 / plotted.reduced_chi2 - 1) < 1e-4);

    // The text as the plot shows it (prepfold's formats; nice_output_2 for values with errors).
    for (const line of [
      "Candidate:  ACCEL_Cand_1",
      "Telescope:  Arecibo",
      "Epoch_topo = 60000.25000000000",
      "Epoch_bary = 60000.24738035382",
      "T_sample",
      "=  6.5476e-05",
      "Data Folded",
      "=  552960",
      "Data Avg",
      "=  962.3",
      "Data StdDev",
      "=  25",
      "Profile Bins",
      "=  100",
      "Profile Avg",
      "=  5.315e+06",
      "Profile StdDev",
      "=  1859",
      "RA_J2000 = 19:03:05.8000",
      "DEC_J2000 = 03:27:19.0000",
      "Best Fit Parameters",
      "DOF_eff = 94.57   chi^2_red = 38.628   P(Noise) ~ 0   (56.7 sigma)",
      "Dispersion Measure (DM; pc/cm^3) = 57.000",
      "P_topo (ms) = 89.2952(15)",
      "P'_topo (s/s) = 2.4(3.1)x10^-7",
      "P''_topo (s/s^2) = 0.0(5.6)x10^-8",
      "P_bary (ms) = 89.3013(15)",
      "P'_bary (s/s) = 2.4(3.1)x10^-7",
      "P''_bary (s/s^2) = 0.0(5.6)x10^-8",
      "Binary Parameters",
      "P_orb (s) = N/A",
      "a_1sin(i)/c (s) = N/A",
      "e = N/A",
      "omega (rad) = N/A",
      "T_peri = N/A",
      "beam_J1903.fits",
    ])
      assert.ok(plotted.text.includes(line), `the plot shows '${line}' (it shows: ${JSON.stringify(plotted.text)})`);
    // ... and those rounded values are the .bestprof's.
    const pTopo = parseMeasurement(plotted.text.find((t) => t.startsWith("P_topo (ms) = "))!.slice("P_topo (ms) = ".length))!;
    assert.ok(Math.abs(pTopo.value - bp.pTopoMs!.value) <= pTopo.uncertainty / 2 + 1e-12);
    assert.equal(Number(pTopo.uncertainty.toPrecision(2)), Number(bp.pTopoMs!.uncertainty.toPrecision(2)));
    const dm = Number(/= ([0-9.]+)$/.exec(plotted.text.find((t) => t.startsWith("Dispersion Measure"))!)![1]);
    assert.equal(dm, bp.bestDm);
  });

  it("is the search's step: the toolchain resolves PRESTO's python under the prefix, checks its modules, and records the script", async function () {
    requirePresto(this);
    const tc = await Toolchain.load(prestoConfig(), { mock: false });
    assert.deepEqual(tc.cmd("python"), [path.join(PRESTO_PREFIX, "bin", "python")]);
    assert.equal(tc.provenance.programs["pfd_plot.py"]?.sha256, sha256(PFD_PLOT_SCRIPT));
    const pfd = path.join(scratch, CAND1);
    const argv = pfdPlotArgv(tc, pfd, scratch);
    assert.deepEqual(argv.slice(1), [PFD_PLOT_SCRIPT, pfd, "-o", `${pfd}.png`], "no wrapper: the script is run where it is");
    const r = spawnSync(argv[0], argv.slice(1), { cwd: scratch, env: { ...process.env, ...tc.env }, encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
    const png = PNG.sync.read(fs.readFileSync(`${pfd}.png`));
    assert.deepEqual([png.width, png.height], [1100, 850]);
    assert.ok(ink(png, 0.75, 0.93, 0.1, 0.28, colourful) > 0.5, "the P-Pdot plane is there");
    // prepfold's .ps is left as prepfold wrote it (nothing here touches it).
    assert.ok(!fs.existsSync(`${pfd}.ps`));
  });

  it("doctor checks that python imports PRESTO's package and matplotlib", async function () {
    requirePresto(this);
    const checks = await doctor(prestoConfig(), scratch);
    const python = checks.find((c) => c.what === "python");
    assert.ok(python?.ok, JSON.stringify(python));
    assert.match(python!.detail, /^\/opt\/presto\/bin\/python \(python 3\.\d+\.\d+, matplotlib \d[^,]*, numpy \d/);
  });

  it("a python without PRESTO's package fails the toolchain when it loads, and doctor says how to fix it", async () => {
    const bad = path.join(scratch, "bad-python");
    fs.mkdirSync(bad);
    fs.writeFileSync(
      path.join(bad, "python"),
      "#!/bin/sh\necho 'Traceback (most recent call last):' >&2\necho \"ModuleNotFoundError: No module named 'presto'\" >&2\nexit 1\n",
      { mode: 0o755 },
    );
    const cfg: ToolchainConfig = { path: [bad, STANDINS], prefix: "", wrapper: [], prestoDir: "", psrfitsUtilsDir: "" };
    await assert.rejects(Toolchain.load(cfg, { mock: false }), (err: unknown) => {
      assert.ok(err instanceof PlotPythonError, String(err));
      assert.match((err as Error).message, /bad-python\/python cannot draw the candidate plots: ModuleNotFoundError: No module named 'presto'/);
      return true;
    });
    const checks = await doctor(cfg, scratch);
    const python = checks.find((c) => c.what === "python");
    assert.equal(python?.ok, false, JSON.stringify(checks));
    assert.match(python!.detail, /No module named 'presto'/);
    assert.match(python!.fix ?? "", /agent\.toolchain\.prefix/);
    // The agent's capability check is doctor's: such a node is given no beams, and says why.
    const caps = await checkCapabilities(cfg, path.join(scratch, "work"));
    const search = caps.jobTypes.find((j) => j.jobType === JobType.JOB_TYPE_PALFA_SEARCH)!;
    assert.equal(search.fit, false);
    assert.match(search.reason, /^python: \S+bad-python\/python cannot draw the candidate plots: ModuleNotFoundError: No module named 'presto'$/);
  });

  it("under a wrapper the script is copied into the work dir, which the container sees, and run from there", async () => {
    const saved = process.env.PATH;
    process.env.PATH = `${STANDINS}${path.delimiter}${saved}`;
    try {
      // `env` as the wrapper: programs are looked up and run through it, as through `apptainer exec IMAGE`.
      const tc = await Toolchain.load({ path: [], prefix: "", wrapper: ["env"], prestoDir: "", psrfitsUtilsDir: "" }, { mock: false });
      const pfd = path.join(scratch, CAND1);
      const argv = pfdPlotArgv(tc, pfd, scratch);
      const copy = path.join(scratch, "pfd_plot.py");
      assert.deepEqual(argv, ["env", "python", copy, pfd, "-o", `${pfd}.png`]);
      assert.ok(fs.readFileSync(copy).equals(fs.readFileSync(PFD_PLOT_SCRIPT)));
      assert.deepEqual(pfdPlotArgv(tc, pfd, scratch), argv, "copied once, reused");
      const r = spawnSync(argv[0], argv.slice(1), { cwd: scratch, env: { ...process.env, ...tc.env }, encoding: "utf8" });
      assert.equal(r.status, 0, `${r.stderr}${r.stdout}`);
      assert.ok(fs.statSync(`${pfd}.png`).size > 0);
    } finally {
      process.env.PATH = saved;
    }
  });
});
