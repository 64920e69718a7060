import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parseAccel, readAccelFile } from "../../../shared/presto";
import { ALL_DMS, Scratch, assertParseError, firstLines, readFixture } from "./helpers";

const DM57_Z0 = path.join(ALL_DMS, "beam_J1903_DM57.00_ACCEL_0");

describe("search/parsers/accel", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("reads the fundamentals table with values, uncertainties and known-pulsar notes", () => {
    const a = readAccelFile(DM57_Z0);
    assert.equal(a.hasJerk, false);
    assert.equal(a.candidates.length, 13);
    const c = a.candidates[0]!;
    assert.equal(c.candnum, 1);
    assert.equal(c.line, 4);
    assert.equal(c.sigma, 56.18);
    assert.equal(c.summedPower, 1674.0); // "1674.04" cut to the 6-character column by accelsearch
    assert.equal(c.coherentPower, 21250.79);
    assert.equal(c.numHarmonics, 16);
    assert.deepEqual(c.periodMs, { value: 89.304, uncertainty: 0.006, text: "89.304(6)", truncated: false });
    assert.deepEqual(c.frequencyHz, { value: 11.1978, uncertainty: 0.0008, text: "11.1978(8)", truncated: false });
    assert.deepEqual(c.r, { value: 450.469, uncertainty: 0.031, text: "450.469(31)", truncated: false });
    assert.deepEqual(c.fdot, { value: 0, uncertainty: 0.00008, text: "0.00000(8)", truncated: false });
    assert.deepEqual(c.z, { value: 0, uncertainty: 0.13, text: "0.00(13)", truncated: false });
    assert.equal(c.w, null);
    assert.deepEqual(c.accelMs2, { value: 0, uncertainty: 2100, text: "0.0(2.1)x10^3", truncated: false });
    assert.equal(c.notes, "SL H9 J1901+0315_P");
    assert.equal(a.candidates[2]!.notes, "11th H J1901+0315_P");
    const last = a.candidates[12]!;
    assert.equal(last.candnum, 13);
    assert.equal(last.numHarmonics, 1);
    assert.equal(last.notes, "");
    assert.deepEqual(last.frequencyHz, { value: 224.21, uncertainty: 0.01, text: "224.21(1)", truncated: false });
  });

  it("reads the harmonics table, including fields accelsearch cut to their column width", () => {
    const a = readAccelFile(DM57_Z0);
    const c1 = a.candidates[0]!;
    assert.equal(c1.harmonics.length, 16);
    const h1 = c1.harmonics[0]!;
    assert.equal(h1.harmonic, 1);
    assert.equal(h1.line, 22);
    assert.equal(h1.sigma, 24.61);
    assert.deepEqual(h1.power, { value: 307, uncertainty: 25, text: "307(25)", truncated: false });
    assert.equal(h1.rawPower, 296);
    assert.deepEqual(h1.r, { value: 450.458, uncertainty: 0.023, text: "450.458(23)", truncated: false });
    assert.equal(h1.predictedR, 450.47);
    assert.deepEqual(h1.phaseRad, { value: 4.397, uncertainty: 0.04, text: "4.397(40)", truncated: false });
    assert.deepEqual(h1.purity, { value: 0.98, uncertainty: 0.018, text: "0.980(18)", truncated: false });
    assert.equal(h1.notes, "SL H9 J1901+0315_P");
    assert.deepEqual(c1.harmonics[9]!.power, { value: 33.1, uncertainty: 8.1, text: "33.1(8.1)", truncated: false });

    // Candidate 2, harmonic 9 (line 46): "0.0(2.4)x10^-2", then a phase cut to
    // "0.0(4.2)x10" and a centroid cut to "0.5(1.2)x" (their exponents are lost).
    const h9 = a.candidates[1]!.harmonics[8]!;
    assert.equal(h9.line, 46);
    assert.deepEqual(h9.power, { value: 0, uncertainty: 0.024, text: "0.0(2.4)x10^-2", truncated: false });
    assert.equal(h9.rawPower, 0.000272);
    assert.equal(h9.phaseRad.text, "0.0(4.2)x10");
    assert.equal(h9.phaseRad.truncated, true);
    assert.equal(h9.phaseRad.value, 0);
    assert.ok(Number.isNaN(h9.phaseRad.uncertainty));
    assert.equal(h9.centroid.text, "0.5(1.2)x");
    assert.equal(h9.centroid.truncated, true);
    assert.ok(Number.isNaN(h9.centroid.value));
    assert.deepEqual(h9.purity, { value: 18.74, uncertainty: 0.99, text: "18.74(99)", truncated: false });
  });

  it("reads the .inf appended to the ACCEL file and T = N*dt from it", () => {
    const a = readAccelFile(DM57_Z0);
    assert.equal(a.inf.basename, "beam_J1903_DM57.00");
    assert.equal(a.inf.radio?.dm, 57);
    assert.equal(a.T, 76800 * 0.000523807999999999);
  });

  it("reads the zmax=50 file (8 harmonics at most)", () => {
    const a = readAccelFile(path.join(ALL_DMS, "beam_J1903_DM57.00_ACCEL_50"));
    assert.equal(a.candidates.length, 9);
    const c = a.candidates[0]!;
    assert.equal(c.sigma, 53.29);
    assert.equal(c.numHarmonics, 8);
    assert.deepEqual(c.r, { value: 450.5, uncertainty: 0.063, text: "450.500(63)", truncated: false });
    assert.deepEqual(c.accelMs2, { value: 0, uncertainty: 4100, text: "0.0(4.1)x10^3", truncated: false });
  });

  it("reads every ACCEL file of the beam (156 zmax=0, 151 zmax=50)", () => {
    const names = fs.readdirSync(ALL_DMS).filter((f) => /_ACCEL_\d+$/.test(f));
    assert.equal(names.filter((f) => f.endsWith("_ACCEL_0")).length, 156);
    assert.equal(names.filter((f) => f.endsWith("_ACCEL_50")).length, 151);
    let cands = 0;
    for (const name of names) {
      const a = readAccelFile(path.join(ALL_DMS, name));
      for (const c of a.candidates) {
        assert.equal(c.harmonics.length, c.numHarmonics, `${name}:${c.candnum}`);
        assert.ok(Number.isFinite(c.r.value) && Number.isFinite(c.z.value), `${name}:${c.candnum}`);
      }
      assert.equal(a.T, 76800 * 0.000523807999999999);
      cands += a.candidates.length;
    }
    assert.equal(cands, 2092);
  });

  it("uses the sibling .inf for an ACCEL file without the appended block (older PRESTO)", () => {
    // Lines 1-142 are the two tables and the blank lines after them; the .inf starts at 143.
    const text = firstLines(readFixture("all_dms", "beam_J1903_DM57.00_ACCEL_0"), 142);
    const alone = new Scratch();
    try {
      const p = alone.write("beam_J1903_DM57.00_ACCEL_0", text);
      assertParseError(() => readAccelFile(p), p, 143, /\.inf block/);
      alone.write("beam_J1903_DM57.00.inf", readFixture("all_dms", "beam_J1903_DM57.00.inf"));
      const a = readAccelFile(p);
      assert.equal(a.infSource, "separate");
      assert.equal(a.candidates.length, 13);
      assert.equal(a.T, 76800 * 0.000523807999999999);
    } finally {
      alone.cleanup();
    }
    assert.equal(readAccelFile(DM57_Z0).infSource, "appended");
  });

  it("fails on a file cut inside the harmonics table, naming the missing harmonic", () => {
    const p = scratch.write("cut_harmonics_ACCEL_0", firstLines(readFixture("all_dms", "beam_J1903_DM57.00_ACCEL_0"), 40));
    const err = assertParseError(() => readAccelFile(p), p, 41, /harmonic 4 of 16 of candidate 2/);
    assert.equal(err.found, undefined);
  });

  it("fails on a file cut inside the appended .inf", () => {
    const p = scratch.write("cut_inf_ACCEL_0", firstLines(readFixture("all_dms", "beam_J1903_DM57.00_ACCEL_0"), 150));
    assertParseError(() => readAccelFile(p), p, 151, /barycentred/);
  });

  it("fails on a file cut mid-line", () => {
    const text = readFixture("all_dms", "beam_J1903_DM57.00_ACCEL_0");
    const p = scratch.write("cut_mid_ACCEL_0", text.slice(0, text.indexOf("SL H37 J1901+0315_P")));
    assertParseError(() => readAccelFile(p), p, 25, /complete line/);
  });

  it("fails on a damaged row, naming the column", () => {
    const lines = readFixture("all_dms", "beam_J1903_DM57.00_ACCEL_0").split("\n");
    lines[4] = `${lines[4]!.slice(0, 5)}X${lines[4]!.slice(6)}`; // "2    X19.51  257.39 ..."
    assertParseError(() => parseAccel(lines.join("\n"), "damaged"), "damaged", 5, /Sigma column/);
    lines[4] = lines[4]!.slice(0, 60); // a row with too few columns
    assertParseError(() => parseAccel(lines.join("\n"), "damaged"), "damaged", 5, /row with 11 columns/);
  });

  it("reads rows that are not in accelsearch's column layout by splitting on whitespace", () => {
    // e.g. a copy re-spaced by some tool: single spaces between the fields.
    const lines = readFixture("all_dms", "beam_J1903_DM57.00_ACCEL_0").split("\n");
    for (const k of [3, 21, 22]) lines[k] = lines[k]!.trim().split(/\s+/).join(" "); // cand 1, harmonics 1-2
    const c = parseAccel(lines.join("\n"), "respaced").candidates[0]!;
    assert.equal(c.sigma, 56.18);
    assert.equal(c.r.text, "450.469(31)");
    assert.equal(c.notes, "SL H9 J1901+0315_P");
    assert.equal(c.harmonics[0]!.power.text, "307(25)");
    assert.equal(c.harmonics[1]!.power.text, "303(25)");
    assert.equal(c.harmonics[1]!.notes, "SL H18 J1901+0315_P");
  });
});
