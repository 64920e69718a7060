"use strict";
// Rewrites fields of a real PRESTO .inf (taken from the fixtures) the way writeinf()
// formats them, so a stand-in's .inf has the requested basename, length, etc.
const { fmtG } = require("./common");

const L = {
  name: " Data file name without suffix          =  ",
  epoch: " Epoch of observation (MJD)             =  ",
  bary: " Barycentered?           (1 yes, 0 no)  =  ",
  N: " Number of bins in the time series      =  ",
  dt: " Width of each time series bin (sec)    =  ",
  breaks: " Any breaks in the data? (1 yes, 0 no)  =  ",
  dm: " Dispersion measure (cm-3 pc)           =  ",
  lofreq: " Central freq of low channel (MHz)      =  ",
  bw: " Total bandwidth (MHz)                  =  ",
  nchan: " Number of channels                     =  ",
  chanbw: " Channel bandwidth (MHz)                =  ",
};

function fmtEpoch(mjd) {
  const i = Math.floor(mjd);
  const f = (mjd - i).toFixed(15).replace(/^0/, "");
  return `${String(i).padStart(5, "0")}${f}`;
}

/**
 * patch: { name, N, dt, bary (0/1), dm, epoch (MJD), lofreq, bw, nchan, chanbw,
 *          onoff: [[on, off], ...] (empty array = no breaks) }
 */
function adaptInf(text, patch) {
  const lines = text.split("\n");
  const outLines = [];
  for (const line of lines) {
    if (line.startsWith(" On/Off bin pair #") && patch.onoff !== undefined) continue;
    let l = line;
    const set = (key, v) => {
      if (l.startsWith(L[key])) l = L[key] + v;
    };
    if (patch.name !== undefined) set("name", patch.name);
    if (patch.epoch !== undefined) set("epoch", fmtEpoch(patch.epoch));
    if (patch.bary !== undefined) set("bary", String(patch.bary));
    if (patch.N !== undefined) set("N", String(patch.N).padEnd(11));
    if (patch.dt !== undefined) set("dt", fmtG(patch.dt, 15));
    if (patch.dm !== undefined) set("dm", fmtG(patch.dm, 12));
    if (patch.lofreq !== undefined) set("lofreq", fmtG(patch.lofreq, 12));
    if (patch.bw !== undefined) set("bw", fmtG(patch.bw, 12));
    if (patch.nchan !== undefined) set("nchan", String(patch.nchan));
    if (patch.chanbw !== undefined) set("chanbw", fmtG(patch.chanbw, 12));
    if (patch.onoff !== undefined && l.startsWith(L.breaks)) {
      l = L.breaks + (patch.onoff.length ? "1" : "0");
      outLines.push(l);
      patch.onoff.forEach(([on, off], k) => {
        outLines.push(` On/Off bin pair #${String(k + 1).padStart(3)}                   =  ${String(on).padEnd(11)}, ${String(off).padEnd(11)}`);
      });
      continue;
    }
    outLines.push(l);
  }
  return outLines.join("\n");
}

/** A field of an .inf by its label. */
function infField(text, key) {
  const line = text.split("\n").find((x) => x.startsWith(L[key]));
  return line === undefined ? undefined : line.slice(L[key].length).trim();
}

/** The .inf patch that describes a PSRFITS file's raw data (see fits.psrfitsInfo). */
function rawPatch(info) {
  const p = {};
  if (!info) return p;
  if (info.nchan) {
    const df = Math.abs(info.chanbw);
    p.nchan = info.nchan;
    p.chanbw = df;
    p.bw = info.nchan * df;
    if (typeof info.obsfreq === "number") p.lofreq = info.obsfreq - (info.nchan / 2 - 0.5) * df;
  }
  if (typeof info.imjd === "number") p.epoch = info.imjd + ((info.smjd || 0) + (info.offs || 0)) / 86400;
  return p;
}

module.exports = { adaptInf, infField, rawPatch, fmtEpoch };
