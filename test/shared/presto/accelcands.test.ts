import assert from "node:assert/strict";
import { formatAccelcands, parseAccelcands, readAccelcandsFile } from "../../../shared/presto";
import { Scratch, assertParseError, firstLines, fixture, readFixture } from "./helpers";

describe("search/parsers/accelcands", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("reads the sifted list written by PRESTO's sifting.py", () => {
    const list = readAccelcandsFile(fixture("beam_J1903.accelcands"));
    assert.equal(list.length, 32);
    const best = list[0]!;
    assert.equal(best.accelFile, "beam_J1903_DM57.00_ACCEL_0");
    assert.equal(best.candnum, 1);
    assert.equal(best.dm, 57);
    assert.equal(best.snr, 146.29);
    assert.equal(best.sigma, 59.47);
    assert.equal(best.numharm, 16);
    assert.equal(best.ipow, 1858.6);
    assert.equal(best.cpow, 21250.8);
    assert.equal(best.periodMs, 89.303491);
    assert.equal(best.r, 450.47);
    assert.equal(best.z, 0);
    assert.equal(best.hits.length, 133);
    assert.deepEqual(best.hits[0], { dm: 0, snr: 15.47, sigma: 12.86 });
    assert.deepEqual(best.hits[57], { dm: 57, snr: 146.29, sigma: 59.47 });

    const hi = list[5]!;
    assert.equal(`${hi.accelFile}:${hi.candnum}`, "beam_J1903_DM136.00_ACCEL_50:2");
    assert.equal(hi.z, 15);
    assert.equal(hi.hits.length, 2);
    assert.equal(list[7]!.z, -2); // "beam_J1903_DM92.00_ACCEL_50:2 ... -2.00"
  });

  it("writes back exactly the bytes it read", () => {
    const text = readFixture("beam_J1903.accelcands");
    assert.equal(formatAccelcands(parseAccelcands(text, "beam_J1903.accelcands")), text);
  });

  it("fails when a candidate's hit list is cut short", () => {
    const p = scratch.write("cut.accelcands", firstLines(readFixture("beam_J1903.accelcands"), 100));
    const err = assertParseError(() => readAccelcandsFile(p), p, 101, /hit line 99 of 133/);
    assert.equal(err.found, undefined);
  });

  it("fails on a damaged candidate line", () => {
    const text = readFixture("beam_J1903.accelcands").replace("(133)", "(13x)");
    assertParseError(() => parseAccelcands(text, "damaged"), "damaged", 2, /candidate line/);
  });
});
