import assert from "node:assert/strict";
import { parseBestprof, readBestprofFile } from "../../../shared/presto";
import { Scratch, assertParseError, firstLines, fixture, readFixture } from "./helpers";

const CAND1 = "beam_J1903_DM57.00_Z0_ACCEL_Cand_1.pfd.bestprof";
const CAND5 = "beam_J1903_DM57.00_Z0_ACCEL_Cand_5.pfd.bestprof";

describe("search/parsers/bestprof", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("reads the fold of candidate 1 (the pulsar)", () => {
    const b = readBestprofFile(fixture(CAND1));
    assert.equal(b.inputFile, "beam_J1903.fits");
    assert.equal(b.candidate, "ACCEL_Cand_1");
    assert.equal(b.telescope, "Arecibo");
    assert.deepEqual(b.epochTopo, { text: "60000.250000000000", value: 60000.25 });
    assert.deepEqual(b.epochBary, { text: "60000.247380353823", value: 60000.247380353823 });
    assert.equal(b.sampleTime, 6.5476e-5);
    assert.equal(b.dataFolded, 552960);
    assert.equal(b.dataAvg, 962.302330302137);
    assert.equal(b.dataStdDev, 24.9966906967931);
    assert.equal(b.profileBins, 100);
    assert.equal(b.profileAvg, 5315258.85860915);
    assert.equal(b.profileStdDev, 1858.78592215637);
    assert.equal(b.reducedChiSqr, 38.628);
    assert.deepEqual(b.probNoise, { relation: "<", probability: 0, sigma: 56.7 });
    assert.equal(b.bestDm, 57.0);
    assert.deepEqual(b.pTopoMs, {
      value: 89.2952416378874,
      uncertainty: 0.00146,
      text: "89.2952416378874  +/- 0.00146",
      truncated: false,
    });
    assert.equal(b.pdotTopo?.value, 2.43341277028959e-7);
    assert.equal(b.pdotTopo?.uncertainty, 3.11e-7);
    assert.equal(b.pddotTopo?.value, 1.10688092987726e-12);
    assert.equal(b.pddotTopo?.uncertainty, 5.57e-8);
    assert.equal(b.pBaryMs?.value, 89.3013382849494);
    assert.equal(b.pBaryMs?.uncertainty, 0.00146);
    assert.equal(b.pdotBary?.value, 2.43324788944598e-7);
    assert.equal(b.pddotBary?.value, 1.32575880363889e-12);
    assert.equal(b.orbit, null);
    assert.equal(b.profile.length, 100);
    assert.equal(b.profile[0], 5310722);
    assert.equal(b.profile[99], 5312059);
  });

  it("reads the fold of candidate 5 (a fractional harmonic, 25.5 ms)", () => {
    const b = readBestprofFile(fixture(CAND5));
    assert.deepEqual(b.probNoise, { relation: "<", probability: 6.85e-46, sigma: 14.2 });
    assert.equal(b.reducedChiSqr, 7.279);
    assert.equal(b.bestDm, 57.545);
    assert.equal(b.pTopoMs?.value, 25.512421376992);
    assert.equal(b.pTopoMs?.uncertainty, 0.00031);
    assert.equal(b.pBaryMs?.value, 25.514163241683);
    assert.equal(b.profileBins, 50);
    assert.equal(b.profile.length, 50);
    assert.equal(b.profile[0], 1.103145e7);
  });

  it("fails with the first missing profile bin when the profile is cut short", () => {
    // 26 "# key = value" lines and the "####" line, then bin k on line 28 + k.
    const p = scratch.write("cut.pfd.bestprof", firstLines(readFixture(CAND1), 27 + 90));
    const err = assertParseError(() => readBestprofFile(p), p, 28 + 90, /profile bin 90 of 100/);
    assert.equal(err.found, undefined);
  });

  it("fails when a header line is missing", () => {
    const lines = readFixture(CAND1).split("\n");
    lines.splice(15, 1); // drop line 16, "# P_topo (ms) = ..."
    const text = lines.join("\n");
    assertParseError(() => parseBestprof(text, "no_ptopo"), "no_ptopo", 16, /P_topo/);
  });

  it("fails on a damaged value", () => {
    const text = readFixture(CAND1).replace("38.628", "38.6x8");
    assertParseError(() => parseBestprof(text, "damaged"), "damaged", 13, /Reduced chi-sqr/);
  });
});
