/**
 * The PSRFITS search-mode layout of a Mock (PALFA "pdev") file: the primary
 * header's keys, the SUBINT table's keys and columns, and a row template whose
 * DATA region the generator fills row by row.
 *
 *   interface PsrfitsFileSpec        what one file's headers say
 *   primaryCards(spec), subintCards(spec)
 *   subintColumns(nchan, dataBytes)
 *   class SubintRow                  one row's bytes: set(rowIndex), data (the DATA bytes)
 *
 * The keys and columns are those of the Mock halves in test/fixtures/psrfits (and
 * everything psrfits_utils' psrfits_open and PRESTO's psrfits.c read): primary
 * HDU with HDRVER 3.4, FITSTYPE PSRFITS, OBS_MODE SEARCH, TELESCOP Arecibo,
 * FRONTEND alfa, BACKEND pdev, IBEAM, OBSFREQ/OBSBW/OBSNCHAN (OBSBW negative as the
 * channels run high to low), STT_IMJD/STT_SMJD/STT_OFFS, TRK_MODE, CAL_*, FD_*, ...;
 * SUBINT columns INDEXVAL, TSUBINT, OFFS_SUB, LST_SUB, RA_SUB, DEC_SUB, GLON_SUB,
 * GLAT_SUB, FD_ANG, POS_ANG, PAR_ANG, TEL_AZ, TEL_ZEN, DAT_FREQ, DAT_WTS, DAT_OFFS,
 * DAT_SCL, DATA (NSBLK x NCHAN samples of NBITS, packed big nibble first for 4 bits).
 * DATE (the file's creation date) is the observation's start, not the wall clock,
 * so the same inputs give the same bytes.
 */

import { card, commentCard, type TableColumn, rowLayout, binTableCards } from "./fits-writer";
import { ARECIBO } from "./sky";

export interface PsrfitsFileSpec {
  source: string;
  observer: string;
  projid: string;
  beam: number;
  raText: string;
  decText: string;
  raDeg: number;
  decDeg: number;
  glon: number;
  glat: number;
  imjd: number;
  smjd: number;
  offs: number;
  /** DATE-OBS, "YYYY-MM-DDThh:mm:ss.sss". */
  dateObs: string;
  /** LST at the start, seconds. */
  lstStart: number;
  nbits: 4 | 8;
  nchan: number;
  nsblk: number;
  rows: number;
  tbin: number;
  /** MHz, negative: channels run from high to low frequency. */
  chanBw: number;
  /** Channel centres in file order (MHz). */
  freqs: Float64Array;
  /** Per-channel DAT_WTS / DAT_OFFS / DAT_SCL (the same in every row). */
  weights: Float32Array;
  offsets: Float32Array;
  scales: Float32Array;
  beamFwhmDeg: number;
  /** COMMENT lines for the primary header. */
  comments: string[];
}

export function obsFreq(spec: PsrfitsFileSpec): number {
  return (spec.freqs[0] + spec.freqs[spec.nchan - 1]) / 2;
}

export function primaryCards(s: PsrfitsFileSpec): string[] {
  const r = (x: number) => ({ real: x });
  const dateOnly = s.dateObs.slice(0, 19);
  const cards = [
    card("SIMPLE", true, "conforms to FITS standard"),
    card("BITPIX", 8, "array data type"),
    card("NAXIS", 0, "number of array dimensions"),
    card("EXTEND", true),
    card("HDRVER", "3.4", "Header version"),
    card("FITSTYPE", "PSRFITS", "FITS definition for pulsar data files"),
    card("DATE", dateOnly, "File creation date"),
    card("OBSERVER", s.observer, "Observer name(s)"),
    card("PROJID", s.projid, "Project name"),
    card("TELESCOP", "Arecibo", "Telescope name"),
    card("ANT_X", r(ARECIBO.x), "[m] Antenna ITRF X-coordinate"),
    card("ANT_Y", r(ARECIBO.y), "[m] Antenna ITRF Y-coordinate"),
    card("ANT_Z", r(ARECIBO.z), "[m] Antenna ITRF Z-coordinate"),
    card("FRONTEND", "alfa", "Rx and feed ID"),
    card("IBEAM", s.beam, "Beam ID for multibeam systems"),
    card("NRCVR", 2, "Number of receiver polarisation channels"),
    card("FD_POLN", "LIN", "LIN or CIRC"),
    card("FD_HAND", 1, "+/- 1. +1 is LIN:A=X,B=Y, CIRC:A=L,B=R (I)"),
    card("FD_SANG", r(45), "[deg] FA of E vect for equal sig in A&B (E)"),
    card("FD_XYPH", r(0), "[deg] Phase of A^* B for injected cal (E)"),
    card("BACKEND", "pdev", "Backend ID"),
    card("BECONFIG", "N/A", "Backend configuration file name"),
    card("BE_PHASE", 1, "0/+1/-1 BE cross-phase:0 unknown,+/-1 std/rev"),
    card("BE_DCC", 0, "0/1 BE downconversion conjugation corrected"),
    card("BE_DELAY", r(0), "[s] Backend propn delay from digitiser input"),
    card("TCYCLE", r(0), "[s] On-line cycle time (D)"),
    card("OBS_MODE", "SEARCH", "(PSR, CAL, SEARCH)"),
    card("DATE-OBS", s.dateObs, "Date of observation (UTC)"),
    card("OBSFREQ", r(obsFreq(s)), "[MHz] Centre frequency for observation"),
    card("OBSBW", r(s.chanBw * s.nchan), "[MHz] Bandwidth for observation"),
    card("OBSNCHAN", s.nchan, "Number of frequency channels (original)"),
    card("CHAN_DM", r(0), "[cm-3 pc] DM used for on-line dedispersion"),
    card("SRC_NAME", s.source, "Source or scan ID"),
    card("COORD_MD", "J2000", "Coordinate mode (J2000, GALACTIC, ECLIPTIC)"),
    card("EQUINOX", r(2000), "Equinox of coords (e.g. 2000.0)"),
    card("RA", s.raText, "Right ascension (hh:mm:ss.ssss)"),
    card("DEC", s.decText, "Declination (-dd:mm:ss.sss)"),
    card("BMAJ", r(s.beamFwhmDeg), "[deg] Beam major axis length"),
    card("BMIN", r(s.beamFwhmDeg), "[deg] Beam minor axis length"),
    card("BPA", r(0), "[deg] Beam position angle"),
    card("STT_CRD1", s.raText, "Start coord 1 (hh:mm:ss.sss or ddd.ddd)"),
    card("STT_CRD2", s.decText, "Start coord 2 (-dd:mm:ss.sss or -dd.ddd)"),
    card("TRK_MODE", "TRACK", "Track mode (TRACK, SCANGC, SCANLAT)"),
    card("STP_CRD1", s.raText, "Stop coord 1 (hh:mm:ss.sss or ddd.ddd)"),
    card("STP_CRD2", s.decText, "Stop coord 2 (-dd:mm:ss.sss or -dd.ddd)"),
    card("SCANLEN", r(s.rows * s.nsblk * s.tbin), "[s] Requested scan length (E)"),
    card("FD_MODE", "FA", "Feed track mode - FA, CPA, SPA, TPA"),
    card("FA_REQ", r(0), "[deg] Feed/Posn angle requested (E)"),
    card("CAL_MODE", "OFF", "Cal mode (OFF, SYNC, EXT1, EXT2)"),
    card("CAL_FREQ", r(0), "[Hz] Cal modulation frequency (E)"),
    card("CAL_DCYC", r(0), "Cal duty cycle (E)"),
    card("CAL_PHS", r(0), "Cal phase (wrt start time) (E)"),
    card("STT_IMJD", s.imjd, "Start MJD (UTC days) (J - long integer)"),
    card("STT_SMJD", s.smjd, "[s] Start time (sec past UTC 00h) (J)"),
    card("STT_OFFS", r(s.offs), "[s] Start time offset (D)"),
    card("STT_LST", r(roundTo(s.lstStart, 1e-6)), "[s] Start LST (D)"),
  ];
  for (const c of s.comments) cards.push(commentCard(c));
  return cards;
}

export function subintColumns(nchan: number, dataBytes: number): TableColumn[] {
  return [
    { name: "INDEXVAL", form: "D", repeat: 1 },
    { name: "TSUBINT", form: "D", repeat: 1, unit: "s" },
    { name: "OFFS_SUB", form: "D", repeat: 1, unit: "s" },
    { name: "LST_SUB", form: "D", repeat: 1, unit: "s" },
    { name: "RA_SUB", form: "D", repeat: 1, unit: "deg" },
    { name: "DEC_SUB", form: "D", repeat: 1, unit: "deg" },
    { name: "GLON_SUB", form: "D", repeat: 1, unit: "deg" },
    { name: "GLAT_SUB", form: "D", repeat: 1, unit: "deg" },
    { name: "FD_ANG", form: "E", repeat: 1, unit: "deg" },
    { name: "POS_ANG", form: "E", repeat: 1, unit: "deg" },
    { name: "PAR_ANG", form: "E", repeat: 1, unit: "deg" },
    { name: "TEL_AZ", form: "E", repeat: 1, unit: "deg" },
    { name: "TEL_ZEN", form: "E", repeat: 1, unit: "deg" },
    { name: "DAT_FREQ", form: "D", repeat: nchan, unit: "MHz" },
    { name: "DAT_WTS", form: "E", repeat: nchan },
    { name: "DAT_OFFS", form: "E", repeat: nchan },
    { name: "DAT_SCL", form: "E", repeat: nchan },
    { name: "DATA", form: "B", repeat: dataBytes },
  ];
}

export function dataBytesPerRow(s: Pick<PsrfitsFileSpec, "nsblk" | "nchan" | "nbits">): number {
  return (s.nsblk * s.nchan * s.nbits) / 8;
}

export function subintCards(s: PsrfitsFileSpec): string[] {
  const r = (x: number) => ({ real: x });
  return [
    ...binTableCards(subintColumns(s.nchan, dataBytesPerRow(s)), s.rows, "SUBINT"),
    card("INT_TYPE", "TIME", "Time axis (TIME, BINPHSPERI, BINLNGASC, etc)"),
    card("INT_UNIT", "SEC", "Unit of time axis (SEC, PHS (0-1), DEG)"),
    card("SCALE", "FluxDen", "Intensity units (FluxDen/RefFlux/Jansky)"),
    card("NPOL", 1, "Nr of polarisations"),
    card("POL_TYPE", "AA+BB", "Polarisation identifier (e.g., AABBCRCI, AA+BB)"),
    card("TBIN", r(s.tbin), "[s] Time per bin or sample"),
    card("NBIN", 1, "Nr of bins (PSR/CAL mode; else 1)"),
    card("NBIN_PRD", 0, "Nr of bins/pulse period (for gated data)"),
    card("PHS_OFFS", r(0), "Phase offset of bin 0 for gated data"),
    card("NBITS", s.nbits, "Nr of bits/datum (SEARCH mode 'X' data, else 1)"),
    card("ZERO_OFF", r(0), "Zero offset for SEARCH-mode 'X' data"),
    card("NSUBOFFS", 0, "Subint offset (Contiguous SEARCH-mode files)"),
    card("NCHAN", s.nchan, "Number of channels/sub-bands in this file"),
    card("CHAN_BW", r(s.chanBw), "[MHz] Channel/sub-band width"),
    card("NCHNOFFS", 0, "Channel/sub-band offset for split files"),
    card("NSBLK", s.nsblk, "Samples/row (SEARCH mode, else 1)"),
  ];
}

function roundTo(x: number, step: number): number {
  return Number((Math.round(x / step) * step).toFixed(Math.max(0, -Math.floor(Math.log10(step)))));
}

const SIDEREAL_PER_SOLAR = 1.00273790935;

/**
 * One SUBINT row. The per-channel columns are written once; set(r) fills the
 * row's scalar columns; the caller fills `data` (NSBLK x NCHAN samples) and
 * writes `bytes`.
 */
export class SubintRow {
  readonly bytes: Buffer;
  readonly data: Buffer;
  private readonly off: Map<string, number>;
  private readonly spec: PsrfitsFileSpec;

  constructor(spec: PsrfitsFileSpec) {
    this.spec = spec;
    const dataBytes = dataBytesPerRow(spec);
    const layout = rowLayout(subintColumns(spec.nchan, dataBytes));
    this.off = layout.offsets;
    this.bytes = Buffer.alloc(layout.rowBytes);
    const at = (name: string) => this.off.get(name)!;
    for (let c = 0; c < spec.nchan; c++) {
      this.bytes.writeDoubleBE(spec.freqs[c], at("DAT_FREQ") + 8 * c);
      this.bytes.writeFloatBE(spec.weights[c], at("DAT_WTS") + 4 * c);
      this.bytes.writeFloatBE(spec.offsets[c], at("DAT_OFFS") + 4 * c);
      this.bytes.writeFloatBE(spec.scales[c], at("DAT_SCL") + 4 * c);
    }
    this.bytes.writeDoubleBE(spec.raDeg, at("RA_SUB"));
    this.bytes.writeDoubleBE(spec.decDeg, at("DEC_SUB"));
    this.bytes.writeDoubleBE(spec.glon, at("GLON_SUB"));
    this.bytes.writeDoubleBE(spec.glat, at("GLAT_SUB"));
    this.data = this.bytes.subarray(at("DATA"), at("DATA") + dataBytes);
  }

  /** Scalar columns of row r (0-based): INDEXVAL r+1, TSUBINT, OFFS_SUB at the row's middle, LST_SUB. */
  set(r: number): void {
    const s = this.spec;
    const tsub = s.nsblk * s.tbin;
    const mid = (r + 0.5) * tsub;
    this.bytes.writeDoubleBE(r + 1, this.off.get("INDEXVAL")!);
    this.bytes.writeDoubleBE(tsub, this.off.get("TSUBINT")!);
    this.bytes.writeDoubleBE(mid, this.off.get("OFFS_SUB")!);
    const lst = (s.lstStart + mid * SIDEREAL_PER_SOLAR) % 86400;
    this.bytes.writeDoubleBE(roundTo(lst, 1e-6), this.off.get("LST_SUB")!);
  }
}
