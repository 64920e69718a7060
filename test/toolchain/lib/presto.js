"use strict";
// Behaviour shared by the PRESTO stand-ins: recognising raw inputs the way
// identify_psrdatatype() does (by suffix, then by content), the raw-data summary
// PRESTO prints, reading masks, and the common start-up of every stand-in.
const fs = require("node:fs");
const path = require("node:path");
const c = require("./common");
const clig = require("./clig");
const { psrfitsInfo } = require("./fits");

/** Logs the call and handles "no arguments" and parsing; returns the parsed command line. */
function startClig(spec) {
  const prog = c.programName();
  const args = process.argv.slice(2);
  c.logInvocation(prog, args);
  if (args.length === 0) clig.noArgs(spec);
  return { prog, ...clig.parse(spec, args, prog) };
}

function cfitsioOpenFail(file) {
  c.err(`FITSIO status = 104: could not open the named file\nfailed to find or open the following file: (ffopen)\n${file}\n`);
  c.exit(1);
}

/**
 * Classifies the input files like identify_psrdatatype() (PSRFITS by a .fits/.sf
 * suffix and a PSRFITS primary header, PRESTO subbands by a .subNN suffix) unless a
 * data-type flag was given. Exits like the real program when the data can't be read.
 */
function identifyInputs(prog, files, opts, { allowSubbands = true } = {}) {
  if (opts.filterbank) {
    c.err(`${prog} (stand-in): SIGPROC filterbank input is not supported by the stand-in toolchain\n`);
    c.exit(1);
  }
  const first = files[0];
  const suffix = c.splitRootSuffix(first).suffix || "";
  let type = null;
  if (opts.psrfits) type = "psrfits";
  else if ((suffix === "fits" || suffix === "sf") && psrfitsInfo(first)) type = "psrfits";
  else if (allowSubbands && /^sub\d*$/.test(suffix) && c.exists(first)) type = "subband";
  if (!type) {
    if (!c.exists(first)) c.err(`${prog} (stand-in): cannot open '${first}': No such file or directory\n`);
    c.out("Error:  Unable to identify input data files.  Please specify type.\n\n");
    c.exit(1);
  }
  if (type === "psrfits") {
    const infos = files.map((f) => {
      if (!c.exists(f)) cfitsioOpenFail(f);
      const info = psrfitsInfo(f);
      if (!info) {
        c.err(`${prog} (stand-in): '${f}' is not a PSRFITS search-mode file\n`);
        c.exit(1);
      }
      return info;
    });
    return { type, infos, auto: !opts.psrfits };
  }
  // subbands: every file must open, and <root>.sub.inf must exist (readinf)
  for (const f of files) c.chkReadable(f);
  const { root } = c.splitRootSuffix(first);
  const inf = `${root}.sub.inf`;
  c.chkReadable(inf);
  const N = fs.statSync(first).size / 2;
  return { type, infos: [], auto: true, subInf: inf, N, infText: fs.readFileSync(inf, "latin1") };
}

/** The raw-data summary PRESTO prints (print_spectra_info_summary and friends). */
function rawSummary(files, ident, opts) {
  if (ident.type !== "psrfits")
    return `Reading subband data from ${files.length} file${files.length > 1 ? "s" : ""}:\n${files.map((f) => `  '${f}'\n`).join("")}\n`;
  const i0 = ident.infos[0];
  const N = ident.infos.reduce((a, i) => a + i.N, 0);
  const lines = [];
  if (ident.auto) lines.push("Assuming the data are PSRFITS format...");
  lines.push(`Reading PSRFITS data from ${files.length === 1 ? "1 file" : `${files.length} files`}:`);
  for (const f of files) lines.push(`  '${f}'`);
  lines.push("");
  const clip = opts.noclip || opts.zerodm ? 0 : (opts.clip ?? 6);
  lines.push(
    `    Number of files = ${files.length}`,
    "       Num of polns = 2 (summed)",
    `  Center freq (MHz) = ${c.fmtG(i0.obsfreq, 15)}`,
    `    Num of channels = ${i0.nchan}`,
    `    Sample time (s) = ${c.fmtG(i0.tbin, 14).padEnd(14)}`,
    `     Spectra/subint = ${i0.nsblk}`,
    `   Total points (N) = ${N}`,
    `     Total time (s) = ${c.fmtG(N * i0.tbin, 14).padEnd(14)}`,
    `     Clipping sigma = ${Number(clip).toFixed(3)}`,
    `   Invert the band? = ${i0.chanbw < 0 || opts.invert ? "True" : "False"}`,
    "          Byteswap? = False",
    `     Remove zeroDM? = ${opts.zerodm ? "True" : "False"}`,
    "     Apply scaling? = False",
    "     Apply offsets? = False",
    "     Apply weights? = False",
    "",
    "File  Start Spec   Samples     Padding        Start MJD",
    "----  ----------  ----------  ----------  --------------------",
  );
  let start = 0;
  ident.infos.forEach((info, k) => {
    const mjd = info.imjd + ((info.smjd || 0) + (info.offs || 0)) / 86400;
    lines.push(
      `${String(k + 1).padEnd(4)}  ${String(start).padStart(10)}  ${String(info.N).padStart(10)}  ${"0".padStart(10)}  ${mjd.toFixed(14).padStart(20)}`,
    );
    start += info.N;
  });
  lines.push("", "");
  return lines.join("\n");
}

/** read_mask(): the mask must open; returns its channel/interval counts. */
function readMask(maskfile) {
  c.chkReadable(maskfile);
  const b = fs.readFileSync(maskfile);
  if (b.length < 60) return null;
  return { numchan: b.readInt32LE(48), numint: b.readInt32LE(52) };
}

/** "Read mask information" lines, with the .stats lookup PRESTO does next to the mask. */
function maskLines(maskfile) {
  const stats = maskfile.replace(/\.mask$/, ".stats");
  let t = `Read mask information from '${maskfile}'\n\n`;
  if (c.exists(stats)) {
    t += `Attempting to read the data statistics from '${stats}'...\n...succeded.  Set the padding values equal to the mid-80% channel averages.\n`;
  } else {
    t += `Attempting to read the data statistics from '${stats}'...\n...failed.\n  Set the padding values equal to the channel medians.\n`;
  }
  return t;
}

/** PRESTO's choose_good_N(): a highly factorable length >= n (here: 2^a 3^b 5^c 7^d). */
function chooseGoodN(n) {
  if (n <= 0) return 0;
  for (let m = n; ; m++) {
    let k = m;
    for (const p of [2, 3, 5, 7]) while (k % p === 0) k /= p;
    if (k === 1) return m;
  }
}

function dirOf(p) {
  return path.dirname(p);
}

module.exports = { startClig, identifyInputs, rawSummary, readMask, maskLines, chooseGoodN, cfitsioOpenFail, dirOf };
