/**
 * Read a search-mode PSRFITS file's header (primary HDU + SUBINT table) in
 * TypeScript, with the geometry PRESTO derives from it.
 *
 * Public API:
 *   readPsrfitsHeader(path): PsrfitsHeader        throws PsrfitsError
 *   interface PsrfitsHeader, PsrfitsSubint, PsrfitsColumn (= TableColumn)
 *
 * The agent needs these numbers before it runs anything: the backend picks the
 * DDplan (pdev = Mock, WAPP), NAXIS2 caps prepfold's -npart, NSBLK is the row
 * length for the cal-row check and the dedispersion length, TBIN x samples is the
 * observation length PALFA compares with low_T_to_search. Doing it in TypeScript
 * keeps PRESTO's Python (and CFITSIO) off the agent's critical path and lets us
 * reject a truncated or non-FITS file with a precise message up front.
 *
 * Values follow PRESTO's psrfits.c where it derives them: start MJD =
 * STT_IMJD + (STT_SMJD + STT_OFFS)/86400, samples = NAXIS2 * NSBLK (no padding
 * between files: we read one file), bandwidth = NCHAN * |CHAN_BW|, and the band is
 * "inverted" (channels high to low, as Mock data are) when the channel frequencies
 * decrease. Unlike psrfits.c we do not take OBSFREQ as the centre: combine_mocks
 * and other writers may leave OBSFREQ/OBSNCHAN from an input half, so the centre
 * is the middle of the first row's DAT_FREQ (OBSFREQ only when there is no row).
 */

import fs from "node:fs";
import { type TableColumn, tableColumns } from "./columns";
import { PsrfitsError } from "./errors";
import { type FitsHeader } from "./fits-header";
import { findExtension, paddedLength, readPrimaryHeader } from "./hdus";
import { startMjdNumber, startMjdString } from "./mjd";

export type PsrfitsColumn = TableColumn;

/** Card that writeHeaderOnlyCopy adds: the NAXIS2 the file had before its rows were dropped. */
export const ORIGINAL_ROWS_KEY = "ORIGNAX2";

export interface PsrfitsSubint {
  /** HDU number of the SUBINT table (0 = primary). */
  hduIndex: number;
  /** Byte offset of the SUBINT header, and of its first data byte. */
  headerOffset: number;
  dataOffset: number;
  /** NAXIS1: bytes per row. */
  rowBytes: number;
  /** NAXIS2: rows (subintegrations). */
  rows: number;
  /** PCOUNT: bytes of heap after the rows (0 for search-mode data). */
  heapBytes: number;
  /** Byte offset of the heap: dataOffset + THEAP (default NAXIS1 * NAXIS2). */
  heapOffset: number;
  /** Bytes the table needs: rows * rowBytes + heapBytes, before padding. */
  tableBytes: number;
  nsblk: number;
  nchan: number;
  npol: number;
  nbits: number;
  /** Seconds per sample. */
  tbin: number;
  /** MHz per channel; negative when channels run high to low. */
  chanBw: number;
  /** NSUBOFFS: rows of the observation before this file (0 if absent). */
  nsuboffs: number;
  /** POL_TYPE, e.g. "AA+BB". */
  polType: string;
  columns: PsrfitsColumn[];
  /** The columns PRESTO reads, or null when the table lacks them (e.g. after fitsdelcol). */
  data: PsrfitsColumn | null;
  datWts: PsrfitsColumn | null;
  datScl: PsrfitsColumn | null;
  datOffs: PsrfitsColumn | null;
  datFreq: PsrfitsColumn | null;
}

export interface PsrfitsHeader {
  file: string;
  fileBytes: number;
  /** FITSTYPE ("PSRFITS") and OBS_MODE ("SEARCH"). */
  fitsType: string;
  obsMode: string;
  telescope: string;
  backend: string;
  frontend: string;
  /** SRC_NAME. */
  source: string;
  projid: string;
  observer: string;
  /** RA / DEC as written ("19:03:05.8", "+03:27:19.0"). */
  ra: string;
  dec: string;
  /** DATE-OBS as written. */
  dateObs: string;
  sttImjd: number;
  sttSmjd: number;
  sttOffs: number;
  /** STT_IMJD + (STT_SMJD + STT_OFFS) / 86400 as a double (~1 us precision). */
  startMjd: number;
  /** The same, exact to 20 decimals (see mjd.ts). */
  startMjdString: string;
  /** OBSFREQ, OBSBW, OBSNCHAN from the primary header, as written. */
  obsFreqMhz: number;
  obsBwMhz: number;
  obsNchan: number;
  /** IBEAM when present (the Mock halves carry it; combine_mocks drops it). */
  beamId: number | null;
  /** CHAN_DM (0 when absent, as PRESTO assumes). */
  chanDm: number;
  subint: PsrfitsSubint;

  // Derived, as PRESTO derives them.
  /** NAXIS2 * NSBLK. */
  samples: number;
  /** samples * TBIN, seconds. */
  durationS: number;
  /** NSBLK * TBIN: seconds per row. */
  rowDurationS: number;
  /** True when channel frequencies decrease (CHAN_BW < 0): PRESTO flips the band. */
  channelsHighToLow: boolean;
  /** NCHAN * |CHAN_BW|, MHz. */
  bandwidthMhz: number;
  /** Middle of the first row's DAT_FREQ (OBSFREQ when the table has no rows), MHz. */
  centreFreqMhz: number;
  /** Lowest and highest channel centre of the first row, MHz (null without rows/DAT_FREQ). */
  lowChannelMhz: number | null;
  highChannelMhz: number | null;
  /** True for a header-only copy (writeHeaderOnlyCopy): NAXIS2 = 0 and ORIGNAX2 set. */
  headerOnly: boolean;
  /** Rows of the original observation: ORIGNAX2 for a header-only copy, else NAXIS2. */
  originalRows: number;
  /** Oddities that do not stop PRESTO (e.g. combine_mocks' TDIM on 4-bit data). */
  warnings: string[];
}

export function readPsrfitsHeader(file: string): PsrfitsHeader {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch (err) {
    throw new PsrfitsError(file, "io", `cannot open: ${(err as Error).message}`, { cause: err });
  }
  try {
    const fileBytes = fs.fstatSync(fd).size;
    const primary = readPrimaryHeader(fd, file, fileBytes);
    const found = findExtension(fd, file, fileBytes, primary, "SUBINT", "BINTABLE");
    const subint = readSubint(found.header, found.index);
    const warnings: string[] = [];
    checkLength(file, fileBytes, subint, warnings);
    checkDataColumn(file, subint, warnings);
    const freqs = subint.rows > 0 ? readFirstRowFreqs(fd, file, subint) : null;
    return assemble(file, fileBytes, primary, found.header, subint, freqs, warnings);
  } finally {
    fs.closeSync(fd);
  }
}

function readSubint(h: FitsHeader, hduIndex: number): PsrfitsSubint {
  const columns = tableColumns(h);
  const byName = (name: string): PsrfitsColumn | null => columns.find((c) => c.name === name) ?? null;
  const rowBytes = h.int("NAXIS1");
  const rows = h.int("NAXIS2");
  const heapBytes = h.optInt("PCOUNT") ?? 0;
  const theap = h.optInt("THEAP") ?? rowBytes * rows;
  return {
    hduIndex,
    headerOffset: h.offset,
    dataOffset: h.dataOffset,
    rowBytes,
    rows,
    heapBytes,
    heapOffset: h.dataOffset + theap,
    tableBytes: rowBytes * rows + heapBytes,
    nsblk: h.int("NSBLK"),
    nchan: h.int("NCHAN"),
    npol: h.int("NPOL"),
    nbits: h.int("NBITS"),
    tbin: h.float("TBIN"),
    chanBw: h.float("CHAN_BW"),
    nsuboffs: h.optInt("NSUBOFFS") ?? 0,
    polType: h.optString("POL_TYPE") ?? "",
    columns,
    data: byName("DATA"),
    datWts: byName("DAT_WTS"),
    datScl: byName("DAT_SCL"),
    datOffs: byName("DAT_OFFS"),
    datFreq: byName("DAT_FREQ"),
  };
}

/** The table (rows and heap) must be in the file; the final block padding may be missing. */
function checkLength(file: string, fileBytes: number, s: PsrfitsSubint, warnings: string[]): void {
  const have = Math.max(0, fileBytes - s.dataOffset);
  if (have < s.tableBytes) {
    const heap = s.heapBytes > 0 ? ` plus a ${s.heapBytes}-byte heap` : "";
    throw new PsrfitsError(
      file,
      "truncated",
      `${s.rows} rows of ${s.rowBytes} bytes${heap} need ${s.tableBytes} bytes of data after the SUBINT header ` +
        `(byte ${s.dataOffset}), the file has ${have}`,
    );
  }
  const padded = s.dataOffset + paddedLength(s.tableBytes);
  if (fileBytes < padded) {
    warnings.push(`the file ends ${padded - fileBytes} bytes before the end of its last 2880-byte block (padding missing)`);
  }
}

/**
 * DATA must hold NSBLK * NCHAN * NPOL samples of NBITS bits per row, which is what
 * PRESTO reads. A TDIM that counts samples rather than bytes (combine_mocks writes
 * TDIM17 = (1,66,1,2048) for 4-bit data packed two per byte) is only noted: CFITSIO
 * and PRESTO ignore it, astropy warns.
 */
function checkDataColumn(file: string, s: PsrfitsSubint, warnings: string[]): void {
  const d = s.data;
  if (d === null) {
    warnings.push("the SUBINT table has no DATA column (header-only file)");
    return;
  }
  const needBytes = (s.nsblk * s.nchan * s.npol * s.nbits) / 8;
  if (d.bytes !== needBytes) {
    throw new PsrfitsError(
      file,
      "bad-header",
      `DATA (column ${d.number}, TFORM ${d.tform.trim()}) holds ${d.bytes} bytes per row, but NSBLK*NCHAN*NPOL*NBITS/8 = ` +
        `${s.nsblk}*${s.nchan}*${s.npol}*${s.nbits}/8 = ${needBytes}`,
    );
  }
  if (d.tdim !== null) {
    const elements = d.tdim.reduce((a, b) => a * b, 1);
    if (elements !== d.repeat) {
      warnings.push(
        `TDIM${d.number} (${d.tdim.join(",")}) has ${elements} elements but TFORM${d.number} repeats ${d.repeat} ` +
          `(${s.nbits}-bit samples packed ${8 / s.nbits} per byte); ignored, as CFITSIO and PRESTO do`,
      );
    }
  }
}

/** DAT_FREQ of row 1 (big-endian D or E), the values PRESTO takes lo/hi channel from. */
function readFirstRowFreqs(fd: number, file: string, s: PsrfitsSubint): number[] | null {
  const col = s.datFreq;
  if (col === null || (col.type !== "D" && col.type !== "E") || col.repeat < 1) return null;
  const buf = Buffer.alloc(col.bytes);
  const n = fs.readSync(fd, buf, 0, col.bytes, s.dataOffset + col.offset);
  if (n !== col.bytes) {
    throw new PsrfitsError(file, "truncated", `cannot read row 1's DAT_FREQ at byte ${s.dataOffset + col.offset}`);
  }
  const out: number[] = [];
  for (let i = 0; i < col.repeat; i++) out.push(col.type === "D" ? buf.readDoubleBE(i * 8) : buf.readFloatBE(i * 4));
  return out;
}

function beamIdOf(primary: FitsHeader): number | null {
  const v = primary.card("IBEAM")?.value;
  if (v === undefined || v === null) return null;
  if (v.kind === "int") return v.value;
  // The PSRFITS definition makes IBEAM a string; some writers use an integer.
  if (v.kind === "string" && /^\s*\d+\s*$/.test(v.value)) return Number(v.value);
  return null;
}

function assemble(
  file: string,
  fileBytes: number,
  primary: FitsHeader,
  subintHeader: FitsHeader,
  s: PsrfitsSubint,
  freqs: number[] | null,
  warnings: string[],
): PsrfitsHeader {
  const str = (key: string): string => (primary.optString(key) ?? "").trim();
  const sttImjd = primary.int("STT_IMJD");
  const sttSmjd = primary.int("STT_SMJD");
  const sttOffs = primary.optFloat("STT_OFFS") ?? 0;
  const offsText = primary.optNumberText("STT_OFFS") ?? "0";
  const obsFreqMhz = primary.float("OBSFREQ");

  let lowChannelMhz: number | null = null;
  let highChannelMhz: number | null = null;
  let centreFreqMhz = obsFreqMhz;
  let descending = s.chanBw < 0;
  if (freqs !== null && freqs.length > 0) {
    const first = freqs[0];
    const last = freqs[freqs.length - 1];
    lowChannelMhz = Math.min(first, last);
    highChannelMhz = Math.max(first, last);
    centreFreqMhz = (first + last) / 2;
    if (s.chanBw === 0) descending = last < first;
    else if (freqs.length > 1 && last < first !== s.chanBw < 0) {
      warnings.push(`CHAN_BW is ${s.chanBw} but DAT_FREQ runs from ${first} to ${last} MHz`);
    }
  }

  const samples = s.rows * s.nsblk;
  const originalRowsCard = subintHeader.optInt(ORIGINAL_ROWS_KEY);
  const headerOnly = s.rows === 0 && originalRowsCard !== undefined;
  return {
    file,
    fileBytes,
    fitsType: str("FITSTYPE"),
    obsMode: str("OBS_MODE"),
    telescope: str("TELESCOP"),
    backend: str("BACKEND"),
    frontend: str("FRONTEND"),
    source: str("SRC_NAME"),
    projid: str("PROJID"),
    observer: str("OBSERVER"),
    ra: str("RA"),
    dec: str("DEC"),
    dateObs: str("DATE-OBS"),
    sttImjd,
    sttSmjd,
    sttOffs,
    startMjd: startMjdNumber(sttImjd, sttSmjd, sttOffs),
    startMjdString: startMjdString(sttImjd, sttSmjd, offsText),
    obsFreqMhz,
    obsBwMhz: primary.float("OBSBW"),
    obsNchan: primary.int("OBSNCHAN"),
    beamId: beamIdOf(primary),
    chanDm: primary.optFloat("CHAN_DM") ?? 0,
    subint: s,
    samples,
    durationS: samples * s.tbin,
    rowDurationS: s.nsblk * s.tbin,
    channelsHighToLow: descending,
    bandwidthMhz: s.nchan * Math.abs(s.chanBw),
    centreFreqMhz,
    lowChannelMhz,
    highChannelMhz,
    headerOnly,
    originalRows: headerOnly ? (originalRowsCard as number) : s.rows,
    warnings,
  };
}
