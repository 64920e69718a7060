"use strict";
// Minimal FITS reading/editing for the stand-ins: header cards of every HDU, and
// cfitsio-style row deletion in a binary table (what fitsdelrow does).
const fs = require("node:fs");

const BLOCK = 2880;

function parseCard(card) {
  const key = card.slice(0, 8).trim();
  if (card.slice(8, 10) !== "= ") return { key, value: undefined, card };
  const rest = card.slice(10);
  let value;
  let comment = "";
  const t = rest.trimStart();
  if (t.startsWith("'")) {
    // string: '' is an escaped quote
    let i = rest.indexOf("'") + 1;
    let s = "";
    while (i < rest.length) {
      if (rest[i] === "'") {
        if (rest[i + 1] === "'") {
          s += "'";
          i += 2;
          continue;
        }
        break;
      }
      s += rest[i++];
    }
    value = s.replace(/\s+$/, "");
    const slash = rest.indexOf("/", i);
    if (slash >= 0) comment = rest.slice(slash + 1).trim();
  } else {
    const slash = rest.indexOf("/");
    const v = (slash >= 0 ? rest.slice(0, slash) : rest).trim();
    if (slash >= 0) comment = rest.slice(slash + 1).trim();
    if (v === "T" || v === "F") value = v === "T";
    else if (v !== "" && !Number.isNaN(Number(v.replace(/D/i, "E")))) value = Number(v.replace(/D/i, "E"));
    else value = v;
  }
  return { key, value, comment, card };
}

/** Reads the HDU structure from a buffer or a file (headers only are read from a file). */
function readHdus(source) {
  let fd = null;
  let buf = null;
  let size;
  if (Buffer.isBuffer(source)) {
    buf = source;
    size = buf.length;
  } else {
    fd = fs.openSync(source, "r");
    size = fs.fstatSync(fd).size;
  }
  const readBlock = (off) => {
    if (buf) return buf.subarray(off, off + BLOCK);
    const b = Buffer.alloc(BLOCK);
    fs.readSync(fd, b, 0, BLOCK, off);
    return b;
  };
  const hdus = [];
  try {
    let off = 0;
    while (off + BLOCK <= size) {
      const start = off;
      const cards = [];
      let ended = false;
      while (!ended) {
        if (off + BLOCK > size) throw new Error("truncated FITS header");
        const blk = readBlock(off).toString("latin1");
        off += BLOCK;
        for (let i = 0; i < 36; i++) {
          const c = blk.slice(i * 80, i * 80 + 80);
          if (c.startsWith("END") && c.slice(0, 8).trim() === "END") {
            ended = true;
            break;
          }
          cards.push(c);
        }
        if (hdus.length === 0 && start === 0 && off === BLOCK && !cards[0]?.startsWith("SIMPLE  =")) throw new Error("not a FITS file");
      }
      const parsed = cards.map(parseCard);
      const kv = {};
      for (const p of parsed) if (p.value !== undefined && !(p.key in kv)) kv[p.key] = p.value;
      const naxis = kv.NAXIS || 0;
      let n = naxis > 0 ? 1 : 0;
      for (let k = 1; k <= naxis; k++) n *= kv[`NAXIS${k}`];
      const dataLen = (Math.abs(kv.BITPIX || 8) / 8) * (kv.GCOUNT || 1) * ((kv.PCOUNT || 0) + n);
      const dataStart = off;
      const padded = Math.ceil(dataLen / BLOCK) * BLOCK;
      hdus.push({ index: hdus.length, start, headerLen: dataStart - start, cards: parsed, kv, dataStart, dataLen, paddedLen: padded });
      off = dataStart + padded;
    }
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
  if (hdus.length === 0) throw new Error("not a FITS file");
  return hdus;
}

/** Finds an HDU by cfitsio extended-name syntax: "[SUBINT]" (EXTNAME) or "[1]" (0-based). */
function findHdu(hdus, spec) {
  if (spec === null || spec === undefined) return hdus[0];
  if (/^\d+$/.test(spec)) return hdus[Number(spec)] || null;
  const want = spec.toUpperCase();
  return (
    hdus.find(
      (h) =>
        String(h.kv.EXTNAME || "")
          .trim()
          .toUpperCase() === want,
    ) || null
  );
}

/** A PSRFITS search-mode summary (primary + SUBINT header), or null when not PSRFITS. */
function psrfitsInfo(file) {
  let hdus;
  try {
    hdus = readHdus(file);
  } catch {
    return null;
  }
  const sub = findHdu(hdus, "SUBINT");
  const p = hdus[0].kv;
  if (!sub || String(p.FITSTYPE || "").trim() !== "PSRFITS") return null;
  const s = sub.kv;
  return {
    hdus,
    nsblk: s.NSBLK,
    nrows: s.NAXIS2,
    tbin: s.TBIN,
    nchan: s.NCHAN,
    chanbw: s.CHAN_BW,
    nbits: s.NBITS,
    obsfreq: p.OBSFREQ,
    obsbw: p.OBSBW,
    imjd: p.STT_IMJD,
    smjd: p.STT_SMJD,
    offs: p.STT_OFFS,
    telescope: String(p.TELESCOP || "").trim(),
    backend: String(p.BACKEND || "").trim(),
    source: String(p.SRC_NAME || "").trim(),
    N: s.NSBLK * s.NAXIS2,
  };
}

function setIntCard(card, value) {
  // fixed format: value right-justified in columns 11-30, comment kept
  const comment = card.slice(30);
  return (card.slice(0, 10) + String(value).padStart(20) + comment).slice(0, 80).padEnd(80);
}

class FitsError extends Error {
  constructor(status, text, detail) {
    super(text);
    this.status = status;
    this.detail = detail;
  }
}

/**
 * Deletes `nrows` rows starting at `firstrow` (1-based) from the binary table HDU,
 * as cfitsio's fits_delete_rows() does: the rows' bytes are removed, the bytes after
 * the table (PCOUNT: gap + heap) move up, NAXIS2 (and THEAP, if present) are updated,
 * the data unit is re-padded to whole 2880-byte blocks with zeros and the following
 * HDUs move with it. Returns the new file contents.
 */
function deleteRows(buf, hdu, firstrow, nrows) {
  if (hdu.index === 0 || !/TABLE/.test(String(hdu.kv.XTENSION || ""))) {
    throw new FitsError(235, "HDU is not an ASCII or binary table", "Can only delete rows in TABLE or BINTABLE extension (ffdrow)");
  }
  if (nrows < 0) throw new FitsError(306, "attempt to read or write negative number of bytes", "");
  if (nrows === 0) return buf;
  const naxis1 = hdu.kv.NAXIS1;
  const naxis2 = hdu.kv.NAXIS2;
  if (firstrow > naxis2) throw new FitsError(307, "bad first row number", "Delete position greater than the number of rows in the table (ffdrow)");
  if (firstrow < 1) throw new FitsError(307, "bad first row number", "Delete position is less than 1 (ffdrow)");
  if (firstrow + nrows - 1 > naxis2) throw new FitsError(307, "bad first row number", "No. of rows to delete exceeds size of table (ffdrow)");
  const pcount = hdu.kv.PCOUNT || 0;
  const table = buf.subarray(hdu.dataStart, hdu.dataStart + naxis1 * naxis2);
  const tail = buf.subarray(hdu.dataStart + naxis1 * naxis2, hdu.dataStart + naxis1 * naxis2 + pcount);
  const keepBefore = table.subarray(0, (firstrow - 1) * naxis1);
  const keepAfter = table.subarray((firstrow - 1 + nrows) * naxis1);
  const newLen = keepBefore.length + keepAfter.length + tail.length;
  const padded = Math.ceil(newLen / BLOCK) * BLOCK;
  const data = Buffer.alloc(padded, 0);
  keepBefore.copy(data, 0);
  keepAfter.copy(data, keepBefore.length);
  tail.copy(data, keepBefore.length + keepAfter.length);
  // header with the new NAXIS2 (and THEAP)
  const header = Buffer.from(buf.subarray(hdu.start, hdu.dataStart));
  for (let i = 0; i * 80 < header.length; i++) {
    const card = header.toString("latin1", i * 80, i * 80 + 80);
    const key = card.slice(0, 8).trim();
    if (key === "NAXIS2") header.write(setIntCard(card, naxis2 - nrows), i * 80, "latin1");
    if (key === "THEAP") {
      const theap = parseCard(card).value;
      header.write(setIntCard(card, theap - naxis1 * nrows), i * 80, "latin1");
    }
    if (key === "END") break;
  }
  return Buffer.concat([buf.subarray(0, hdu.start), header, data, buf.subarray(hdu.dataStart + hdu.paddedLen)]);
}

module.exports = { BLOCK, readHdus, findHdu, psrfitsInfo, deleteRows, FitsError, parseCard };
