// beamflow inject in TypeScript alone: only samples change, and only upwards
// (clipped, never wrapped); rows written with another DAT_SCL get a pulse of the
// same physical size; weight-0 channels are left alone; the same seed gives the
// same bytes; bad inputs are refused naming the file.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { LEVELS, PulsarModel, injectPulsar, writeSynthBeam } from "../../../shared/synth";
import { Scratch, openBeam } from "./helpers";

const FIXTURES = path.join(__dirname, "..", "..", "fixtures", "psrfits");
const MERGED = path.join(FIXTURES, "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits");
const sha = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("inject: a pulsar added to a copy of a beam", function () {
  this.timeout(30_000);
  let scratch: Scratch;
  let noise4: string;
  let noise8: string;
  before(() => {
    scratch = new Scratch("beamflow-inject-");
    noise4 = scratch.path("noise4.fits");
    noise8 = scratch.path("noise8.fits");
    writeSynthBeam({ nchan: 64, lengthS: 3, tsampS: 64e-6, seed: 11, bits: 4 }, noise4);
    writeSynthBeam({ nchan: 64, lengthS: 3, tsampS: 64e-6, seed: 11, bits: 8 }, noise8);
  });
  after(() => scratch.cleanup());

  for (const bits of [4, 8]) {
    it(`${bits}-bit: every byte outside DATA is kept; samples only rise, by about the model's amount`, () => {
      const input = bits === 4 ? noise4 : noise8;
      const out = scratch.path(`inj${bits}.fits`);
      const res = injectPulsar(input, out, { periodS: 0.05, dm: 30, snr: 40, seed: 3 });
      assert.equal(res.channelsInjected, 64);
      assert.ok(Math.abs(res.snr - 40) < 1e-9);
      assert.ok(res.samplesChanged > 0);
      assert.equal(fs.statSync(out).size, fs.statSync(input).size);
      const a = openBeam(input);
      const b = openBeam(out);
      try {
        const d = a.h.subint.data!;
        assert.deepEqual(fs.readFileSync(out).subarray(0, a.h.subint.dataOffset), fs.readFileSync(input).subarray(0, a.h.subint.dataOffset));
        let added = 0;
        for (let r = 0; r < a.h.subint.rows; r++) {
          const x = a.rawRow(r);
          const y = b.rawRow(r);
          assert.deepEqual(y.subarray(0, d.offset), x.subarray(0, d.offset), `row ${r} before DATA`);
          assert.deepEqual(y.subarray(d.offset + d.bytes), x.subarray(d.offset + d.bytes), `row ${r} after DATA`);
          const sx = a.row(r).samples;
          const sy = b.row(r).samples;
          for (let i = 0; i < sx.length; i++) {
            assert.ok(sy[i] >= sx[i], `row ${r} sample ${i} fell from ${sx[i]} to ${sy[i]}`);
            added += sy[i] - sx[i];
          }
        }
        // The dither makes the rounding unbiased: the samples rise in total by the
        // model's pulse summed over channels and samples, times amp * rms (raw units).
        const { nsblk, rows, tbin, chanBw } = a.h.subint;
        const n = nsblk * rows;
        const model = new PulsarModel({ periodS: 0.05, dm: 30, duty: 0.05, phase: 0 }, a.row(0).freqs, chanBw, tbin);
        const pulse = new Float64Array(n);
        let expected = 0;
        for (let c = 0; c < 64; c++) {
          pulse.fill(0);
          model.add(c, 0, n, pulse, res.ampSigma * LEVELS[bits as 4 | 8].rms);
          for (let i = 0; i < n; i++) expected += pulse[i];
        }
        assert.ok(Math.abs(added / expected - 1) < 0.08, `samples rose by ${added} in all, the model says ${expected}`);
      } finally {
        a.close();
        b.close();
      }
    });
  }

  it("a huge pulse is clipped at the top level, never wrapped", () => {
    const out = scratch.path("clipped.fits");
    const res = injectPulsar(noise4, out, { periodS: 0.05, dm: 0, ampSigma: 50, duty: 0.1 });
    assert.ok(res.clippedSamples > 1000, `${res.clippedSamples} clipped`);
    const b = openBeam(out);
    try {
      const s = b.row(2).samples;
      const top = s.filter((v) => v === 15).length;
      assert.ok(top > 0.05 * s.length, "the pulse saturates the samples it covers");
      assert.ok(s.every((v) => v <= 15));
    } finally {
      b.close();
    }
  });

  it("the same seed gives the same bytes, another seed other rounding", () => {
    const a = scratch.path("s1.fits");
    const b = scratch.path("s2.fits");
    const c = scratch.path("s3.fits");
    injectPulsar(noise4, a, { periodS: 0.02, dm: 10, snr: 20, seed: 1 });
    injectPulsar(noise4, b, { periodS: 0.02, dm: 10, snr: 20, seed: 1 });
    injectPulsar(noise4, c, { periodS: 0.02, dm: 10, snr: 20, seed: 2 });
    assert.equal(sha(a), sha(b));
    assert.notEqual(sha(a), sha(c));
  });

  it("respects DAT_SCL per row (the same physical pulse) and leaves DAT_WTS = 0 channels alone", () => {
    // A copy of the 8-bit beam whose row 1 says its samples are worth twice as much
    // (DAT_SCL doubled) and whose channel 7 has weight 0 in every row.
    const edited = scratch.path("edited.fits");
    fs.copyFileSync(noise8, edited);
    const src = openBeam(noise8);
    const { datScl, datWts, rowBytes, dataOffset, nchan, rows } = { ...src.h.subint };
    const fd = fs.openSync(edited, "r+");
    for (let r = 0; r < rows; r++) {
      const buf = src.rawRow(r);
      if (r === 1) for (let c = 0; c < nchan; c++) buf.writeFloatBE(2 * buf.readFloatBE(datScl!.offset + 4 * c), datScl!.offset + 4 * c);
      buf.writeFloatBE(0, datWts!.offset + 4 * 7);
      fs.writeSync(fd, buf, 0, rowBytes, dataOffset + r * rowBytes);
    }
    fs.closeSync(fd);
    src.close();

    const out = scratch.path("edited-inj.fits");
    // A pulse that repeats every row (P = one row) so rows 0, 1 and 2 see the same pulses.
    const rowS = 2048 * 64e-6;
    injectPulsar(edited, out, { periodS: rowS / 4, dm: 0, ampSigma: 2, duty: 0.1 });
    const a = openBeam(edited);
    const b = openBeam(out);
    try {
      const addedIn = (r: number, c: number): number => {
        const x = a.row(r).samples;
        const y = b.row(r).samples;
        let s = 0;
        for (let t = 0; t < 2048; t++) s += y[t * nchan + c] - x[t * nchan + c];
        return s;
      };
      let row0 = 0;
      let row1 = 0;
      let row2 = 0;
      for (let c = 0; c < nchan; c++) {
        if (c === 7) continue;
        row0 += addedIn(0, c);
        row1 += addedIn(1, c);
        row2 += addedIn(2, c);
      }
      assert.ok(Math.abs(row1 / row0 - 0.5) < 0.05, `row 1 (DAT_SCL x2) got ${row1 / row0} of row 0's raw increase`);
      assert.ok(Math.abs(row2 / row0 - 1) < 0.05, `row 2 got ${row2 / row0} of row 0's`);
      for (let r = 0; r < 3; r++) assert.equal(addedIn(r, 7), 0, "the weight-0 channel is untouched");
    } finally {
      a.close();
      b.close();
    }
  });

  it("works on a combine_mocks output (4-bit, blank weight-0 channels skipped)", () => {
    const out = scratch.path("merged-inj.fits");
    const res = injectPulsar(MERGED, out, { periodS: 0.0123, dm: 20, snr: 15, paramsJson: scratch.path("merged-inj.json") });
    assert.equal(res.nchan, 66);
    assert.equal(res.channelsInjected, 64);
    const truth = JSON.parse(fs.readFileSync(scratch.path("merged-inj.json"), "utf8"));
    assert.equal(truth.pulsar.period_s, 0.0123);
    assert.equal(truth.pulsar.snr, 15);
    assert.equal(truth.input, path.basename(MERGED));
  });

  it("refuses what it cannot inject into, naming the file", () => {
    const notFits = scratch.path("notes.fits");
    fs.writeFileSync(notFits, "SIMPLE? no, just some text\n".repeat(200));
    assert.throws(
      () => injectPulsar(notFits, scratch.path("x.fits"), { periodS: 0.1, dm: 1, snr: 10 }),
      new RegExp(`cannot inject into ${notFits}: not a readable PSRFITS file`),
    );
    const short = scratch.path("short.fits");
    fs.writeFileSync(short, fs.readFileSync(noise4).subarray(0, 100_000));
    assert.throws(() => injectPulsar(short, scratch.path("x.fits"), { periodS: 0.1, dm: 1, snr: 10 }), new RegExp(`cannot inject into ${short}: truncated: `));
    assert.throws(() => injectPulsar(scratch.path("missing.fits"), scratch.path("x.fits"), { periodS: 0.1, dm: 1, snr: 10 }), /missing\.fits: cannot open/);
    assert.throws(() => injectPulsar(noise4, noise4, { periodS: 0.1, dm: 1, snr: 10 }), /would overwrite the input/);
    assert.throws(() => injectPulsar(noise4, scratch.path("x.fits"), { periodS: 0.1, dm: 1 }), /--snr/);
    assert.throws(() => injectPulsar(noise4, scratch.path("x.fits"), { periodS: 1e-5, dm: 1, snr: 5 }), /at least two samples/);
    assert.ok(!fs.existsSync(scratch.path("x.fits")));
    assert.deepEqual(
      fs.readdirSync(scratch.dir).filter((f) => f.endsWith(".tmp")),
      [],
    );
  });
});
