// Cal-row detection on SYNTHETIC series written by this test: Gaussian noise from a
// seeded generator with bright rows injected, stored as raw little-endian float32
// like a PRESTO .dat. They are test inputs made here, not PRESTO output.

import assert from "node:assert/strict";
import fs from "node:fs";
import { decideCalRows, findCalRows, medianFloat32, readRowMedians } from "../../../../agent/search/calrows";
import { Scratch } from "./helpers";

const SPR = 256; // samples per row in these synthetic series

/** mulberry32: a small seeded PRNG, so every run writes the same series. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** rows x SPR samples of N(100, 1) noise; rows listed in `bright` (1-based) get +offset. */
function syntheticSeries(rows: number, bright: number[], offset = 100, seed = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(rows * SPR);
  for (let i = 0; i < out.length; i += 2) {
    // Box-Muller
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = 100 + m * Math.cos(2 * Math.PI * v);
    if (i + 1 < out.length) out[i + 1] = 100 + m * Math.sin(2 * Math.PI * v);
  }
  for (const row of bright) for (let k = 0; k < SPR; k++) out[(row - 1) * SPR + k] += offset;
  return out;
}

function writeDat(scratch: Scratch, name: string, data: Float32Array, extraSamples = 0): string {
  const p = scratch.path(name);
  const buf = Buffer.alloc((data.length + extraSamples) * 4);
  data.forEach((x, i) => buf.writeFloatLE(x, i * 4));
  fs.writeFileSync(p, buf);
  return p;
}

const opts = { samplesPerRow: SPR, thresholdMads: 50, fitsFile: "beam.fits" };

describe("search/calrows: PALFA's cal-row removal (synthetic series)", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("cal at the start: flags rows 1-3 plus one after, deletes rows 1-4", async () => {
    const dat = writeDat(scratch, "start_pre_DM0.00.dat", syntheticSeries(100, [1, 2, 3]));
    const res = await findCalRows(dat, opts);
    assert.equal(res.rows, 100);
    assert.deepEqual(res.aboveThreshold, [1, 2, 3]);
    assert.deepEqual(res.flagged, [1, 2, 3, 4]);
    assert.deepEqual(res.blocks, [{ first: 1, last: 4, region: "start" }]);
    assert.deepEqual(res.deletions, [{ first: 1, count: 4 }]);
    assert.deepEqual(res.commands, [["beam.fits[SUBINT]", "1", "4"]]);
    assert.equal(res.totalRemoved, 4);
    assert.ok(Math.abs(res.medianOfMedians - 100) < 0.2);
    assert.ok(res.madOfMedians > 0 && res.madOfMedians < 0.2);
    assert.ok(res.reportText.endsWith("Total number of rows removed: 4\n"));
    assert.match(res.reportText, /^fitsdelrow beam\.fits\[SUBINT\] 1 4$/m);
    assert.match(res.reportText, /Flagged rows 1-4: within the first 10% of the observation: rows 1-4 removed/);
  });

  it("cal at the end: deletes from the first flagged row (one before the cal) to the end", async () => {
    const dat = writeDat(scratch, "end.dat", syntheticSeries(100, [98, 99, 100]));
    const res = await findCalRows(dat, opts);
    assert.deepEqual(res.flagged, [97, 98, 99, 100]);
    assert.deepEqual(res.deletions, [{ first: 97, count: 4 }]);
    assert.equal(res.totalRemoved, 4);
    assert.ok(res.reportText.endsWith("Total number of rows removed: 4\n"));
  });

  it("cal in the middle: reported, nothing deleted", async () => {
    const dat = writeDat(scratch, "middle.dat", syntheticSeries(100, [50, 51]));
    const res = await findCalRows(dat, opts);
    assert.deepEqual(res.blocks, [{ first: 49, last: 52, region: "middle" }]);
    assert.deepEqual(res.deletions, []);
    assert.deepEqual(res.commands, []);
    assert.match(res.reportText, /Flagged rows 49-52: in the middle of the observation: kept, reported only/);
    assert.ok(res.reportText.endsWith("Total number of rows removed: 0\n"));
  });

  it("cals at both ends and in the middle: end rows deleted first so row numbers stay valid", async () => {
    const dat = writeDat(scratch, "both.dat", syntheticSeries(100, [2, 3, 60, 99]));
    const res = await findCalRows(dat, opts);
    assert.deepEqual(
      res.blocks.map((b) => [b.first, b.last, b.region]),
      [
        [1, 4, "start"],
        [59, 61, "middle"],
        [98, 100, "end"],
      ],
    );
    assert.deepEqual(res.deletions, [
      { first: 98, count: 3 },
      { first: 1, count: 4 },
    ]);
    assert.equal(res.totalRemoved, 7);
    const lines = res.reportText.trimEnd().split("\n");
    assert.deepEqual(lines.slice(-3), ["fitsdelrow beam.fits[SUBINT] 98 3", "fitsdelrow beam.fits[SUBINT] 1 4", "Total number of rows removed: 7"]);
  });

  it("a cal straddling the 10% mark is removed whole, with everything before it", async () => {
    const dat = writeDat(scratch, "straddle.dat", syntheticSeries(100, [9, 10, 11, 12]));
    const res = await findCalRows(dat, opts);
    assert.deepEqual(res.blocks, [{ first: 8, last: 13, region: "start" }]);
    assert.deepEqual(res.deletions, [{ first: 1, count: 13 }]);
  });

  it("a flat series flags nothing: MAD 0 is not divided by", async () => {
    const dat = writeDat(scratch, "flat.dat", new Float32Array(50 * SPR).fill(1.5));
    const res = await findCalRows(dat, opts);
    assert.equal(res.madOfMedians, 0);
    assert.equal(res.medianOfMedians, 1.5);
    assert.deepEqual(res.flagged, []);
    assert.deepEqual(res.deletions, []);
    assert.ok(res.scores.every((s) => Number.isNaN(s)));
    assert.match(res.unscorable ?? "", /MAD of the row medians is 0/);
    assert.doesNotMatch(res.reportText, /Infinity|NaN/);
    assert.ok(res.reportText.endsWith("Total number of rows removed: 0\n"));
  });

  it("a series of pure noise flags nothing", async () => {
    const res = await findCalRows(writeDat(scratch, "noise.dat", syntheticSeries(200, [], 0, 7)), opts);
    assert.deepEqual(res.aboveThreshold, []);
    assert.equal(res.totalRemoved, 0);
  });

  it("uses calrow_threshold_mads strictly (> threshold) and the margin given", () => {
    // Ten rows at 9, one at 10, eight at 11: median 10, MAD 1. Then 60 scores exactly 50, 60.5 scores 50.5.
    const meds = [...Array(10).fill(9), 10, ...Array(8).fill(11), 60, 60.5];
    const d = decideCalRows(meds, { thresholdMads: 50 });
    assert.equal(d.medianOfMedians, 10);
    assert.equal(d.madOfMedians, 1);
    assert.deepEqual(d.aboveThreshold, [21]);
    assert.deepEqual(d.flagged, [20, 21]);
    assert.deepEqual(decideCalRows(meds, { thresholdMads: 49 }).aboveThreshold, [20, 21]);
    assert.deepEqual(decideCalRows(meds, { thresholdMads: 50, marginRows: 0 }).flagged, [21]);
    assert.deepEqual(decideCalRows(meds, { thresholdMads: 50, marginRows: 3 }).flagged, [18, 19, 20, 21]);
  });

  it("streams the file in whole rows, ignores a partial last row, and warns on a row-count mismatch", async () => {
    const data = syntheticSeries(37, [5], 100, 3);
    const dat = writeDat(scratch, "odd.dat", data, 100);
    const small = await readRowMedians(dat, SPR, { chunkBytes: 3 * SPR * 4 + 5 });
    const big = await readRowMedians(dat, SPR);
    assert.deepEqual(small, big);
    assert.equal(big.rows, 37);
    assert.equal(big.trailingSamples, 100);
    for (let r = 0; r < 37; r++) {
      assert.equal(big.medians[r], medianFloat32(data.slice(r * SPR, (r + 1) * SPR)));
    }
    const res = await findCalRows(dat, { ...opts, expectedRows: 40 });
    assert.match(res.warnings[0], /has 37 whole rows of 256 samples but beam\.fits has 40 rows/);
    assert.match(res.reportText, /100 trailing samples ignored/);
    assert.match(res.reportText, /^Warning: /m);
  });

  it("computes medians as numpy does on float32 (mean of the middle pair in float32)", () => {
    assert.equal(medianFloat32(Float32Array.from([4, 1, 3, 2])), 2.5);
    assert.equal(medianFloat32(Float32Array.from([3, 1, 2])), 2);
    // float32(16777216 + 16777218) rounds to 33554432: numpy gives 16777216, not 16777217.
    assert.equal(medianFloat32(Float32Array.from([16777216, 16777218])), 16777216);
    assert.ok(Number.isNaN(medianFloat32(Float32Array.from([1, NaN, 2]))));
  });

  it("names the FITS file after the .dat by default (<base>_pre_DM0.00.dat -> <base>.fits)", async () => {
    const dat = writeDat(scratch, "p2030.20230225.G037.00-00.10.b0.00000_pre_DM0.00.dat", syntheticSeries(20, [1]));
    const res = await findCalRows(dat, { samplesPerRow: SPR, thresholdMads: 50 });
    assert.deepEqual(res.commands, [["p2030.20230225.G037.00-00.10.b0.00000.fits[SUBINT]", "1", "2"]]);
  });
});
