// beamflow synth in TypeScript alone: the headers read back as a Mock PSRFITS
// file, the samples have the intended statistics, the Mock halves split the band
// as documented, the same seed gives the same bytes, bad options are named, and a
// beam is written fast enough to be made inside tests and canary runs.

import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import { readPsrfitsHeader } from "../../../shared/psrfits";
import { LEVELS, quantisationGain, writeSynthBeam, type SynthOptions } from "../../../shared/synth";
import { normalCdf, normalQuantile, erf } from "../../../shared/synth/special";
import { galactic, palfaSourceName, parseDec, parseRa, calendar, splitMjd } from "../../../shared/synth/sky";
import { Scratch, mean, openBeam, rms } from "./helpers";

const sha = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

const SMALL: SynthOptions = { nchan: 64, lengthS: 2, tsampS: 64e-6, seed: 5 };

describe("synth: the numbers underneath", () => {
  it("normal distribution: erf, CDF and quantiles to ~1e-12", () => {
    assert.ok(Math.abs(erf(0.5) - 0.5204998778130465) < 1e-14);
    assert.ok(Math.abs(normalCdf(1.959963984540054) - 0.975) < 1e-13);
    assert.ok(Math.abs(normalCdf(-5) - 2.866515718791939e-7) / 2.866515718791939e-7 < 1e-10);
    for (const p of [1e-9, 0.01, 0.3, 0.5, 0.77, 0.999]) assert.ok(Math.abs(normalCdf(normalQuantile(p)) - p) < 1e-12 * Math.max(1, p / 1e-3));
  });

  it("quantisation keeps ~99% of a weak signal's S/N at 4 bits and all of it at 8", () => {
    const q4 = quantisationGain(4);
    const q8 = quantisationGain(8);
    assert.ok(q4.efficiency > 0.97 && q4.efficiency < 1, `4-bit efficiency ${q4.efficiency}`);
    assert.ok(Math.abs(q8.efficiency - 1) < 0.005, `8-bit efficiency ${q8.efficiency}`);
    assert.ok(Math.abs(q4.noiseRms - 3) < 0.1);
  });

  it("sky: PALFA's Galactic names, dates and the PSRFITS start-time split", () => {
    const { l, b } = galactic(parseRa("19:03:05.8"), parseDec("+03:27:19.0"));
    assert.equal(palfaSourceName(l, b), "G037.34-01.01"); // astropy: l 37.336297, b -1.013660
    assert.equal(palfaSourceName(45.1, 0.2), "G045.10+00.20");
    assert.equal(palfaSourceName(5.004, -0.001), "G005.00+00.00");
    assert.deepEqual(splitMjd(60000.25), { imjd: 60000, smjd: 21600, offs: 0 });
    assert.equal(calendar(60000, 21600).dateTime, "2023-02-25T06:00:00.000");
    assert.equal(calendar(61015, 0).yyyymmdd, "20251206");
    assert.throws(() => parseRa("25:00:00"), /RA "25:00:00"/);
    assert.throws(() => parseDec("+91:00:00"), /Dec/);
  });
});

describe("synth: a single file", function () {
  this.timeout(60_000);
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("reads back as a 4-bit Mock PSRFITS search-mode file with the asked geometry", () => {
    const out = scratch.path("one.fits");
    const res = writeSynthBeam({ ...SMALL, beam: 4, startMjd: 60123.5, pulsar: { periodS: 0.05, dm: 30, snr: 20 } }, out);
    const h = readPsrfitsHeader(out);
    assert.equal(h.fitsType, "PSRFITS");
    assert.equal(h.obsMode, "SEARCH");
    assert.equal(h.telescope, "Arecibo");
    assert.equal(h.backend, "pdev");
    assert.equal(h.frontend, "alfa");
    assert.equal(h.beamId, 4);
    assert.equal(h.source, "G037.34-01.01");
    assert.equal(h.subint.nbits, 4);
    assert.equal(h.subint.nchan, 64);
    assert.equal(h.subint.npol, 1);
    assert.equal(h.subint.tbin, 64e-6); // exact: TBIN is written with every digit
    assert.equal(h.subint.nsblk, 2048);
    assert.equal(h.subint.rows, Math.ceil(2 / (2048 * 64e-6)));
    assert.ok(h.subint.chanBw < 0 && h.channelsHighToLow);
    assert.ok(Math.abs(h.bandwidthMhz - 322.6) < 1e-9);
    assert.ok(Math.abs(h.centreFreqMhz - 1375.5) < 1e-9);
    assert.equal(h.startMjdString.slice(0, 10), "60123.5000");
    assert.equal(h.dateObs, "2023-06-28T12:00:00.000");
    assert.deepEqual(h.warnings, []);
    assert.equal(h.fileBytes % 2880, 0);
    assert.equal(res.files[0].bytes, h.fileBytes);
    for (const col of [
      "INDEXVAL",
      "TSUBINT",
      "OFFS_SUB",
      "LST_SUB",
      "RA_SUB",
      "DEC_SUB",
      "GLON_SUB",
      "GLAT_SUB",
      "FD_ANG",
      "POS_ANG",
      "PAR_ANG",
      "TEL_AZ",
      "TEL_ZEN",
      "DAT_FREQ",
      "DAT_WTS",
      "DAT_OFFS",
      "DAT_SCL",
      "DATA",
    ]) {
      assert.ok(
        h.subint.columns.some((c) => c.name === col),
        `column ${col}`,
      );
    }
  });

  it("samples: quantised Gaussian noise around the mid level, DAT_SCL/DAT_OFFS a smooth bandpass", () => {
    for (const bits of [4, 8] as const) {
      const out = scratch.path(`noise${bits}.fits`);
      writeSynthBeam({ ...SMALL, bits }, out);
      const beam = openBeam(out);
      try {
        const row = beam.row(3);
        const lv = LEVELS[bits];
        const q = quantisationGain(bits);
        assert.ok(Math.abs(mean(row.samples) - lv.mean) < 0.05 * lv.rms, `${bits}-bit mean ${mean(row.samples)}`);
        assert.ok(Math.abs(rms(row.samples) / q.noiseRms - 1) < 0.02, `${bits}-bit rms ${rms(row.samples)}`);
        assert.ok(row.samples.every((v) => v < lv.count));
        for (let c = 1; c < row.freqs.length; c++) assert.ok(row.freqs[c] < row.freqs[c - 1], "descending DAT_FREQ");
        assert.ok(row.weights.every((w) => w === 1));
        assert.ok(row.scales.every((s) => s >= 0.85 - 1e-6 && s <= 1.15 + 1e-6));
        for (let c = 0; c < row.offsets.length; c++) assert.ok(Math.abs(row.offsets[c] - row.scales[c] * lv.mean) < 1e-3);
      } finally {
        beam.close();
      }
    }
  });

  it("a pulsar puts its dispersed pulses where the model says", () => {
    const out = scratch.path("bright.fits");
    // A bright, slow, narrow pulsar: averaging the samples at the pulse phase over
    // rows shows each channel's pulse at its dispersion delay.
    const period = 0.1;
    const dm = 100;
    writeSynthBeam({ ...SMALL, bits: 8, lengthS: 4, pulsar: { periodS: period, dm, duty: 0.02, ampSigma: 1 } }, out);
    const beam = openBeam(out);
    try {
      const { nsblk, nchan, tbin } = beam.h.subint;
      const on = new Float64Array(nchan);
      const off = new Float64Array(nchan);
      const rows = beam.h.subint.rows;
      for (let r = 0; r < rows; r++) {
        const row = beam.row(r);
        for (let t = 0; t < nsblk; t++) {
          const time = (r * nsblk + t) * tbin;
          for (let c = 0; c < nchan; c++) {
            const delay = dm / 0.000241 / (row.freqs[c] * row.freqs[c]);
            let ph = (time - delay) / period;
            ph -= Math.floor(ph);
            const d = Math.min(ph, 1 - ph);
            if (d < 0.004) on[c] += row.samples[t * nchan + c];
            else if (d > 0.1) off[c] += row.samples[t * nchan + c];
          }
        }
      }
      // ~0.008 of the samples are on-pulse, ~0.8 off.
      const perChan = rows * nsblk;
      let rise = 0;
      for (let c = 0; c < nchan; c++) rise += on[c] / (perChan * 0.008) - off[c] / (perChan * 0.8);
      rise /= nchan * LEVELS[8].rms;
      assert.ok(rise > 0.5 && rise < 1.05, `mean on-pulse rise ${rise} sigma (pulse peak 1 sigma, smeared a little)`);
    } finally {
      beam.close();
    }
  });

  it("same seed and options: the same bytes; another seed: other bytes", () => {
    const opts: SynthOptions = {
      ...SMALL,
      pulsar: { periodS: 0.0371, dm: 40 },
      bursts: { count: 2, ampSigma: 3, widthS: 0.01 },
      narrowband: { channels: [5], ampSigma: 2, toneHz: 17.3 },
      birdie: { freqHz: 60, ampSigma: 0.05 },
    };
    const a = scratch.path("a.fits");
    const b = scratch.path("b.fits");
    const c = scratch.path("c.fits");
    const ra = writeSynthBeam(opts, a, { paramsJson: scratch.path("a.json") });
    writeSynthBeam(opts, b, { paramsJson: scratch.path("b.json") });
    writeSynthBeam({ ...opts, seed: 6 }, c);
    assert.equal(sha(a), sha(b));
    assert.notEqual(sha(a), sha(c));
    const ja = fs.readFileSync(scratch.path("a.json"), "utf8");
    assert.equal(ja.replace(/"a\.fits"/g, '"b.fits"'), fs.readFileSync(scratch.path("b.json"), "utf8"));
    const truth = JSON.parse(ja);
    assert.equal(truth.pulsar.period_s, 0.0371);
    assert.equal(truth.pulsar.period_is, "topocentric");
    assert.equal(truth.pulsar.dm, 40);
    assert.equal(truth.pulsar.snr, 30); // the default target
    assert.ok(truth.pulsar.amp_sigma > 0);
    assert.equal(truth.rfi.bursts.times_s.length, 2);
    assert.deepEqual(truth.rfi.narrowband.channels, [5]);
    assert.equal(truth.rfi.birdie.freq_hz, 60);
    assert.equal(truth.files[0].bytes, ra.files[0].bytes);
    assert.equal(truth.observation.samples, ra.plan.samples);
  });

  it("the noise does not depend on the signals: a pulsar changes only samples near its pulses", () => {
    const a = scratch.path("quiet.fits");
    const b = scratch.path("psr.fits");
    writeSynthBeam({ ...SMALL, bits: 8 }, a);
    writeSynthBeam({ ...SMALL, bits: 8, pulsar: { periodS: 0.25, dm: 10, duty: 0.02, ampSigma: 0.5 } }, b);
    const x = fs.readFileSync(a);
    const y = fs.readFileSync(b);
    assert.equal(x.length, y.length);
    let differ = 0;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) differ++;
    // duty 0.02: the pulse covers ~5% of the samples within 7 sigma; a 0.5-sigma pulse moves few of them.
    assert.ok(differ > 0 && differ < 0.06 * x.length, `${differ} of ${x.length} bytes differ`);
  });

  it("a directory as -o: one file named as combine_mocks names a merged beam", () => {
    const res = writeSynthBeam({ ...SMALL, beam: 2, ra: "19:13:30", dec: "+10:50:00", startMjd: 61015.3 }, scratch.path("merged") + "/");
    assert.equal(res.files[0].path, scratch.path("merged", "p2030.20251206.G045.07+00.10.C.b2g0_0001.fits"));
  });

  it("bad options are refused, naming the option", () => {
    const o = scratch.path("bad.fits");
    const cases: Array<[SynthOptions, RegExp]> = [
      [{ nchan: 63 }, /--nchan must be an even integer/],
      [{ bits: 5 as never }, /--bits must be 4 or 8/],
      [{ tsampS: -1 }, /--tsamp/],
      [{ lengthS: 0 }, /--length/],
      [{ fctrMhz: 100, bwMhz: 300 }, /below 0 MHz/],
      [{ mock: true, overlap: 2 }, /--overlap must be an integer of at least 4/],
      [{ overlap: 4 }, /--overlap only applies to a Mock pair/],
      [{ ra: "7h" }, /RA "7h" is not sexagesimal/],
      [{ source: "has space" }, /--source/],
      [{ pulsar: { periodS: 0 } }, /pulsar period/],
      [{ pulsar: { periodS: 0.1, duty: 0.9 } }, /duty cycle/],
      [{ pulsar: { periodS: 0.1, ampSigma: 1, snr: 5 } }, /--amp or its --snr, not both/],
      [{ nchan: 64, narrowband: { channels: [64], ampSigma: 1, toneHz: 0 } }, /RFI channel 64 is not a channel of this beam \(0-63/],
      [{ birdie: { freqHz: -60, ampSigma: 1 } }, /birdie frequency/],
    ];
    for (const [opts, re] of cases) assert.throws(() => writeSynthBeam({ ...SMALL, ...opts }, o), re);
    assert.throws(() => writeSynthBeam(SMALL, scratch.path("no", "such", "dir.fits")), /does not exist/);
    assert.equal(fs.readdirSync(scratch.dir).filter((f) => f.includes("bad")).length, 0, "nothing left behind");
  });

  it("speed: a 20 s, 128-channel beam with a pulsar, RFI and a birdie is written in a few seconds", () => {
    const out = scratch.path("big.fits");
    const res = writeSynthBeam(
      {
        nchan: 128,
        lengthS: 20,
        seed: 1,
        pulsar: { periodS: 0.0893, dm: 57 },
        birdie: { freqHz: 60, ampSigma: 0.02 },
        bursts: { count: 3, ampSigma: 3, widthS: 0.02 },
        narrowband: { channels: [40], ampSigma: 3, toneHz: 17.3 },
      },
      out,
    );
    console.log(`      (20 s x 128 channels x 65.476 us = ${((res.plan.samples * 128) / 1e6).toFixed(1)} M samples in ${(res.elapsedMs / 1000).toFixed(2)} s)`);
    // How long it takes is measured by `npm run bench -- synth`, not bounded here.
    fs.rmSync(out);
  });
});

describe("synth: a Mock s0/s1 pair", function () {
  this.timeout(30_000);
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("PALFA names; s0 the upper band, s1 the lower, sharing `overlap` channels with the same data", () => {
    const dir = scratch.path("pair");
    const res = writeSynthBeam(
      { ...SMALL, mock: true, nchan: 32, overlap: 6, beam: 3, ra: "19:13:30", dec: "+10:50:00", startMjd: 61015.3, pulsar: { periodS: 0.1, dm: 50 } },
      dir,
    );
    assert.deepEqual(
      res.files.map((f) => f.path),
      [`${dir}/p2030.20251206.G045.07+00.10.C.b3s0g0.00000.fits`, `${dir}/p2030.20251206.G045.07+00.10.C.b3s1g0.00000.fits`],
    );
    assert.equal(res.truth.merged_name, "p2030.20251206.G045.07+00.10.C.b3g0_0001.fits");
    const s0 = openBeam(res.files[0].path);
    const s1 = openBeam(res.files[1].path);
    try {
      for (const b of [s0, s1]) {
        assert.equal(b.h.subint.nchan, 32);
        assert.equal(b.h.beamId, 3);
        assert.ok(b.h.obsBwMhz < 0);
      }
      const r0 = s0.row(1);
      const r1 = s1.row(1);
      assert.ok(r0.freqs[31] < r0.freqs[0] && r1.freqs[0] < r0.freqs[0], "s0 is the upper half");
      // The last 6 channels of s0 are the first 6 of s1: same frequencies, scales and samples.
      for (let k = 0; k < 6; k++) {
        assert.equal(r0.freqs[26 + k], r1.freqs[k]);
        assert.equal(r0.scales[26 + k], r1.scales[k]);
        for (let t = 0; t < 2048; t++) assert.equal(r0.samples[t * 32 + 26 + k], r1.samples[t * 32 + k]);
      }
      assert.ok(Math.abs(r0.freqs[25] - r0.freqs[26] - Math.abs(s0.h.subint.chanBw)) < 1e-9);
      assert.equal(res.plan.totalChannels, 58);
      assert.ok(Math.abs(res.plan.chanBwMhz * 58 + 322.6) < 1e-9);
    } finally {
      s0.close();
      s1.close();
    }
  });

  it("a file in the way of the pair's directory is refused", () => {
    fs.writeFileSync(scratch.path("taken"), "x");
    assert.throws(() => writeSynthBeam({ ...SMALL, mock: true }, scratch.path("taken")), /goes into a directory/);
  });
});
