import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { observationLength, parseInf, readInfFile } from "../../../shared/presto";
import { ALL_DMS, Scratch, assertParseError, firstLines, fixture, readFixture } from "./helpers";

describe("search/parsers/inf", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("reads a dedispersed series' .inf with breaks (DM 57)", () => {
    const inf = readInfFile(path.join(ALL_DMS, "beam_J1903_DM57.00.inf"));
    assert.equal(inf.basename, "beam_J1903_DM57.00");
    assert.equal(inf.telescope, "Arecibo");
    assert.equal(inf.instrument, "pdev");
    assert.equal(inf.object, "G037.00-00.10");
    assert.equal(inf.raString, "19:03:05.8000");
    assert.equal(inf.decString, "03:27:19.0000");
    assert.equal(inf.observer, "synthetic");
    assert.deepEqual(inf.mjd, {
      text: "60000.247380353663175",
      int: 60000,
      frac: 0.247380353663175,
      value: 60000.247380353663175,
    });
    assert.equal(inf.barycentred, true);
    assert.equal(inf.numSamples, 76800);
    assert.equal(inf.sampleTime, 0.000523807999999999);
    assert.equal(inf.breaks, true);
    assert.deepEqual(inf.onOff, [
      [0, 76036],
      [76799, 76799],
    ]);
    assert.equal(inf.emBand, "Radio");
    assert.deepEqual(inf.radio, {
      beamDiameterArcsec: 216,
      dm: 57,
      lowChannelFreqMHz: 1215.46020508,
      totalBandwidthMHz: 322.6,
      numChannels: 128,
      channelWidthMHz: 2.5203125,
    });
    assert.equal(inf.highEnergy, null);
    assert.equal(inf.optical, null);
    assert.equal(inf.analyst, "root");
    assert.equal(inf.notes, "Project ID p2030, Date: 2023-02-25T06:00:00.000.\n2 polns were summed.  Samples have 4 bits.");
    // T = N * dt, the length sifting divides Fourier bins by.
    assert.equal(observationLength(inf), 76800 * 0.000523807999999999);
  });

  it("reads rfifind's .inf, which has no breaks: one on/off pair [0, N-1]", () => {
    const inf = readInfFile(fixture("beam_J1903_rfifind.inf"));
    assert.equal(inf.basename, "beam_J1903_rfifind");
    assert.equal(inf.mjd?.text, "60000.250000000000000");
    assert.equal(inf.mjd?.frac, 0.25);
    assert.equal(inf.barycentred, false);
    assert.equal(inf.numSamples, 612352);
    assert.equal(inf.sampleTime, 6.54759999999999e-5);
    assert.equal(inf.breaks, false);
    assert.deepEqual(inf.onOff, [[0, 612351]]);
    assert.equal(inf.radio?.dm, 0);
  });

  it("reads all 156 DM trials, each with the DM of its file name", () => {
    const infs = fs.readdirSync(ALL_DMS).filter((f) => f.endsWith(".inf"));
    assert.equal(infs.length, 156);
    for (const name of infs) {
      const inf = readInfFile(path.join(ALL_DMS, name));
      assert.equal(inf.radio?.dm, Number(/_DM([\d.]+)\.inf$/.exec(name)![1]), name);
      assert.equal(inf.numSamples, 76800);
    }
  });

  it("fails with the line of the missing on/off pair when cut after the breaks flag", () => {
    const p = scratch.write("cut_after_breaks.inf", firstLines(readFixture("all_dms", "beam_J1903_DM57.00.inf"), 12));
    const err = assertParseError(() => readInfFile(p), p, 13, /on\/off bin pair #1/);
    assert.equal(err.found, undefined);
  });

  it("fails when the last line was cut mid-way (no final newline)", () => {
    const text = readFixture("all_dms", "beam_J1903_DM57.00.inf");
    const p = scratch.write("cut_mid_line.inf", text.slice(0, text.indexOf("Total bandwidth") + 10));
    assertParseError(() => readInfFile(p), p, 19, /complete line/);
  });

  it("fails when the notes header is missing", () => {
    const p = scratch.write("no_notes.inf", firstLines(readFixture("all_dms", "beam_J1903_DM57.00.inf"), 22));
    assertParseError(() => readInfFile(p), p, 23, /Any additional notes/);
  });

  it("fails on a non-numeric sample count, pointing at that line", () => {
    const text = readFixture("all_dms", "beam_J1903_DM57.00.inf").replace("=  76800", "=  lots!");
    assertParseError(() => parseInf(text, "damaged.inf"), "damaged.inf", 10, /number of bins/);
  });
});
