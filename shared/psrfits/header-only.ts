/**
 * A header-only copy of a PSRFITS file, for the results directory.
 *
 * Public API:
 *   writeHeaderOnlyCopy(src, dest): PsrfitsHeader     the header of the copy as read back
 *
 * PALFA ran `fitsdelcol <f>[SUBINT] DATA DAT_WTS DAT_SCL DAT_OFFS` on the beam after
 * the search and shipped the result with the candidates: the uploader reads the
 * observation's header from it without moving gigabytes of samples. We write the
 * equivalent without CFITSIO: the primary HDU byte for byte, then the SUBINT
 * header with NAXIS2 = 0 and PCOUNT = 0 (no rows, no heap, so no data blocks).
 * Every column definition stays, so the copy still documents the table layout
 * (except an illegal TDIMn, see badTdims).
 * Because NAXIS2 = 0 would lose the observation length (fitsdelcol kept the rows),
 * the original row count is recorded as ORIGNAX2 with a HISTORY card; the reader
 * reports it as `originalRows` and flags the file `headerOnly`. Other extensions
 * (if any) are not copied. The file is written under a temporary name and renamed,
 * so a crash never leaves a half-written copy under the final name.
 */

import fs from "node:fs";
import path from "node:path";
import { BLOCK_LENGTH, END_CARD, formatHistoryCard, formatValueCard } from "./cards";
import { PsrfitsError } from "./errors";
import { type TableColumn } from "./columns";
import { findExtension, paddedLength, readPrimaryHeader } from "./hdus";
import { ORIGINAL_ROWS_KEY, type PsrfitsHeader, readPsrfitsHeader } from "./psrfits-header";

export function writeHeaderOnlyCopy(src: string, dest: string): PsrfitsHeader {
  // Validates the source as a whole (a truncated beam is not worth describing).
  const original = readPsrfitsHeader(src);

  const fd = fs.openSync(src, "r");
  let primaryBytes: Buffer;
  let subintImages: string[];
  try {
    const size = fs.fstatSync(fd).size;
    const primary = readPrimaryHeader(fd, src, size);
    const subint = findExtension(fd, src, size, primary, "SUBINT", "BINTABLE").header;
    // The primary HDU: its header and (normally empty) data, as they are.
    const primaryLength = primary.dataOffset + paddedLength(primary.dataBytes());
    primaryBytes = Buffer.alloc(primaryLength);
    const n = fs.readSync(fd, primaryBytes, 0, primaryLength, 0);
    if (n !== primaryLength) throw new PsrfitsError(src, "truncated", `the primary HDU needs ${primaryLength} bytes`);
    subintImages = rewriteSubintCards(
      subint.cards.map((c) => c.image),
      original.subint.rows,
      badTdims(original.subint.columns),
    );
  } finally {
    fs.closeSync(fd);
  }

  const headerText = [...subintImages, END_CARD].join("");
  const headerLength = paddedLength(headerText.length);
  const headerBytes = Buffer.alloc(headerLength, " ".charCodeAt(0));
  headerBytes.write(headerText, 0, "latin1");

  const tmp = path.join(path.dirname(dest), `.${path.basename(dest)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, Buffer.concat([primaryBytes, headerBytes]));
    fs.renameSync(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  if ((primaryBytes.length + headerBytes.length) % BLOCK_LENGTH !== 0) {
    throw new Error("internal error: header-only copy is not a whole number of FITS blocks");
  }
  return readPsrfitsHeader(dest);
}

/**
 * TDIMn keywords whose element count is not the column's repeat count. FITS makes
 * them illegal (fitsverify: "illegal TDIMn keyword value"); combine_mocks writes one
 * for its 4-bit DATA column. Nobody reads TDIM from the copy, so it is dropped
 * there, with a HISTORY card, to make the copy valid FITS.
 */
function badTdims(columns: readonly TableColumn[]): Map<string, string> {
  const bad = new Map<string, string>();
  for (const c of columns) {
    if (c.tdim !== null && c.tdim.reduce((a, b) => a * b, 1) !== c.repeat) {
      bad.set(`TDIM${c.number}`, `(${c.tdim.join(",")})`);
    }
  }
  return bad;
}

/** NAXIS2 and PCOUNT to 0, THEAP and illegal TDIMs dropped, ORIGNAX2 + HISTORY added at the end. */
function rewriteSubintCards(images: string[], rows: number, dropTdims: Map<string, string>): string[] {
  const out: string[] = [];
  for (const image of images) {
    const key = image.slice(0, 8).trimEnd();
    const comment = commentOf(image);
    if (key === "NAXIS2") out.push(formatValueCard("NAXIS2", 0, comment));
    else if (key === "PCOUNT") out.push(formatValueCard("PCOUNT", 0, comment));
    else if (key === "THEAP" || key === ORIGINAL_ROWS_KEY || dropTdims.has(key)) continue;
    else out.push(image);
  }
  out.push(formatValueCard(ORIGINAL_ROWS_KEY, rows, "NAXIS2 before the rows were dropped"));
  out.push(formatHistoryCard(`Header-only copy: ${rows} rows of search data dropped (beamflow)`));
  for (const [key, dims] of dropTdims) {
    out.push(formatHistoryCard(`${key} = '${dims}' dropped: its size is not the column's repeat count`));
  }
  return out;
}

function commentOf(image: string): string {
  const slash = image.indexOf("/", 10);
  return slash < 0 ? "" : image.slice(slash + 1).trim();
}
