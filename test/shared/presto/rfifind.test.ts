import assert from "node:assert/strict";
import { readRfifindOutput } from "../../../shared/presto";
import { Scratch, assertParseError, fixture, readFixture } from "./helpers";

describe("search/parsers/rfifind", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("reads the masked percentage and rfifind's summary numbers", () => {
    const r = readRfifindOutput(fixture("beam_J1903_rfifind.out"));
    assert.equal(r.maskedPercent, 0.74);
    assert.deepEqual(r.bad, { count: 18, percent: 0.74 });
    assert.deepEqual(r.good, { count: 2286, percent: 93.997 });
    assert.deepEqual(r.padded, { count: 128, percent: 5.263 });
    assert.equal(r.totalIntervals, 2432);
    assert.equal(r.numChannels, 128);
    assert.equal(r.numIntervals, 19);
    assert.equal(r.pointsPerInterval, 32768);
    assert.equal(r.secondsPerInterval, 2.14552);
    assert.equal(r.rfiInstances, 195);
    assert.equal(r.numFiles, 1);
    assert.equal(r.centerFreqMHz, 1375.5);
    assert.equal(r.sampleTimeS, 6.5476e-5);
    assert.equal(r.spectraPerSubint, 2048);
    assert.equal(r.totalPoints, 612352);
    assert.equal(r.totalTimeS, 40.094359552);
    assert.equal(r.clippingSigma, 6);
    assert.equal(r.mostSignificantBirdies.length, 10);
    assert.deepEqual(r.mostSignificantBirdies[0], { sigma: 105.6, periodMs: 29.1907, freqHz: 34.2575, number: 31 });
    assert.equal(r.mostNumerousBirdies.length, 10);
    assert.deepEqual(r.mostNumerousBirdies[0], { number: 41, periodMs: 58.7813, freqHz: 17.0122, sigma: 45.85 });
  });

  it("fails with a ParseError when rfifind stopped before the interval summary", () => {
    const text = readFixture("beam_J1903_rfifind.out");
    const cut = text.slice(0, text.indexOf("Total number of intervals"));
    const p = scratch.write("unfinished_rfifind.out", cut);
    assertParseError(() => readRfifindOutput(p), p, cut.split("\n").length, /bad\s+intervals/);
  });
});
