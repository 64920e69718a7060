// `beamflow synth` and `beamflow inject` as an operator runs them: the flags reach
// the generator, the output says what was written, --json is parseable, and
// mistakes exit with one line naming the option (64, usage) or the file (1).

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { EXIT } from "../../../cli/exit-codes";
import { synthOptionsFromFlags } from "../../../cli/synth-commands";
import { readPsrfitsHeader } from "../../../shared/psrfits";
import { Scratch } from "./helpers";

const BIN = path.join(__dirname, "..", "..", "..", "bin", "beamflow");

function beamflow(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("cli: beamflow synth / inject", function () {
  this.timeout(120_000);
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch("beamflow-synth-cli-");
  });
  after(() => scratch.cleanup());

  it("synth --mock writes the pair, says where, and the parameters file has the truth", () => {
    const args = [
      "synth",
      "-o",
      "pair",
      "--mock",
      "--nchan",
      "32",
      "--length",
      "3",
      "--tsamp",
      "64",
      "--bits",
      "8",
      "--beam",
      "2",
      "--period",
      "0.05",
      "--dm",
      "33.5",
      "--snr",
      "20",
      "--birdie",
      "60",
      "--rfi-bursts",
      "2",
      "--rfi-chan",
      "3,4",
      "--seed",
      "12",
      "--params-json",
      "pair.json",
    ];
    const r = beamflow(args, scratch.dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote pair\/p2030\.20230225\.G037\.34-01\.01\.C\.b2s0g0\.00000\.fits +[\d.]+ MB, 32 channels/);
    assert.match(r.stdout, /wrote pair\/p2030\.20230225\.G037\.34-01\.01\.C\.b2s1g0\.00000\.fits/);
    assert.match(r.stdout, /pulsar: P 0\.05 s \(topocentric\), DM 33\.5/);
    assert.match(r.stdout, /combine_mocks p2030\.20230225\.G037\.34-01\.01\.C\.b2s1g0\.00000\.fits\) +-> p2030\.20230225\.G037\.34-01\.01\.C\.b2g0_0001\.fits/);
    const truth = JSON.parse(fs.readFileSync(scratch.path("pair.json"), "utf8"));
    assert.equal(truth.pulsar.dm, 33.5);
    assert.equal(truth.observation.nbits, 8);
    assert.equal(truth.observation.tsamp_s, 64e-6);
    assert.equal(truth.observation.beam, 2);
    assert.deepEqual(truth.rfi.narrowband.channels, [3, 4]);
    const h = readPsrfitsHeader(scratch.path("pair", truth.files[1].name));
    assert.equal(h.subint.nbits, 8);
    assert.equal(h.beamId, 2);
  });

  it("synth --json and inject --json are machine-readable", () => {
    const s = beamflow(["synth", "-o", "one.fits", "--nchan", "16", "--length", "1", "--json"], scratch.dir);
    assert.equal(s.status, 0, s.stderr);
    const out = JSON.parse(s.stdout);
    assert.equal(out.files.length, 1);
    assert.equal(out.files[0].bytes, fs.statSync(scratch.path("one.fits")).size);
    assert.ok(out.duration_s >= 1);
    const i = beamflow(["inject", "one.fits", "--period", "0.02", "--dm", "5", "--snr", "12", "-o", "one-inj.fits", "--json"], scratch.dir);
    assert.equal(i.status, 0, i.stderr);
    const res = JSON.parse(i.stdout);
    assert.equal(res.nchan, 16);
    assert.ok(Math.abs(res.snr - 12) < 1e-6);
    assert.ok(fs.existsSync(scratch.path("one-inj.fits")));
  });

  it("mistakes exit with one line naming the option (64, usage) or the file (1)", () => {
    fs.writeFileSync(scratch.path("text.fits"), "not a FITS file at all\n".repeat(200));
    const cases: Array<[string[], RegExp, number]> = [
      [["synth", "-o", "x.fits", "--bits", "12"], /^beamflow: --bits must be 4 or 8, got 12$/m, EXIT.usage],
      [["synth", "-o", "x.fits", "--nchan", "abc"], /^beamflow: --nchan: not a number: "abc"$/m, EXIT.usage],
      [
        ["inject", "text.fits", "--period", "0.1", "--dm", "3", "--snr", "10", "-o", "y.fits"],
        /^beamflow: cannot inject into text\.fits: not a readable PSRFITS file/m,
        EXIT.failed,
      ],
    ];
    for (const [args, re, exit] of cases) {
      const r = beamflow(args, scratch.dir);
      assert.equal(r.status, exit, `${args.join(" ")}: exit ${r.status}`);
      assert.match(r.stderr, re, `${args.join(" ")}`);
    }
    assert.ok(!fs.existsSync(scratch.path("x.fits")) && !fs.existsSync(scratch.path("y.fits")));
  });

  it("flags that are not numbers, or that describe nothing, are named (parsed in-process)", () => {
    const base = { out: "x.fits" };
    assert.throws(() => synthOptionsFromFlags({ ...base, nchan: "abc" }), /^Error: --nchan: not a number: "abc"$/);
    assert.throws(() => synthOptionsFromFlags({ ...base, seed: "1.5" }), /--seed: not an integer/);
    assert.throws(() => synthOptionsFromFlags({ ...base, dm: "30" }), /--dm describes a pulsar: give its --period too/);
    assert.throws(() => synthOptionsFromFlags({ ...base, rfiAmp: "3" }), /--rfi-amp and --rfi-tone need --rfi-chan/);
    assert.throws(() => synthOptionsFromFlags({ ...base, rfiChan: "1,x" }), /--rfi-chan: not a number: "x"/);
    assert.throws(() => synthOptionsFromFlags({ ...base, birdieAmp: "1" }), /--birdie-amp needs --birdie/);
    const o = synthOptionsFromFlags({ ...base, tsamp: "81.92", period: "0.1", rfiChan: "7, 9", birdie: "50" });
    assert.equal(o.tsampS, 81.92e-6);
    assert.deepEqual(o.narrowband, { channels: [7, 9], ampSigma: 3, toneHz: 17.3 });
    assert.deepEqual(o.birdie, { freqHz: 50, ampSigma: 0.02 });
    assert.equal(o.pulsar?.periodS, 0.1);
  });
});
