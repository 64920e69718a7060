#!/usr/bin/env node
'use strict';
// Stand-in for PRESTO's single_pulse_search.py (tests only; a Node script despite the
// name). Options exactly as the real script's optparse table: -x/--xwin, -p/--noplot,
// -m/--maxwidth FLOAT, -t/--threshold FLOAT, -s/--start FLOAT, -e/--end FLOAT,
// -g/--glob STRING, -f/--fast, -b/--nobadblocks, -d/--detrendlen INT, -h/--help.
// No arguments and no -g: prints the script's full usage text and exits 0.
//  * Search: for each X.dat (X.inf must exist, then X.singlepulse is opened for
//    writing, then X.dat is read -- so a missing .dat leaves an empty .singlepulse and
//    a traceback, as in the real script) writes X.singlepulse = the REAL fixture
//    all_dms/beam_J1903_DM<dm>.singlepulse for the DM in X.inf, keeping only
//    candidates with sigma >= -t (the fixture was made with -t 5.0). No fixture or no
//    candidate: an EMPTY file (the real script writes the header only when there are
//    candidates; 114 of the 156 fixture files are empty).
//  * Plot (without -p, or given .singlepulse files / -g "GLOB"): writes
//    <prefix>_singlepulse.ps, <prefix> = the base name of the first file (search: the
//    last .dat) cut before "_DM" -- with -s/-e inside the observation
//    <prefix>_<start>-<end>s_singlepulse.ps -- a copy of the REAL fixture
//    beam_J1903_singlepulse.ps. -x makes no file.
const fs = require('node:fs');
const path = require('node:path');
const c = require('../lib/common');
const optparse = require('../lib/optparse');
const { glob } = require('../lib/glob');
const { infField } = require('../lib/inf');

const prog = c.programName();
const argv = process.argv.slice(2);
c.logInvocation(prog, argv);

const FULL_USAGE = `
usage:  single_pulse_search.py [options] .dat files _or_ .singlepulse files
  [-h, --help]        : Display this help
  [-m, --maxwidth]    : Set the max downsampling in sec (see below for default)
  [-p, --noplot]      : Look for pulses but do not generate a plot
  [-t, --threshold]   : Set a different threshold SNR (default=5.0)
  [-x, --xwin]        : Don't make a postscript plot, just use an X-window
  [-s, --start]       : Only plot events occuring after this time (s)
  [-e, --end]         : Only plot events occuring before this time (s)
  [-g, --glob]        : Use the files from these glob expressions (in quotes)
  [-f, --fast]        : Use a less-accurate but much faster method of detrending
  [-b, --nobadblocks] : Don't check for bad-blocks (may save strong pulses)
  [-d, --detrendlen]  : Chunksize for detrending (pow-of-2 in 1000s, default=1)

  Perform a single-pulse search (or simply re-plot the results of a
  single-pulse search) on a set of de-dispersed time series (.dat
  files).

  (Stand-in: the rest of the real script's help text -- notes on the boxcar
  matched filtering, detrending, bad blocks and the definition of sigma -- is
  omitted here.)

  Copyright Scott Ransom <sransom@nrao.edu>, 2015
`;

const spec = {
  prog,
  usage: `${prog} [options] .dat files _or_ .singlepulse files`,
  options: [
    { short: '-x', long: '--xwin', dest: 'xwin', action: 'store_true', default: false, help: "Don't make a postscript plot, just use an X-window" },
    { short: '-p', long: '--noplot', dest: 'makeplot', action: 'store_false', default: true, help: 'Look for pulses but do not generate a plot' },
    { short: '-m', long: '--maxwidth', dest: 'maxwidth', type: 'float', default: 0.0, help: 'Set the max downsampling in sec (see below for default)' },
    { short: '-t', long: '--threshold', dest: 'threshold', type: 'float', default: 5.0, help: 'Set a different threshold SNR (default=5.0)' },
    { short: '-s', long: '--start', dest: 'T_start', type: 'float', default: 0.0, help: 'Only plot events occuring after this time (s)' },
    { short: '-e', long: '--end', dest: 'T_end', type: 'float', default: 1e9, help: 'Only plot events occuring before this time (s)' },
    { short: '-g', long: '--glob', dest: 'globexp', type: 'string', default: null, help: 'Process the files from this glob expression' },
    { short: '-f', long: '--fast', dest: 'fast', action: 'store_true', default: false, help: 'Use a faster method of de-trending (2x speedup)' },
    { short: '-b', long: '--nobadblocks', dest: 'badblocks', action: 'store_false', default: true, help: "Don't check for bad-blocks (may save strong pulses)" },
    { short: '-d', long: '--detrendlen', dest: 'detrendfact', type: 'int', default: 1, help: 'Chunksize for detrending (pow-of-2 in 1000s)' },
  ],
};

function traceback(lines, last) {
  c.err(`Traceback (most recent call last):\n  File "${process.argv[1]}", line 1, in <module>\n    main()\n${lines}${last}\n`);
  c.exit(1);
}
function readInf(base) {
  const p = `${base}.inf`;
  try {
    return fs.readFileSync(p, 'latin1');
  } catch {
    traceback(`  File "infodata.py", line 1, in __init__\n    for line in open(filenm, encoding="latin-1"):\n`, `FileNotFoundError: [Errno 2] No such file or directory: '${p}'`);
  }
}

const { opts, args: given } = optparse.parse(spec, argv);
let args = given;
if (args.length === 0) {
  if (opts.globexp === null) {
    c.out(FULL_USAGE + '\n');
    c.exit(0);
  }
  args = [];
  for (const g of opts.globexp.split(/\s+/).filter(Boolean)) args.push(...glob(g));
}
if (![1, 2, 4, 8, 16, 32].includes(opts.detrendfact)) traceback('', 'AssertionError');
if (args.length === 0) traceback('', 'IndexError: list index out of range');

const dosearch = !args[0].endsWith('.singlepulse');
let filenmbase;
let obstime = 0;
if (!dosearch) {
  c.simulateWork(c.BASE_SECONDS.single_pulse_plot);
  args.forEach((f, k) => {
    const base = f.endsWith('.singlepulse') ? f.slice(0, f.lastIndexOf('.singlepulse')) : f;
    const inf = readInf(base);
    if (k === 0) obstime = Number(infField(inf, 'N')) * Number(infField(inf, 'dt'));
    if (!c.exists(f)) traceback('', `FileNotFoundError: [Errno 2] No such file or directory: '${f}'`);
  });
  filenmbase = args[0].slice(0, args[0].lastIndexOf('.singlepulse'));
} else {
  c.simulateWork(c.BASE_SECONDS.single_pulse_startup + c.BASE_SECONDS.single_pulse_per_file * args.length);
  for (const f of args) {
    filenmbase = f.endsWith('.dat') ? f.slice(0, f.lastIndexOf('.dat')) : f;
    const inf = readInf(filenmbase);
    const dm = Number(infField(inf, 'dm'));
    obstime = Number(infField(inf, 'N')) * Number(infField(inf, 'dt'));
    c.writeFile(`${filenmbase}.singlepulse`, '');
    c.out(`Reading "${f}"...\n`);
    if (!c.exists(f)) traceback('', `FileNotFoundError: [Errno 2] No such file or directory: '${f}'`);
    const fixture = path.join(c.ALL_DMS, `beam_J1903_DM${dm.toFixed(2)}.singlepulse`);
    let text = '';
    if (c.exists(fixture)) {
      const rows = fs.readFileSync(fixture, 'latin1').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
      const kept = rows.filter((l) => Number(l.trim().split(/\s+/)[1]) >= opts.threshold);
      if (kept.length) text = '# DM      Sigma      Time (s)     Sample    Downfact\n' + kept.map((l) => l + '\n').join('');
    }
    c.writeFile(`${filenmbase}.singlepulse`, text);
    const n = text ? text.split('\n').length - 2 : 0;
    c.out(`  De-trending the data and computing statistics...\n  Now searching...\n  Found ${n} pulse candidates\n`);
  }
}
if (opts.makeplot && !opts.xwin) {
  const cut = filenmbase.indexOf('_DM');
  const short = cut >= 0 ? filenmbase.slice(0, cut) : filenmbase.slice(0, -1); // Python [:-1] when find() == -1
  let tEnd = opts.T_end;
  if (tEnd > obstime) tEnd = obstime;
  const name = opts.T_start > 0 || tEnd < obstime ? `${short}_${opts.T_start.toFixed(0)}-${tEnd.toFixed(0)}s_singlepulse.ps` : `${short}_singlepulse.ps`;
  c.copyFixture(path.join(c.BEAM, 'beam_J1903_singlepulse.ps'), name);
}
c.exit(0);
