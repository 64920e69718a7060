// The sifting diagnostics (<base>.accelcands.summary, .report.gz, .summary.png,
// .rejects.png) written from a real sift of the fixture beam.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { PNG } from "pngjs";
import { type SiftOptions, type SiftResult, siftFiles } from "../../../../agent/search/sifting";
import { formatSiftReport, sigmaToRadius, writeSiftingProducts } from "../../../../agent/search/sifting-products";

const BEAM = path.join(__dirname, "..", "..", "..", "fixtures", "presto", "beam_J1903");
const ALL_DMS = path.join(BEAM, "all_dms");

// The fixture's sift_cands.py settings (PALFA's, except low_DM_cutoff 1.0), as test/search uses.
const SIFT_CANDS_PY: Partial<SiftOptions> = {
  sigmaThreshold: 5.0,
  cPowThreshold: 100.0,
  rErr: 1.1,
  shortPeriod: 0.0005,
  longPeriod: 15.0,
  harmPowCutoff: 8.0,
  numHitsToFold: 2,
  lowDmCutoff: 1.0,
};

function siftBeam(): SiftResult {
  const names = fs.readdirSync(ALL_DMS);
  const dmStrs = names
    .filter((f) => f.endsWith(".inf"))
    .map((f) => f.split("_DM").pop()!.slice(0, -4))
    .sort((a, b) => Number(a) - Number(b));
  const accel = (z: number) => names.filter((f) => f.endsWith(`_ACCEL_${z}`)).map((f) => path.join(ALL_DMS, f));
  return siftFiles([accel(0), accel(50)], dmStrs, SIFT_CANDS_PY);
}

/** The number in the summary line "<label>   N" (first match). */
function summaryNumber(summary: string, label: string, from = 0): number {
  const at = summary.indexOf(label, from);
  assert.ok(at >= 0, `no "${label}" in the summary`);
  const m = /^\s*(\d+)$/m.exec(summary.slice(at + label.length));
  assert.ok(m, `no number after "${label}"`);
  return Number(m[1]);
}

interface Pixels {
  width: number;
  height: number;
  at(x: number, y: number): [number, number, number];
}

function readPng(file: string): Pixels {
  const png = PNG.sync.read(fs.readFileSync(file));
  return {
    width: png.width,
    height: png.height,
    at: (x, y) => {
      const i = (y * png.width + x) * 4;
      return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
    },
  };
}

/** Pixels in the box that are not white, and those that are clearly coloured (not grey). */
function countInk(img: Pixels, left: number, top: number, right: number, bottom: number) {
  let ink = 0;
  let coloured = 0;
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) {
      const [r, g, b] = img.at(x, y);
      if (r < 250 || g < 250 || b < 250) ink++;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
    }
  }
  return { ink, coloured };
}

describe("search/sifting-products (PALFA's sifting diagnostics)", () => {
  let dir: string;
  let result: SiftResult;
  let paths: ReturnType<typeof writeSiftingProducts>;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-sifting-products-"));
    result = siftBeam();
    // A plain report left by an earlier attempt must not survive next to the .gz.
    fs.writeFileSync(path.join(dir, "beam_J1903.accelcands.report"), "stale\n");
    paths = writeSiftingProducts(dir, "beam_J1903", result);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("writes the four files PALFA uploaded, and no plain .report", () => {
    assert.deepEqual(paths, {
      summary: path.join(dir, "beam_J1903.accelcands.summary"),
      report: path.join(dir, "beam_J1903.accelcands.report.gz"),
      summaryPng: path.join(dir, "beam_J1903.accelcands.summary.png"),
      rejectsPng: path.join(dir, "beam_J1903.accelcands.rejects.png"),
    });
    for (const p of Object.values(paths)) assert.ok(fs.statSync(p).size > 0, p);
    assert.equal(fs.existsSync(path.join(dir, "beam_J1903.accelcands.report")), false);
  });

  it("summarises like print_cand_summary, with the stage counts sifting.py printed", () => {
    const summary = fs.readFileSync(paths.summary, "utf8");
    // print_cand_summary's block, verbatim (numbers from the fixture's sift log).
    assert.ok(
      summary.startsWith(
        "   Candlist contains 32 'good' candidates\n" +
          "      # Known RFI rejects:           0\n" +
          "      # Short period rejects:        0\n" +
          "      # Long period rejects:         0\n" +
          `      # Missed threshold:            ${result.report.counts.threshold}\n` +
          `      # No good harmonics:           ${result.report.counts.harmpowcutoff}\n` +
          `      # One bad harmonic:            ${result.report.counts.rogueharmpow}\n` +
          "      # Duplicate candidates:        469\n" +
          "      # Harmonic candidates:         18\n" +
          "      # Candidates with DM problems: 405\n",
      ),
      summary,
    );
    // Each group's stages equal the sift report's (571 -> 323, 291 removed; 353 -> 132, 114 removed).
    const expected = [
      { files: 156, afterDefaultRejection: 571, afterDuplicates: 323, removed: 291 },
      { files: 151, afterDefaultRejection: 353, afterDuplicates: 132, removed: 114 },
    ];
    result.report.groups.forEach((g, i) => {
      const from = summary.indexOf(`Search group ${i + 1} of 2:`);
      assert.ok(from > 0);
      assert.equal(summaryNumber(summary, "Files read:", from), expected[i]!.files);
      assert.equal(summaryNumber(summary, "Files read:", from), g.files);
      assert.equal(summaryNumber(summary, "Candidates read:", from), g.candidatesRead);
      assert.equal(summaryNumber(summary, "After default rejection:", from), expected[i]!.afterDefaultRejection);
      assert.equal(summaryNumber(summary, "After default rejection:", from), g.afterDefaultRejection);
      assert.equal(summaryNumber(summary, "After removing duplicates:", from), expected[i]!.afterDuplicates);
      assert.equal(summaryNumber(summary, "After removing duplicates:", from), g.afterDuplicates);
      assert.equal(summaryNumber(summary, "Removed with DM problems:", from), expected[i]!.removed);
      assert.equal(summaryNumber(summary, "Removed with DM problems:", from), g.dmProblems.removed);
      const causes =
        summaryNumber(summary, "too few DM hits:", from) + summaryNumber(summary, "peak at low DM:", from) + summaryNumber(summary, "gaps in DM hits:", from);
      assert.equal(causes, g.dmProblems.removed);
      assert.equal(summaryNumber(summary, "After DM problems:", from), g.afterDmProblems);
    });
    const all = summary.indexOf("All groups:");
    assert.equal(summaryNumber(summary, "Candidates read:", all), 2092);
    assert.equal(summaryNumber(summary, "Candidates rejected:", all), 2060);
    assert.equal(summaryNumber(summary, "Harmonics removed:", all), 18);
    assert.equal(summaryNumber(summary, "Final candidates:", all), 32);
  });

  it("reports every candidate: the sifted ones with their hits, the rejected ones with their notes", () => {
    const report = zlib.gunzipSync(fs.readFileSync(paths.report)).toString("utf8");
    assert.equal(report, formatSiftReport(result));
    const lines = report.split("\n");
    assert.match(lines[0]!, /^#\s+file:candnum\s+DM\s+SNR\s+sigma\s+numharm\s+ipow\s+cpow\s+P\(ms\)\s+r\s+z\s+numhits\s*$/);
    // The top candidate comes first, with all 133 of its DM hits.
    const top = lines.findIndex((l) => !l.startsWith("#"));
    assert.match(lines[top]!, /^beam_J1903_DM57\.00_ACCEL_0:1\s+57\.00\s+146\.29\s+59\.47\s.*\(133\)$/);
    assert.match(lines[top + 1]!, /^ {2}DM= {2}0\.00 SNR=15\.47 Sigma=12\.86 {3}\*{4}$/);

    // The sifted section is exactly the .accelcands sifting.py wrote (less its header line).
    const accelcands = fs.readFileSync(path.join(BEAM, "beam_J1903.accelcands"), "utf8");
    const sifted = report.slice(report.indexOf("\n", report.indexOf("# Sifted candidates:")) + 1, report.indexOf("#\n# Rejected"));
    assert.equal(sifted, accelcands.slice(accelcands.indexOf("\n") + 1));

    // Every rejection appears once, with its note, under its reason's heading.
    const notes = lines.filter((l) => l.startsWith("    Note: "));
    assert.equal(notes.length, 2060);
    assert.equal(notes.length, result.report.rejected.length);
    const headings: Array<[string, number]> = [
      ["Known RFI rejects:", result.report.counts.knownbirds],
      ["Missed threshold:", result.report.counts.threshold],
      ["Harmonic candidates:", 18],
      ["Candidates with DM problems:", 405],
      ["Duplicate candidates:", 469],
    ];
    for (const [label, n] of headings) assert.ok(lines.includes(`# ${label} ${n}`), label);
    assert.ok(report.includes("    Note: This candidate is a duplicate of beam_J1903_DM57.00_ACCEL_0:1\n"));
    assert.ok(/\n {4}Note: \d+ harmonics and sigma \(.+ < 5\) is too low\.\n/.test(report));
    // Rejected candidates are printed as sifting.py's "%s (%d)" line.
    const firstRejected = lines[lines.findIndex((l) => l.startsWith("    Note: ")) - 1]!;
    assert.match(firstRejected, /^beam_J1903_DM\d+\.\d\d_ACCEL_(0|50):\d+\s+\d+\.\d\d\s.*\(\d+\)$/);
  });

  it("draws the periodicity summary plot: candidates in the DM-period panel, histograms below", () => {
    const img = readPng(paths.summaryPng);
    assert.equal(img.width, 1000);
    assert.equal(img.height, 800);
    // Inside the main plot area (90..760 x 70..500): coloured markers over grid lines.
    const main = countInk(img, 92, 72, 758, 498);
    assert.ok(main.coloured > 2000, `only ${main.coloured} coloured pixels in the scatter panel`);
    // The histogram panels have bars.
    assert.ok(countInk(img, 92, 612, 468, 728).coloured > 500);
    assert.ok(countInk(img, 582, 612, 958, 728).coloured > 500);
    // Title, tick labels and axis titles are dark text outside the panels.
    assert.ok(countInk(img, 0, 0, 1000, 50).ink > 500, "no title");
    assert.ok(countInk(img, 0, 70, 85, 500).ink > 300, "no y tick labels / title");
    assert.ok(countInk(img, 90, 505, 760, 560).ink > 300, "no x tick labels / title");
    // Markers follow sifting.py's sigma_to_size: the sigma-59 pulsar gets the largest (400 pt^2).
    assert.equal(sigmaToRadius(59.47), sigmaToRadius(100));
    assert.ok(sigmaToRadius(59.47) > 15 && sigmaToRadius(3) < 2);
  });

  it("draws the rejected-candidates plot with every reason's colour and a legend", () => {
    const img = readPng(paths.rejectsPng);
    assert.equal(img.width, 1000);
    assert.equal(img.height, 800);
    const main = countInk(img, 92, 72, 958, 618);
    assert.ok(main.coloured > 5000, `only ${main.coloured} coloured pixels in the plot area`);
    // The legend (below the x-axis title) has coloured markers and text.
    const legend = countInk(img, 0, 680, 1000, 800);
    assert.ok(legend.ink > 1000 && legend.coloured > 50);
    // Threshold rejects (blue) and DM problems (purple) are the largest groups: both show.
    let blue = 0;
    let purple = 0;
    for (let y = 72; y < 618; y++) {
      for (let x = 92; x < 958; x++) {
        const [r, g, b] = img.at(x, y);
        if (b > r + 60 && b > g + 20 && r < 110) blue++;
        if (r > 130 && b > 170 && g < r - 15 && g < b - 30) purple++;
      }
    }
    assert.ok(blue > 500, `blue ${blue}`);
    assert.ok(purple > 500, `purple ${purple}`);
  });

  it("still writes all four files, with empty plots, when sifting leaves nothing", () => {
    const empty: SiftResult = {
      candidates: [],
      report: {
        groups: [],
        harmonicsRemoved: 0,
        good: 0,
        counts: {
          knownbirds: 0,
          longperiod: 0,
          shortperiod: 0,
          threshold: 0,
          harmpowcutoff: 0,
          rogueharmpow: 0,
          duplicate: 0,
          dmproblem: 0,
          harmonic: 0,
        },
        rejected: [],
      },
    };
    const out = writeSiftingProducts(dir, "empty_beam", empty);
    assert.ok(fs.readFileSync(out.summary, "utf8").startsWith("   Candlist contains 0 'good' candidates\n"));
    const report = zlib.gunzipSync(fs.readFileSync(out.report)).toString("utf8");
    assert.ok(report.includes("# Sifted candidates: 0,"));
    assert.equal(report.split("\n").filter((l) => l.startsWith("    Note: ")).length, 0);
    for (const png of [out.summaryPng, out.rejectsPng]) {
      const img = readPng(png);
      assert.equal(img.width, 1000);
      assert.equal(img.height, 800);
      assert.equal(countInk(img, 92, 72, 758, 498).coloured, 0);
    }
  });
});
