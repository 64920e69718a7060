// The stand-in toolchain (test/toolchain/bin): each stand-in runs as a real process in
// a scratch directory, with test/toolchain/bin first on PATH, as the other tests use it.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PNG } from "pngjs";
import { requirePresto } from "../support/presto";

const TOOLCHAIN = __dirname;
const BIN = path.join(TOOLCHAIN, "bin");
const FIXTURES = path.join(TOOLCHAIN, "..", "fixtures");
const BEAM = path.join(FIXTURES, "presto", "beam_J1903");
const ALL_DMS = path.join(BEAM, "all_dms");
const PSRFITS = path.join(FIXTURES, "psrfits");
const S0 = "p2030.20230225.G037.00-00.10.C.b0s0g0.00000.fits";
const S1 = "p2030.20230225.G037.00-00.10.C.b0s1g0.00000.fits";
const COMBINED = "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits";

const PROGRAMS = [
  "combine_mocks",
  "fitsdelrow",
  "prepdata",
  "readfile",
  "rfifind",
  "prepsubband",
  "realfft",
  "zapbirds",
  "rednoise",
  "accelsearch",
  "single_pulse_search.py",
  "prepfold",
  "gs",
  "python",
];
const CLIG_PROGRAMS = ["prepdata", "readfile", "rfifind", "prepsubband", "realfft", "zapbirds", "rednoise", "accelsearch", "prepfold", "combine_mocks"];

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

let work: string;
let env: NodeJS.ProcessEnv;

function run(prog: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}, cwd = work): Result {
  const r = spawnSync(prog, args, { cwd, env: { ...env, ...extraEnv }, encoding: "latin1" });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs several calls at once (4 at a time): the slow part of a stand-in is Node's start-up. */
async function runAll(calls: [string, string[]][]): Promise<Result[]> {
  const results: Result[] = new Array(calls.length);
  let next = 0;
  const worker = async () => {
    while (next < calls.length) {
      const k = next++;
      const [prog, args] = calls[k];
      results[k] = await new Promise<Result>((resolve, reject) => {
        const child = spawn(prog, args, { cwd: work, env });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("latin1").on("data", (d: string) => (stdout += d));
        child.stderr.setEncoding("latin1").on("data", (d: string) => (stderr += d));
        child.on("error", reject);
        child.on("close", (status) => resolve({ status, stdout, stderr }));
      });
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return results;
}

function ok(prog: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Result {
  const r = run(prog, args, extraEnv);
  assert.equal(r.status, 0, `${prog} ${args.join(" ")} failed (${r.status}):\n${r.stderr}${r.stdout}`);
  return r;
}

function w(...p: string[]): string {
  return path.join(work, ...p);
}

function sameBytes(a: string, b: string): boolean {
  return fs.readFileSync(a).equals(fs.readFileSync(b));
}

/** NAXIS2 and the file size of the SUBINT table of a FITS file (header cards only). */
function subintRows(file: string): number {
  const b = fs.readFileSync(file);
  let inTable = false;
  for (let off = 0; off < b.length; off += 80) {
    const card = b.toString("latin1", off, off + 80);
    if (card.startsWith("XTENSION= 'BINTABLE'")) inTable = true;
    if (inTable && card.startsWith("NAXIS2  =")) return Number(card.slice(10, 30));
  }
  throw new Error("no binary table NAXIS2");
}

function floats(file: string): Float32Array {
  const b = fs.readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

function median(a: ArrayLike<number>): number {
  const s = Array.from(a).sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

describe("stand-in toolchain (test/toolchain/bin)", function () {
  this.timeout(20000);

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-toolchain-"));
    env = { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH}` };
    delete env.BEAMFLOW_STANDIN_LOG;
    delete env.BEAMFLOW_STANDIN_TIME_SCALE;
    delete env.BEAMFLOW_STANDIN_CAL_ROWS;
    delete env.BEAMFLOW_STANDIN_SYNTH_CAND;
    delete env.BEAMFLOW_STANDIN_PYTHON;
    for (const f of [S0, S1, COMBINED]) fs.copyFileSync(path.join(PSRFITS, f), w(f));
    fs.chmodSync(w(COMBINED), 0o644);
    fs.copyFileSync(w(COMBINED), w("beam.fits"));
    fs.copyFileSync(path.join(BEAM, "beam_J1903.zaplist"), w("beam.zaplist"));
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  describe("usage and argument checks", () => {
    it("every program is an executable on PATH", () => {
      for (const p of PROGRAMS) {
        const st = fs.statSync(path.join(BIN, p));
        assert.ok(st.mode & 0o111, `${p} is not executable`);
      }
    });

    it("PRESTO programs print their clig usage on stderr and exit 1 without arguments", async () => {
      const results = await runAll(CLIG_PROGRAMS.map((p): [string, string[]] => [p, []]));
      const usage = new Map<string, Result>();
      CLIG_PROGRAMS.forEach((p, k) => {
        const r = results[k];
        usage.set(p, r);
        assert.equal(r.status, 1, p);
        assert.match(r.stderr, /\[--\] (infile|infiles|file)/, p);
      });
      const a = usage.get("accelsearch")!;
      assert.match(a.stderr, /\[-noharmpolish\]/);
      assert.match(a.stderr, /^ {4}-noharmpolish: Do not use 'harmpolish' by default$/m);
      assert.doesNotMatch(a.stderr, /(^|[\s[])-harmpolish\b/m);
      assert.match(a.stderr, /^\s+-zmax: The max \(\+ and -\) Fourier freq deriv to search\n\s+1 int value between 0 and 1200\n\s+default: `200'$/m);
      assert.match(usage.get("rfifind")!.stderr, / -o outfile \[-filterbank\] \[-psrfits\]/);
      assert.match(usage.get("prepsubband")!.stderr, /\[-sub\] \[-subdm subdm\] \[-numout numout\]/);
      assert.match(usage.get("combine_mocks")!.stderr, /^ {3}\[-o outputbasename\] \[--\] infile \.\.\.$/m);
    });

    it("fitsdelrow, single_pulse_search.py and gs print their usage on stdout and exit 0", () => {
      const f = run("fitsdelrow", []);
      assert.equal(f.status, 0);
      assert.match(f.stdout, /^usage: {2}fitsdelrow fitsfile\.fits\[3\] 1 7/);
      const s = run("single_pulse_search.py", []);
      assert.equal(s.status, 0);
      assert.match(s.stdout, /\[-g, --glob\]/);
      assert.equal(run("gs", []).status, 0);
    });

    it("rejects unknown flags like the real programs", async () => {
      const results = await runAll(CLIG_PROGRAMS.map((p): [string, string[]] => [p, ["-bogus", "x"]]));
      CLIG_PROGRAMS.forEach((p, k) => {
        const r = results[k];
        assert.equal(r.status, 1, p);
        assert.ok(r.stderr.includes(`${p}: unknown option \`-bogus'`), `${p}: ${r.stderr.slice(0, 200)}`);
      });
      const h = run("accelsearch", ["-harmpolish", "-zmax", "0", "x.fft"]);
      assert.equal(h.status, 1);
      assert.match(h.stderr, /unknown option `-harmpolish'/);
      const s = run("single_pulse_search.py", ["-z", "x.dat"]);
      assert.equal(s.status, 2);
      assert.match(s.stderr, /single_pulse_search\.py: error: no such option: -z/);
      assert.notEqual(run("gs", ["-zzz", "x.ps"]).status, 0);
    });

    it("rejects missing or malformed values and missing mandatory options", async () => {
      const [m, fifty, big, mand, none, two, spt] = await runAll([
        ["accelsearch", ["-zmax"]],
        ["accelsearch", ["-zmax", "fifty", "x.fft"]],
        ["accelsearch", ["-zmax", "2000", "x.fft"]],
        ["prepsubband", ["-lodm", "0", "beam.fits"]],
        ["rfifind", ["-o", "x"]],
        ["rednoise", ["a.fft", "b.fft"]],
        ["single_pulse_search.py", ["-t"]],
      ]);
      assert.equal(m.status, 1);
      assert.match(m.stderr, /accelsearch: missing or malformed integer value after option `-zmax'/);
      assert.match(fifty.stderr, /malformed integer value after option `-zmax'/);
      assert.match(big.stderr, /parameter 1 of option `-zmax' greater than max=1200/);
      assert.match(mand.stderr, /prepsubband: mandatory option `-o' missing/);
      assert.match(none.stderr, /there should be at least 1 non-option argument/);
      assert.match(two.stderr, /there should be at most 1 non-option argument/);
      assert.equal(spt.status, 2);
      for (const r of [m, fifty, big, mand, none, two]) assert.equal(r.status, 1);
    });

    it("refuses missing input files with a message on stderr", async () => {
      const cases: [string, string[]][] = [
        ["realfft", ["nothere.dat"]],
        ["rednoise", ["nothere.fft"]],
        ["accelsearch", ["-zmax", "0", "nothere_DM57.00.fft"]],
        ["zapbirds", ["-zap", "-zapfile", "beam.zaplist", "nothere.fft"]],
        ["rfifind", ["-o", "x", "nothere.fits"]],
        ["prepdata", ["-o", "x", "nothere.fits"]],
        ["prepsubband", ["-o", "x", "-psrfits", "nothere.fits"]],
        ["prepfold", ["-noxwin", "-accelcand", "1", "-accelfile", "nothere.cand", "-o", "x", "beam.fits"]],
        ["combine_mocks", ["nothere.b0s1g0.00000.fits"]],
        ["fitsdelrow", ["nothere.fits[SUBINT]", "1", "1"]],
        ["readfile", ["nothere.fits"]],
        ["single_pulse_search.py", ["-p", "nothere.dat"]],
        ["gs", ["-sDEVICE=png16m", "-sOutputFile=x.png", "nothere.ps"]],
      ];
      const results = await runAll(cases);
      cases.forEach(([p], k) => {
        assert.notEqual(results[k].status, 0, `${p} accepted a missing input`);
        assert.ok(results[k].stderr.trim().length > 0, `${p} printed nothing on stderr`);
      });
      const c = run("realfft", ["nothere.dat"]);
      assert.equal(c.status, 255);
      assert.match(c.stderr, /Error in chkfopen\(\): No such file or directory/);
      assert.match(c.stdout, /path = '\.\/nothere\.dat'/);
    });
  });

  describe("psrfits_utils and cfitsio tools", () => {
    it("combine_mocks finds both halves from one name and writes <base>_0001.fits", () => {
      const r = ok("combine_mocks", [S1]);
      assert.ok(fs.existsSync(w(COMBINED)));
      assert.ok(sameBytes(w(COMBINED), path.join(PSRFITS, COMBINED)));
      assert.match(r.stdout, new RegExp(`Opened file '${S0.replace(/\./g, "\\.")}'\nOpened file '${S1.replace(/\./g, "\\.")}'`));
      fs.mkdirSync(w("merged"));
      ok("combine_mocks", [S0, S1, "-o", "merged/p2030.20230225.G037.00-00.10.C.b0"]);
      assert.ok(sameBytes(w("merged", "p2030.20230225.G037.00-00.10.C.b0_0001.fits"), path.join(PSRFITS, COMBINED)));
      fs.copyFileSync(w(S0), w("lonely.b0s0g0.00000.fits"));
      const miss = run("combine_mocks", ["lonely.b0s0g0.00000.fits"]);
      assert.equal(miss.status, 1);
      assert.match(miss.stderr, /could not open the named file\n[^\n]*\nlonely\.b0s1g0\.00000\.fits/);
      assert.match(run("combine_mocks", ["beam.fits"]).stdout, /Unable to determine which sideband is which/);
    });

    it("fitsdelrow really deletes SUBINT rows", () => {
      const orig = fs.readFileSync(w("beam.fits"));
      fs.copyFileSync(w("beam.fits"), w("del.fits"));
      ok("fitsdelrow", ["del.fits[SUBINT]", "1", "2"]);
      const rowBytes = 68980;
      assert.equal(subintRows(w("del.fits")), 6);
      const size = fs.statSync(w("del.fits")).size;
      assert.equal(size % 2880, 0);
      assert.equal(size, 14400 + Math.ceil((6 * rowBytes) / 2880) * 2880);
      const now = fs.readFileSync(w("del.fits"));
      assert.ok(now.subarray(14400, 14400 + 6 * rowBytes).equals(orig.subarray(14400 + 2 * rowBytes, 14400 + 8 * rowBytes)));
      ok("fitsdelrow", ["del.fits[SUBINT]", "6", "1"]); // the last row
      assert.equal(subintRows(w("del.fits")), 5);
      const bad = run("fitsdelrow", ["del.fits[SUBINT]", "5", "3"]);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /FITSIO status = 307/);
      assert.equal(subintRows(w("del.fits")), 5);
      assert.match(run("readfile", ["del.fits"]).stdout, /Subints per file = 5\n\s+Spectra per file = 10240/);
    });
  });

  describe("PRESTO stand-ins", () => {
    it("prepdata writes a DM 0 series of NSBLK*NAXIS2 samples with offsets on the cal rows", () => {
      ok("prepdata", ["-nobary", "-noclip", "-dm", "0", "-o", "beam_pre_DM0.00", "beam.fits"], { BEAMFLOW_STANDIN_CAL_ROWS: "0,7" });
      const d = floats(w("beam_pre_DM0.00.dat"));
      assert.equal(d.length, 2048 * 8);
      const medians = Array.from({ length: 8 }, (_, r) => median(d.subarray(r * 2048, (r + 1) * 2048)));
      assert.ok(medians[0] > 40 && medians[7] > 40, String(medians));
      for (const m of medians.slice(1, 7)) assert.ok(Math.abs(m) < 0.2, String(medians));
      const inf = fs.readFileSync(w("beam_pre_DM0.00.inf"), "latin1");
      assert.match(inf, /^ Data file name without suffix {10}= {2}beam_pre_DM0\.00$/m);
      assert.match(inf, /^ Number of bins in the time series {6}= {2}16384 /m);
      assert.match(inf, /^ Width of each time series bin \(sec\) {4}= {2}6\.54759999999999e-05$/m);
      assert.match(inf, /^ Barycentered\? {11}\(1 yes, 0 no\) {2}= {2}0$/m);
    });

    it("rfifind writes the fixture's rfifind products under the -o base", () => {
      const r = ok("rfifind", ["-time", "2.097152", "-o", "beam", "beam.fits"]);
      for (const ext of ["mask", "stats", "bytemask", "rfi", "ps"]) {
        assert.ok(sameBytes(w(`beam_rfifind.${ext}`), path.join(BEAM, `beam_J1903_rfifind.${ext}`)), ext);
      }
      const fixtureInf = fs.readFileSync(path.join(BEAM, "beam_J1903_rfifind.inf"), "latin1");
      assert.equal(fs.readFileSync(w("beam_rfifind.inf"), "latin1"), fixtureInf.replace("=  beam_J1903_rfifind", "=  beam_rfifind"));
      assert.match(r.stdout, /Writing mask data {2}to 'beam_rfifind\.mask'\./);
      assert.match(r.stdout, /Number of {2}bad {3}intervals: {7}18 {2}\( 0\.740%\)/);
    });

    it("prepsubband -sub writes the subbands and their .sub.inf with the real names", () => {
      fs.mkdirSync(w("subbands"));
      const r = ok("prepsubband", [
        "-sub",
        "-subdm",
        "64.50",
        "-downsamp",
        "8",
        "-nsub",
        "22",
        "-mask",
        "beam_rfifind.mask",
        "-o",
        "subbands/beam",
        "beam.fits",
      ]);
      assert.match(r.stdout, /Setting the '-nobary' flag automatically/);
      const names = fs.readdirSync(w("subbands")).sort();
      assert.deepEqual(names, [...Array.from({ length: 22 }, (_, i) => `beam_DM64.50.sub${String(i).padStart(2, "0")}`), "beam_DM64.50.sub.inf"].sort());
      assert.equal(fs.statSync(w("subbands", "beam_DM64.50.sub07")).size, (16384 / 8) * 2);
      assert.match(fs.readFileSync(w("subbands", "beam_DM64.50.sub.inf"), "latin1"), /= {2}subbands\/beam_DM64\.50\.sub$/m);
      const bad = run("prepsubband", ["-sub", "-subdm", "1", "-nsub", "32", "-o", "x", "beam.fits"]);
      assert.equal(bad.status, 1);
      assert.match(bad.stdout, /The number of subbands \(-nsub 32\) must divide into the\n\s+number of channels \(66\)/);
    });

    it("prepsubband dedisperses into .dat/.inf per DM, from subbands or raw data", () => {
      const subs = Array.from({ length: 22 }, (_, i) => `subbands/beam_DM64.50.sub${String(i).padStart(2, "0")}`);
      const r = ok("prepsubband", [
        "-lodm",
        "56.00",
        "-dmstep",
        "1.00",
        "-numdms",
        "3",
        "-downsamp",
        "1",
        "-nsub",
        "22",
        "-numout",
        "4096",
        "-o",
        "beam",
        ...subs,
      ]);
      assert.match(r.stdout, /^ {3}Average topocentric velocity \(c\) = -6\.827229e-05$/m);
      for (const dm of ["56.00", "57.00", "58.00"]) {
        assert.equal(fs.statSync(w(`beam_DM${dm}.dat`)).size, 4096 * 4);
        assert.match(fs.readFileSync(w(`beam_DM${dm}.inf`), "latin1"), new RegExp(`= {2}beam_DM${dm.replace(".", "\\.")}$`, "m"));
      }
      // raw data, the fixture run's length and sample time: the fixture .inf itself
      ok("prepsubband", [
        "-nsub",
        "33",
        "-lodm",
        "57.00",
        "-dmstep",
        "1.00",
        "-numdms",
        "1",
        "-downsamp",
        "8",
        "-numout",
        "76800",
        "-mask",
        "beam_rfifind.mask",
        "-o",
        "raw",
        "beam.fits",
      ]);
      const fixture = fs.readFileSync(path.join(ALL_DMS, "beam_J1903_DM57.00.inf"), "latin1");
      assert.equal(fs.readFileSync(w("raw_DM57.00.inf"), "latin1"), fixture.replace("=  beam_J1903_DM57.00", "=  raw_DM57.00"));
      assert.equal(fs.statSync(w("raw_DM57.00.dat")).size, 76800 * 4);
    });

    it("single_pulse_search.py writes each DM's fixture .singlepulse and the plot", () => {
      ok("single_pulse_search.py", ["-p", "-m", "0.1", "-t", "5.0", "beam_DM56.00.dat", "beam_DM57.00.dat"]);
      assert.ok(sameBytes(w("beam_DM57.00.singlepulse"), path.join(ALL_DMS, "beam_J1903_DM57.00.singlepulse")));
      assert.ok(sameBytes(w("beam_DM56.00.singlepulse"), path.join(ALL_DMS, "beam_J1903_DM56.00.singlepulse")));
      assert.ok(!fs.existsSync(w("beam_singlepulse.ps")), "-p must not plot");
      ok("single_pulse_search.py", ["-t", "6.0", "-g", "beam_DM5*.singlepulse"]);
      assert.ok(sameBytes(w("beam_singlepulse.ps"), path.join(BEAM, "beam_J1903_singlepulse.ps")));
    });

    it("realfft, zapbirds and rednoise keep the .dat, zap in place and write _red files", () => {
      ok("realfft", ["beam_DM57.00.dat"]);
      assert.equal(fs.statSync(w("beam_DM57.00.fft")).size, fs.statSync(w("beam_DM57.00.dat")).size);
      assert.ok(fs.existsSync(w("beam_DM57.00.dat")));
      ok("zapbirds", ["-zap", "-zapfile", "beam.zaplist", "-baryv", "-6.827229e-05", "beam_DM57.00.fft"]);
      fs.writeFileSync(w("bad.zaplist"), "# freq width\n60 0.05\nsixty hertz\n");
      const bad = run("zapbirds", ["-zap", "-zapfile", "bad.zaplist", "beam_DM57.00.fft"]);
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /bad\.zaplist' line 3/);
      ok("rednoise", ["beam_DM57.00.fft"]);
      assert.equal(fs.statSync(w("beam_DM57.00_red.fft")).size, fs.statSync(w("beam_DM57.00.fft")).size);
      assert.match(fs.readFileSync(w("beam_DM57.00_red.inf"), "latin1"), /= {2}beam_DM57\.00_red$/m);
    });

    it("accelsearch copies the same DM's real _ACCEL_<z> (and the DM 57 .cand)", () => {
      ok("accelsearch", ["-locpow", "-numharm", "16", "-sigma", "2.0", "-zmax", "0", "-flo", "2.0", "beam_DM57.00.fft"]);
      ok("accelsearch", ["-noharmpolish", "-ncpus", "2", "-numharm", "8", "-sigma", "3.0", "-zmax", "50", "-flo", "1.0", "beam_DM57.00.fft"]);
      for (const z of ["0", "50"]) {
        assert.ok(sameBytes(w(`beam_DM57.00_ACCEL_${z}`), path.join(ALL_DMS, `beam_J1903_DM57.00_ACCEL_${z}`)), z);
        assert.ok(sameBytes(w(`beam_DM57.00_ACCEL_${z}.cand`), path.join(BEAM, `beam_J1903_DM57.00_ACCEL_${z}.cand`)), z);
        assert.ok(fs.existsSync(w(`beam_DM57.00_ACCEL_${z}.txtcand`)));
      }
      // DM 139 found nothing at zmax 50 in the real run; DM 58 has no .cand fixture
      for (const dm of ["139.00", "58.00"]) {
        fs.copyFileSync(w("beam_DM57.00.fft"), w(`beam_DM${dm}.fft`));
        fs.copyFileSync(w("beam_DM57.00.inf"), w(`beam_DM${dm}.inf`));
      }
      const none = ok("accelsearch", ["-numharm", "8", "-sigma", "3.0", "-zmax", "50", "beam_DM139.00.fft"]);
      assert.match(none.stdout, /No candidates above sigma = 3\.00 were found/);
      assert.ok(!fs.existsSync(w("beam_DM139.00_ACCEL_50")));
      assert.ok(fs.existsSync(w("beam_DM139.00_ACCEL_50.txtcand")));
      ok("accelsearch", ["-zmax", "0", "beam_DM58.00.fft"]);
      assert.ok(sameBytes(w("beam_DM58.00_ACCEL_0"), path.join(ALL_DMS, "beam_J1903_DM58.00_ACCEL_0")));
      assert.ok(!fs.existsSync(w("beam_DM58.00_ACCEL_0.cand")));
      fs.rmSync(w("beam_DM57.00.inf"));
      assert.equal(run("accelsearch", ["-zmax", "0", "beam_DM57.00.fft"]).status, 255);
      fs.copyFileSync(w("beam_DM58.00.inf"), w("beam_DM57.00.inf"));
    });

    it("prepfold writes the fixture fold under <o>_ACCEL_Cand_<n>, and gs renders its page", () => {
      const fold = (n: string) => [
        "-noxwin",
        "-accelcand",
        n,
        "-accelfile",
        "beam_DM57.00_ACCEL_0.cand",
        "-dm",
        "57.00",
        "-o",
        "beam_DM57.00_Z0",
        "-mask",
        "beam_rfifind.mask",
        "-n",
        "100",
        "-npfact",
        "1",
        "-ndmfact",
        "1",
        "-npart",
        "30",
        "-pstep",
        "1",
        "-pdstep",
        "2",
        "-dmstep",
        "1",
        "-nodmsearch",
        "beam.fits",
      ];
      const r = ok("prepfold", fold("1"));
      assert.match(r.stdout, /Output data file is 'beam_DM57\.00_Z0_ACCEL_Cand_1\.pfd'\./);
      const base = "beam_DM57.00_Z0_ACCEL_Cand_1.pfd";
      assert.ok(sameBytes(w(base), path.join(BEAM, "beam_J1903_DM57.00_Z0_ACCEL_Cand_1.pfd")));
      assert.ok(sameBytes(w(`${base}.ps`), path.join(BEAM, "beam_J1903_DM57.00_Z0_ACCEL_Cand_1.pfd.ps")));
      const fixtureBp = fs.readFileSync(path.join(BEAM, "beam_J1903_DM57.00_Z0_ACCEL_Cand_5.pfd.bestprof"), "latin1");
      ok("prepfold", fold("5"));
      assert.equal(fs.readFileSync(w("beam_DM57.00_Z0_ACCEL_Cand_5.pfd.bestprof"), "latin1"), fixtureBp.replace("=  beam_J1903.fits", "=  beam.fits"));
      assert.notEqual(run("prepfold", fold("14")).status, 0); // the .cand holds 13
      ok("gs", [
        "-q",
        "-dSAFER",
        "-dBATCH",
        "-dNOPAUSE",
        "-sDEVICE=png16m",
        "-r100",
        "-dFirstPage=2",
        "-dLastPage=2",
        `-sOutputFile=${base}.page.png`,
        `${base}.ps`,
      ]);
      assert.ok(sameBytes(w(`${base}.page.png`), path.join(BEAM, "beam_J1903_DM57.00_Z0_ACCEL_Cand_1.pfd.page.png")));
    });
  });

  describe("python (candidate plots)", () => {
    const SCRIPT = path.join(TOOLCHAIN, "..", "..", "agent", "search", "plots", "pfd_plot.py");
    const CHECK = "import sys, presto.prepfold, matplotlib, numpy; print(sys.version)";
    const pfd = "cand.pfd";
    before(() => fs.copyFileSync(path.join(BEAM, "beam_J1903_DM57.00_Z0_ACCEL_Cand_1.pfd"), w(pfd)));

    it("without a real Python with PRESTO: passes the module check and writes the fixture's (cropped) gs rendering, saying so", () => {
      const none = { BEAMFLOW_STANDIN_PYTHON: "none" };
      assert.match(ok("python", ["-c", CHECK], none).stdout, /stand-in: no Python with PRESTO's package here/);
      const r = ok("python", [SCRIPT, pfd, "-o", "fallback.png"], none);
      assert.match(r.stdout, /wrote the fixture's gs rendering of prepfold's page \(cropped\) as fallback\.png, not a drawing of cand\.pfd/);
      assert.ok(sameBytes(w("fallback.png"), path.join(BEAM, "beam_J1903_DM57.00_Z0_ACCEL_Cand_1.pfd.page.png")));
      assert.equal(run("python", [SCRIPT, "missing.pfd", "-o", "x.png"], none).status, 1);
      assert.equal(run("python", [SCRIPT, pfd, "--json", "x.json"], none).status, 2, "--json needs the real script");
      assert.equal(run("python", [SCRIPT, pfd, "--bogus"], none).status, 2);
      assert.equal(run("python", ["other.py"], none).status, 2);
      assert.equal(run("python", ["-c", "print(1)"], none).status, 2);
    });

    it("with the real PRESTO: hands every call to PRESTO's python, so the plot is the real script's drawing", function () {
      requirePresto(this);
      const env = { BEAMFLOW_STANDIN_PYTHON: "" };
      assert.match(ok("python", ["-c", CHECK], env).stdout, /^3\.\d+/);
      const r = ok("python", [SCRIPT, pfd, "-o", "real.png"], env);
      assert.match(r.stdout, /^pfd_plot\.py: wrote real\.png: DM 57\.000, P_topo 89\.29524164 ms/);
      const png = PNG.sync.read(fs.readFileSync(w("real.png")));
      assert.deepEqual([png.width, png.height], [1100, 850]);
      assert.notEqual(run("python", [SCRIPT, "missing.pfd"], env).status, 0);
    });
  });

  describe("invocation log and timing", () => {
    it("appends one JSON argv line per call, in order", () => {
      const log = w("calls.jsonl");
      const e = { BEAMFLOW_STANDIN_LOG: log };
      run("realfft", ["beam_DM57.00.dat"], e);
      run("accelsearch", ["-bogus"], e);
      run("single_pulse_search.py", ["-p", "-t", "5.0", "beam_DM57.00.dat"], e);
      const lines = fs
        .readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[]);
      assert.deepEqual(lines, [
        ["realfft", "beam_DM57.00.dat"],
        ["accelsearch", "-bogus"],
        ["single_pulse_search.py", "-p", "-t", "5.0", "beam_DM57.00.dat"],
      ]);
    });

    it("keeps concurrent calls' lines whole", async () => {
      const log = w("concurrent.jsonl");
      const n = 8;
      await Promise.all(
        Array.from(
          { length: n },
          (_, i) =>
            new Promise<void>((resolve, reject) => {
              const child = spawn("rednoise", [`-startwidth`, String(2 + i), `missing_${i}.fft`], {
                cwd: work,
                env: { ...env, BEAMFLOW_STANDIN_LOG: log },
                stdio: "ignore",
              });
              child.on("error", reject);
              child.on("close", () => resolve());
            }),
        ),
      );
      const lines = fs
        .readFileSync(log, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[]);
      assert.equal(lines.length, n);
      assert.deepEqual(new Set(lines.map((l) => l[3])), new Set(Array.from({ length: n }, (_, i) => `missing_${i}.fft`)));
    });

    it("sleeps scale x the real per-call time (accelsearch z=0: ~0.99 s)", () => {
      const t0 = Date.now();
      ok("accelsearch", ["-zmax", "0", "beam_DM57.00.fft"], { BEAMFLOW_STANDIN_TIME_SCALE: "0.3" });
      const dt = (Date.now() - t0) / 1000;
      // It sleeps (the lower bound is the behaviour); the upper one only says it ends.
      assert.ok(dt >= 0.29 && dt < 20, `took ${dt} s`);
    });
  });
});
