/**
 * The `headers` row of a beam, from the header-only PSRFITS copy the search leaves
 * in the results directory (PALFA's header.py read the same fitsdelcol'd file).
 *
 * Public API:
 *   interface HeaderRow                 the columns of `headers` (without ids)
 *   headerRow(header, fileName): HeaderRow
 *   parseRaHours(text) / parseDecDegrees(text): number   sexagesimal -> degrees
 *   equatorialToGalactic(raDeg, decDeg): { l, b }         J2000 -> galactic, degrees
 *
 * The copy has no rows (NAXIS2 = 0), so the observation's length comes from the
 * original row count it records (ORIGNAX2, `originalRows`). Positions: the header's
 * RA/DEC strings are stored as written, and as degrees plus galactic coordinates
 * computed here. PALFA also stored a "corrected" position (a Mock-specific beam
 * offset fix) and AZ/ZA/LST from the WAPP header; beamflow's PSRFITS reader does
 * not give those, so they are left out rather than made up.
 * An unreadable RA or DEC fails the upload as "parse", as PALFA's header did (it
 * turned astropy's invalid-sexagesimal warning into an error).
 */

import type { PsrfitsHeader } from "../../shared/psrfits";
import { UploadError } from "./errors";
import { beamNumberFromNames } from "../zaplists/beam-name";

export interface HeaderRow {
  beam_id: number | null;
  original_file: string;
  telescope: string;
  backend: string;
  frontend: string;
  source_name: string;
  project_id: string;
  observers: string;
  date_obs: string;
  timestamp_mjd: number;
  /** The start MJD to 20 decimals: a double near MJD 60000 keeps only ~1 us. */
  timestamp_mjd_text: string;
  /** Seconds per sample (TBIN). */
  sample_time: number;
  /** NSBLK. */
  num_samples_per_record: number;
  num_records: number;
  num_samples: number;
  /** Seconds. */
  observation_time: number;
  center_freq: number;
  channel_bandwidth: number;
  num_channels_per_record: number;
  bandwidth: number;
  num_ifs: number;
  bits_per_sample: number;
  orig_right_ascension: string;
  orig_declination: string;
  ra_deg: number;
  dec_deg: number;
  galactic_longitude: number;
  galactic_latitude: number;
  /** Bytes of SUBINT rows in the original file (rows x NAXIS1). */
  data_size: number;
  obs_type: string;
}

const SEXAGESIMAL = /^([+-])?(\d{1,3}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?$/;

function sexagesimal(text: string): { sign: number; value: number } | null {
  const m = SEXAGESIMAL.exec(text.trim());
  if (!m) return null;
  const a = Number(m[2]);
  const b = Number(m[3]);
  const c = m[4] === undefined ? 0 : Number(m[4]);
  if (b >= 60 || c >= 60) return null;
  return { sign: m[1] === "-" ? -1 : 1, value: a + b / 60 + c / 3600 };
}

/** "19:03:05.8" -> 285.774166... degrees; NaN if not a valid RA. */
export function parseRaHours(text: string): number {
  const s = sexagesimal(text);
  if (s === null || s.sign < 0 || s.value >= 24) return Number.NaN;
  return s.value * 15;
}

/** "+03:27:19.0" -> 3.4552... degrees ("-00:30:00" keeps its sign); NaN if not a valid DEC. */
export function parseDecDegrees(text: string): number {
  const s = sexagesimal(text);
  if (s === null || s.value > 90) return Number.NaN;
  return s.sign * s.value;
}

/**
 * Rotation from ICRS (J2000 to well below the precision of a beam position) to
 * galactic coordinates: the Hipparcos definition (ESA 1997, vol. 1, §1.5.3), as
 * astropy and SLALIB use.
 */
const ICRS_TO_GAL = [
  [-0.0548755604162154, -0.873437090234885, -0.4838350155487132],
  [0.4941094278755837, -0.4448296299600112, 0.7469822444972189],
  [-0.867666149019005, -0.1980763734312015, 0.4559837761750669],
] as const;

export function equatorialToGalactic(raDeg: number, decDeg: number): { l: number; b: number } {
  const rad = Math.PI / 180;
  const ra = raDeg * rad;
  const dec = decDeg * rad;
  const v = [Math.cos(dec) * Math.cos(ra), Math.cos(dec) * Math.sin(ra), Math.sin(dec)];
  const [x, y, z] = ICRS_TO_GAL.map((r) => r[0] * v[0]! + r[1] * v[1]! + r[2] * v[2]!) as [number, number, number];
  let l = Math.atan2(y, x) / rad;
  if (l < 0) l += 360;
  const b = Math.asin(Math.max(-1, Math.min(1, z))) / rad;
  return { l, b };
}

export function headerRow(h: PsrfitsHeader, fileName: string): HeaderRow {
  const raDeg = parseRaHours(h.ra);
  const decDeg = parseDecDegrees(h.dec);
  if (Number.isNaN(raDeg)) throw new UploadError("parse", `${fileName}: RA ${JSON.stringify(h.ra)} is not HH:MM:SS.s`, { file: fileName });
  if (Number.isNaN(decDeg)) throw new UploadError("parse", `${fileName}: DEC ${JSON.stringify(h.dec)} is not +DD:MM:SS.s`, { file: fileName });
  const gal = equatorialToGalactic(raDeg, decDeg);
  const s = h.subint;
  const rows = h.originalRows;
  const samples = rows * s.nsblk;
  return {
    // combine_mocks drops IBEAM; PALFA's names carry the beam (…b3.00000.fits).
    beam_id: h.beamId ?? beamNumberFromNames([fileName]) ?? null,
    original_file: fileName,
    telescope: h.telescope,
    backend: h.backend,
    frontend: h.frontend,
    source_name: h.source,
    project_id: h.projid,
    observers: h.observer,
    date_obs: h.dateObs,
    timestamp_mjd: h.startMjd,
    timestamp_mjd_text: h.startMjdString,
    sample_time: s.tbin,
    num_samples_per_record: s.nsblk,
    num_records: rows,
    num_samples: samples,
    observation_time: samples * s.tbin,
    center_freq: h.centreFreqMhz,
    channel_bandwidth: s.chanBw,
    num_channels_per_record: s.nchan,
    bandwidth: h.bandwidthMhz,
    num_ifs: s.npol,
    bits_per_sample: s.nbits,
    orig_right_ascension: h.ra,
    orig_declination: h.dec,
    ra_deg: raDeg,
    dec_deg: decDeg,
    galactic_longitude: gal.l,
    galactic_latitude: gal.b,
    data_size: rows * s.rowBytes,
    obs_type: `${h.fitsType} ${h.obsMode}`.trim(),
  };
}
