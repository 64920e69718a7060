// Synthetic beams through the real PRESTO and psrfits_utils (/opt/presto): readfile
// reads them, a PALFA-style search (rfifind, prepsubband around the pulsar's DM,
// realfft, zapbirds, accelsearch) finds the pulsar as its best candidate at the
// right period and DM, prepfold's significance matches the S/N asked for, a Mock
// pair merges with combine_mocks, and an injected pulsar is found in the copy only.
// Skipped (saying why) without PRESTO; BEAMFLOW_REQUIRE_PRESTO=1 makes that a failure.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { readAccelFile, readBestprofFile, type AccelCandidate } from "../../../shared/presto";
import { injectPulsar, writeSynthBeam } from "../../../shared/synth";
import { requirePresto } from "../../support/presto";
import { Scratch, openBeam, presto, readfileValues, value } from "./helpers";

/** prepfold -nosearch at the true period (topocentric) and DM; the .bestprof. */
function fold(bin: string, dir: string, file: string, name: string, periodS: number, dm: number, nsub: number) {
  presto(bin, dir, "prepfold", [
    "-noxwin",
    "-nosearch",
    "-topo",
    "-p",
    String(periodS),
    "-dm",
    String(dm),
    "-n",
    "64",
    "-nsub",
    String(nsub),
    "-o",
    name,
    path.basename(file),
  ]);
  const bp = fs.readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith(".pfd.bestprof"));
  assert.ok(bp, `prepfold wrote no ${name}_*.pfd.bestprof`);
  const b = readBestprofFile(path.join(dir, bp));
  // sqrt(chi^2 - dof) of the profile: the S/N in snr.ts's sense, for the part prepfold folded.
  const snr = Math.sqrt(Math.max(0, (b.reducedChiSqr - 1) * (b.profileBins - 1)));
  return { bestprof: b, snr };
}

describe("synth + real PRESTO", function () {
  this.timeout(120_000);
  let bin: string;
  let scratch: Scratch;
  before(function () {
    bin = requirePresto(this);
    scratch = new Scratch("beamflow-synth-presto-");
  });
  after(() => scratch?.cleanup());

  it("readfile reads 4- and 8-bit beams: channels, sample time, length, band", () => {
    for (const bits of [4, 8] as const) {
      const file = scratch.path(`read${bits}.fits`);
      const res = writeSynthBeam({ bits, nchan: 64, lengthS: 3, tsampS: 81.92e-6, nsblk: 1024, seed: 2, beam: 5 }, file);
      const v = readfileValues(presto(bin, scratch.dir, "readfile", [path.basename(file)]));
      assert.equal(value(v, "Number of channels"), "64");
      assert.equal(Number(value(v, "Sample time (us)")), 81.92);
      assert.equal(Number(value(v, "Spectra per file")), res.plan.samples);
      assert.equal(Number(value(v, "Spectra per subint")), 1024);
      assert.equal(Number(value(v, "bits per sample")), bits);
      assert.ok(Math.abs(Number(value(v, "Total Bandwidth (MHz)")) - 322.6) < 1e-6);
      assert.ok(Math.abs(Number(value(v, "Central freq (MHz)")) - 1375.5) < 1e-6);
      assert.ok(Math.abs(Number(value(v, "High channel (MHz)")) - res.files[0].highMhz) < 1e-6);
      assert.ok(Math.abs(Number(value(v, "Low channel (MHz)")) - res.files[0].lowMhz) < 1e-3);
      assert.equal(value(v, "Invert the band?"), "True");
      assert.equal(value(v, "Apply scaling?"), "True");
      assert.equal(value(v, "Apply offsets?"), "True");
      assert.equal(value(v, "Telescope"), "Arecibo");
      assert.equal(value(v, "Backend"), "pdev");
      assert.equal(value(v, "MJD start time (STT_*)"), "60000.25000000000000");
      // (PRESTO prints "Beam = 0 of 1" for PSRFITS whatever IBEAM says: it reads IBEAM only from SIGPROC files.)
    }
  });

  it("a PALFA-style search finds the pulsar as the best candidate at its period and DM", () => {
    const dir = scratch.path("search");
    fs.mkdirSync(dir);
    const P = 0.0713;
    const DM = 45;
    const file = path.join(dir, "beam.fits");
    // 15 s, 64 channels, 64 us; S/N 30 with a mains birdie, RFI bursts and narrow-band RFI.
    writeSynthBeam(
      {
        nchan: 64,
        lengthS: 15,
        tsampS: 64e-6,
        seed: 21,
        pulsar: { periodS: P, dm: DM, snr: 30 },
        birdie: { freqHz: 60, ampSigma: 0.02 },
        bursts: { count: 4, ampSigma: 3, widthS: 0.02 },
        narrowband: { channels: [20], ampSigma: 3, toneHz: 17.3 },
      },
      file,
    );
    presto(bin, dir, "rfifind", ["-time", "1.0", "-o", "beam", "beam.fits"]);
    // -nobary keeps the series topocentric, so periods compare with P directly.
    presto(bin, dir, "prepsubband", [
      "-nobary",
      "-nsub",
      "32",
      "-lodm",
      String(DM - 4),
      "-dmstep",
      "2",
      "-numdms",
      "5",
      "-mask",
      "beam_rfifind.mask",
      "-o",
      "beam",
      "beam.fits",
    ]);
    fs.writeFileSync(path.join(dir, "beam.zaplist"), "# Freq Width\n60.0 0.05\n120.0 0.1\n");
    const best: Array<{ dm: number; cand: AccelCandidate }> = [];
    for (let k = 0; k < 5; k++) {
      const dm = (DM - 4 + 2 * k).toFixed(2);
      presto(bin, dir, "realfft", [`beam_DM${dm}.dat`]);
      presto(bin, dir, "zapbirds", ["-zap", "-zapfile", "beam.zaplist", `beam_DM${dm}.fft`]);
      presto(bin, dir, "rednoise", [`beam_DM${dm}.fft`]);
      fs.renameSync(path.join(dir, `beam_DM${dm}_red.fft`), path.join(dir, `beam_DM${dm}.fft`));
      presto(bin, dir, "accelsearch", ["-zmax", "0", "-numharm", "16", "-flo", "2", `beam_DM${dm}.fft`]);
      const cands = readAccelFile(path.join(dir, `beam_DM${dm}_ACCEL_0`)).candidates;
      if (cands.length) best.push({ dm: Number(dm), cand: cands[0] });
    }
    best.sort((a, b) => b.cand.sigma - a.cand.sigma);
    const top = best[0];
    assert.ok(top, "accelsearch found nothing at any DM");
    const found = top.cand.periodMs.value / 1000;
    assert.ok(Math.abs(found - P) / P < 2e-4, `best candidate P ${found} s, true ${P} s`);
    assert.equal(top.dm, DM, `best candidate at DM ${top.dm}`);
    // accelsearch's sigma carries its trials penalty; for S/N 30 it is ~0.8 of it.
    assert.ok(top.cand.sigma > 30 / 1.5 && top.cand.sigma < 30 * 1.5, `accelsearch sigma ${top.cand.sigma} for S/N 30`);
    console.log(`      (accelsearch: P ${top.cand.periodMs.text} ms, DM ${top.dm}, sigma ${top.cand.sigma} for S/N 30)`);

    const f = fold(bin, dir, file, "fold", P, DM, 32);
    const share = f.bestprof.dataFolded / (15 / 64e-6);
    const expected = 30 * Math.sqrt(Math.min(1, share));
    assert.ok(f.snr > expected / 1.5 && f.snr < expected * 1.5, `prepfold's profile S/N ${f.snr}, expected ${expected} (${(share * 100).toFixed(0)}% folded)`);
    assert.ok(f.bestprof.probNoise.sigma > (30 / 1.5) * Math.sqrt(share), `prepfold sigma ${f.bestprof.probNoise.sigma}`);
    console.log(`      (prepfold: sqrt(chi2 - dof) ${f.snr.toFixed(1)} vs ${expected.toFixed(1)} expected, sigma ${f.bestprof.probNoise.sigma})`);
  });

  it("a Mock pair merges with combine_mocks; the merged beam has the halves' samples and the pulsar", () => {
    const dir = scratch.path("mock");
    const res = writeSynthBeam(
      { mock: true, nchan: 32, overlap: 6, lengthS: 8, tsampS: 64e-6, seed: 4, beam: 6, pulsar: { periodS: 0.1234, dm: 60, snr: 25 } },
      dir,
    );
    const s0 = res.files[0].path;
    const s1 = res.files[1].path;
    presto(bin, dir, "combine_mocks", [path.basename(s1)]);
    const merged = path.join(dir, res.truth.merged_name!);
    assert.ok(fs.existsSync(merged), `combine_mocks wrote ${fs.readdirSync(dir).join(", ")}`);
    const v = readfileValues(presto(bin, dir, "readfile", [path.basename(merged)]));
    // 2 blank channels + 32 + 32 - 6 shared.
    assert.equal(value(v, "Number of channels"), "60");
    assert.equal(Number(value(v, "Spectra per file")), res.plan.samples);
    assert.ok(Math.abs(Number(value(v, "High channel (MHz)")) - (res.files[0].highMhz + 2 * Math.abs(res.plan.chanBwMhz))) < 1e-6);

    // combine_mocks keeps s0 minus its last 2 shared channels, then s1 minus its first 4.
    const m = openBeam(merged);
    const a = openBeam(s0);
    const b = openBeam(s1);
    try {
      const rm = m.row(3).samples;
      const ra = a.row(3).samples;
      const rb = b.row(3).samples;
      for (let t = 0; t < 2048; t += 7) {
        for (let k = 0; k < 30; k++) assert.equal(rm[t * 60 + 2 + k], ra[t * 32 + k]);
        for (let k = 4; k < 32; k++) assert.equal(rm[t * 60 + 28 + k], rb[t * 32 + k]);
      }
    } finally {
      m.close();
      a.close();
      b.close();
    }
    const f = fold(bin, dir, merged, "merged", 0.1234, 60, 30);
    assert.ok(f.bestprof.probNoise.sigma > 10, `prepfold on the merged beam: sigma ${f.bestprof.probNoise.sigma}`);
  });

  it("inject: the pulsar is found in the copy, not in the original", () => {
    const dir = scratch.path("inject");
    fs.mkdirSync(dir);
    const original = path.join(dir, "noise.fits");
    const copy = path.join(dir, "injected.fits");
    writeSynthBeam({ nchan: 64, lengthS: 10, tsampS: 64e-6, seed: 8, bits: 8, bursts: { count: 2, ampSigma: 2, widthS: 0.01 } }, original);
    const P = 0.0271;
    const DM = 25;
    injectPulsar(original, copy, { periodS: P, dm: DM, snr: 25, seed: 2 });
    const inj = fold(bin, dir, copy, "inj", P, DM, 32);
    const orig = fold(bin, dir, original, "orig", P, DM, 32);
    const share = inj.bestprof.dataFolded / (10 / 64e-6);
    const expected = 25 * Math.sqrt(Math.min(1, share));
    assert.ok(inj.snr > expected / 1.5 && inj.snr < expected * 1.5, `injected: profile S/N ${inj.snr}, expected ${expected}`);
    assert.ok(inj.bestprof.probNoise.sigma > 10, `injected: prepfold sigma ${inj.bestprof.probNoise.sigma}`);
    assert.ok(orig.bestprof.reducedChiSqr < 2.5, `original: reduced chi^2 ${orig.bestprof.reducedChiSqr} (nothing there)`);
  });
});
