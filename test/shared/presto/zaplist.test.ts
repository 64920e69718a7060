import assert from "node:assert/strict";
import { parseZaplist, percentZapped, readZaplist } from "../../../shared/presto";
import { Scratch, assertParseError, fixture, readFixture } from "./helpers";

describe("search/parsers/zaplist", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("reads makezaplist.py's list (60 Hz mains and 9 harmonics, topocentric)", () => {
    const z = readZaplist(fixture("beam_J1903.zaplist"));
    assert.equal(z.length, 10);
    assert.deepEqual(z[0], { freq: 60, width: 0.05, barycentric: false, line: 6 });
    assert.deepEqual(
      z.map((e) => [e.freq, e.width]),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((h) => [60 * h, Number((0.05 * h).toFixed(2))]),
    );
  });

  it("computes PALFA's percent-zapped diagnostics", () => {
    const z = readZaplist(fixture("beam_J1903.zaplist"));
    const pz = percentZapped(z);
    // All ten birdies lie inside [1/15 Hz, 2000 Hz]: 2.75 Hz of 1999.93 Hz; none below 10 Hz.
    assert.ok(Math.abs(pz.total - (2.75 / (2000 - 1 / 15)) * 100) < 1e-12);
    assert.equal(pz.below10Hz, 0);
    assert.equal(pz.below1Hz, 0);
  });

  it("clips birdies to the searched band like PALFA (and divides as PALFA did)", () => {
    const entries = [
      { freq: 0.5, width: 2.0, barycentric: true, line: 1 }, // [-0.5, 1.5] -> [1/15, 1.5]
      { freq: 5.0, width: 1.0, barycentric: false, line: 2 }, // [4.5, 5.5]
      { freq: 1999.9, width: 1.0, barycentric: false, line: 3 }, // [1999.4, 2000.4] -> [1999.4, 2000]
    ];
    const pz = percentZapped(entries, { longPeriod: 15.0, shortPeriod: 0.0005 });
    const lo = 1 / 15;
    assert.ok(Math.abs(pz.total - ((1.5 - lo + 1.0 + 0.6) / (2000 - lo)) * 100) < 1e-9);
    assert.ok(Math.abs(pz.below10Hz - ((1.5 - lo + 1.0) / (2000 - 10)) * 100) < 1e-9);
    assert.ok(Math.abs(pz.below1Hz - ((1.0 - lo) / (2000 - 1)) * 100) < 1e-9);
  });

  it("accepts the barycentric 'B' form and comments", () => {
    // The line syntax zapbirds reads (src/zapping.c), not a PRESTO output file.
    const z = parseZaplist("# comment\nB 60.0 0.05\n  120 0.1  # trailing comment\n\n", "syntax");
    assert.deepEqual(z, [
      { freq: 60, width: 0.05, barycentric: true, line: 2 },
      { freq: 120, width: 0.1, barycentric: false, line: 3 },
    ]);
  });

  it("fails on a damaged line", () => {
    const p = scratch.write("damaged.zaplist", readFixture("beam_J1903.zaplist").replace("0.25", "0.2.5"));
    assertParseError(() => readZaplist(p), p, 10, /freq/);
  });
});
