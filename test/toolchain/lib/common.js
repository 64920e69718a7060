"use strict";
// Shared plumbing of the stand-in toolchain (test only; the product never uses it):
// the invocation log, the optional "realistic" sleep, fixture paths, C-style
// number formatting and PRESTO-style error exits.
const fs = require("node:fs");
const path = require("node:path");

const TOOLCHAIN = path.resolve(__dirname, "..");
const FIXTURES = path.resolve(TOOLCHAIN, "..", "fixtures");
const BEAM = path.join(FIXTURES, "presto", "beam_J1903");
const ALL_DMS = path.join(BEAM, "all_dms");
const MOCK = path.join(FIXTURES, "presto", "mock_split");
const PSRFITS = path.join(FIXTURES, "psrfits");

/** The program name as the real program's argv[0] would be when found on PATH. */
function programName() {
  return path.basename(process.argv[1]);
}

/**
 * Appends one JSON line [program, ...args] to $BEAMFLOW_STANDIN_LOG. One write()
 * on an O_APPEND descriptor, so concurrent stand-ins never interleave their lines.
 */
function logInvocation(name, args) {
  const file = process.env.BEAMFLOW_STANDIN_LOG;
  if (!file) return;
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o666);
  try {
    fs.writeSync(fd, JSON.stringify([name, ...args]) + "\n");
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Wall time (s) of one real call, from the fixture beam's timings.tsv (real PRESTO
 * v6.0.1+ on 2 cores; per-call means): rfifind 3.943, prepsubband 4.174/6 calls,
 * realfft 1.405/156, zapbirds 1.363/156, rednoise 1.790/156, accelsearch z=0
 * 154.462/156 and z=50 150.598/156, single_pulse_search.py 190.550/156 (one .dat per
 * call; the README puts Python start-up at 34 % of it), the single-pulse plot 0.779,
 * prepfold 42.589/2, gs (ps2png) 0.303/2, readfile 0.015. combine_mocks, prepdata
 * and fitsdelrow were not timed there: their values are estimates. The python stand-in's
 * (used only without a real Python with PRESTO's package) are the real calls' times on
 * the same machine: the module check 0.6 s, pfd_plot.py on the fixture fold 2.3 s.
 */
const BASE_SECONDS = {
  readfile: 0.015,
  rfifind: 3.943,
  prepsubband: 4.174 / 6,
  realfft: 1.405 / 156,
  zapbirds: 1.363 / 156,
  rednoise: 1.79 / 156,
  accelsearch_lo: 154.462 / 156,
  accelsearch_hi: 150.598 / 156,
  single_pulse_startup: (0.34 * 190.55) / 156,
  single_pulse_per_file: (0.66 * 190.55) / 156,
  single_pulse_plot: 0.779,
  prepfold: 42.589 / 2,
  gs: 0.303 / 2,
  combine_mocks: 1.0, // estimate
  prepdata: 0.7, // estimate (one DM of a raw beam, like one prepsubband pass)
  fitsdelrow: 0.01, // estimate
  python_check: 0.6,
  pfd_plot: 2.3,
};

/**
 * Sleeps BEAMFLOW_STANDIN_TIME_SCALE x `seconds` (default scale 0: no sleep). The
 * wait is a futex wait (Atomics.wait), so the process is idle, and its length is
 * fixed: a benchmark can compare against a shell script running the same commands.
 */
function simulateWork(seconds) {
  const scale = Number(process.env.BEAMFLOW_STANDIN_TIME_SCALE || "0");
  if (!(scale > 0) || !(seconds > 0)) return;
  const ms = Math.round(seconds * scale * 1000);
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function out(text) {
  fs.writeSync(1, text);
}
function err(text) {
  fs.writeSync(2, text);
}
function exit(code) {
  process.exit(code);
}

/** PRESTO's chkfopen() failure: perror() on stderr, the path on stdout, exit(-1). */
function chkfopenFail(p, code = "ENOENT") {
  const why = code === "EACCES" ? "Permission denied" : code === "EISDIR" ? "Is a directory" : "No such file or directory";
  err(`\nError in chkfopen(): ${why}\n`);
  out(`   path = '${p}'\n`);
  exit(255);
}

/** Opens-for-reading check with chkfopen()'s failure behaviour. */
function chkReadable(p) {
  try {
    const st = fs.statSync(p);
    if (st.isDirectory()) return chkfopenFail(p, "EISDIR");
    fs.accessSync(p, fs.constants.R_OK);
  } catch (e) {
    chkfopenFail(p, e.code);
  }
}

/** Writes a file fresh (fixtures are read-only; copies must not inherit that). */
function writeFile(p, data) {
  try {
    fs.writeFileSync(p, data);
  } catch (e) {
    chkfopenFail(p, e.code); // what PRESTO's chkfopen(path, "w") does when it can't create it
  }
}
function copyFixture(src, dest, transform) {
  let data = fs.readFileSync(src);
  if (transform) data = Buffer.from(transform(data.toString("latin1")), "latin1");
  writeFile(dest, data);
}

/** C printf("%.Ng") */
function fmtG(x, prec = 6) {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? "nan" : x > 0 ? "inf" : "-inf";
  if (x === 0) return "0";
  const p = prec === 0 ? 1 : prec;
  const exp = Number(x.toExponential(p - 1).split("e")[1]);
  if (exp < -4 || exp >= p) {
    let [m, e] = x.toExponential(p - 1).split("e");
    if (m.includes(".")) m = m.replace(/0+$/, "").replace(/\.$/, "");
    const en = Number(e);
    return `${m}e${en < 0 ? "-" : "+"}${String(Math.abs(en)).padStart(2, "0")}`;
  }
  let s = x.toFixed(Math.max(0, p - 1 - exp));
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}

/** C printf("%.Nf") (JS toFixed rounds the decimal string the same way for these uses). */
function fmtF(x, prec = 6) {
  return x.toFixed(prec);
}

/** The DM trial of a PRESTO file name (`..._DM57.00...`), as "%.2f", or null. */
function dmOfName(name) {
  const m = /_DM(\d+(?:\.\d+)?)/.exec(path.basename(name));
  return m ? Number(m[1]).toFixed(2) : null;
}

function exists(p) {
  try {
    fs.statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Splits "dir/root.suffix" like PRESTO's split_root_suffix (suffix after the last '.'). */
function splitRootSuffix(name) {
  const base = path.basename(name);
  const dot = base.lastIndexOf(".");
  if (dot <= 0) return { root: name, suffix: null };
  return { root: name.slice(0, name.length - (base.length - dot)), suffix: base.slice(dot + 1) };
}

module.exports = {
  TOOLCHAIN,
  FIXTURES,
  BEAM,
  ALL_DMS,
  MOCK,
  PSRFITS,
  BASE_SECONDS,
  programName,
  logInvocation,
  simulateWork,
  out,
  err,
  exit,
  chkfopenFail,
  chkReadable,
  writeFile,
  copyFixture,
  fmtG,
  fmtF,
  dmOfName,
  exists,
  splitRootSuffix,
};
