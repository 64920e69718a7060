/**
 * The parts of a PALFA raw-data file name that choose its zaplist.
 *
 * Public API:
 *   interface BeamNameParts
 *   beamNameParts(name): BeamNameParts      throws BeamNameError if it is no PALFA name
 *   beamNumberFromNames(names)              the beam of the first PALFA name, else undefined
 *   mjdToDate(mjd): string                  integer MJD -> "YYYYMMDD" (UTC civil date)
 *   class BeamNameError
 *
 * Accepted forms (PALFA's datafile.py regexes; any directory part is ignored):
 *   merged Mock  p2030.20230225.G037.00-00.10.C.b0.00000[.fits]
 *                projid.date.source.bN.scan (combine_mocks output, renamed)
 *   raw Mock     [4bit-]p2030.20230225.G037.00-00.10.C.b0s1g0.00000.fits
 *   WAPP         p2030_53903_40345_0123_G37.00-00.10_3.w4bit.fits
 *                projid_mjd_seconds_scan_source_beam
 * Source names contain dots and dashes, so (as in PALFA) the source is everything
 * between the date and the last ".b<beam>" that is followed by the scan number.
 * WAPP names carry an MJD instead of a date; PALFA derived the date as
 * astro_utils.calendar.MJD_to_date(int(mjd)), the civil date of that MJD.
 */

import path from "node:path";

export interface BeamNameParts {
  kind: "mock" | "wapp";
  projid: string;
  /** YYYYMMDD. */
  date: string;
  source: string;
  /** ALFA beam, 0..7. */
  beam: number;
  /** Scan number as written (5 digits for Mock, 4 for WAPP). */
  scan: string;
  /** WAPP only: the MJD in the name. */
  mjd?: number;
  /** Raw Mock only: which half of the band (s0/s1). */
  subband?: number;
}

export class BeamNameError extends Error {
  readonly beamName: string;
  constructor(beamName: string) {
    super(
      `${JSON.stringify(beamName)} is not a PALFA beam name (projid.date.source.bN.scan, ` +
        "4bit-projid.date.source.bNs[01]g0.scan.fits or projid_mjd_sec_scan_source_beam.w4bit.fits)",
    );
    this.name = "BeamNameError";
    this.beamName = beamName;
  }
}

const MERGED = /^([Pp]\d{4})\.(\d{8})\.(.+)\.b([0-7])\.(\d{5})(?:\.fits)?$/;
// The `4bit-` prefix is optional, as in ingest/beams.ts: later data lack it.
const RAW_MOCK = /^(?:4bit-)?([Pp]\d{4})\.(\d{8})\.(.+)\.b([0-7])s([01])g0\.(\d{5})\.fits$/;
const WAPP = /^([Pp]\d{4})_(\d{5})_(\d{5})_(\d{4})_(.+)_(\d)\.w4bit\.fits$/;

export function beamNameParts(name: string): BeamNameParts {
  const base = path.posix.basename(name.replace(/\\/g, "/"));
  let m = MERGED.exec(base);
  if (m) return { kind: "mock", projid: m[1]!, date: m[2]!, source: m[3]!, beam: Number(m[4]), scan: m[5]! };
  m = RAW_MOCK.exec(base);
  if (m) {
    return { kind: "mock", projid: m[1]!, date: m[2]!, source: m[3]!, beam: Number(m[4]), subband: Number(m[5]), scan: m[6]! };
  }
  m = WAPP.exec(base);
  if (m) {
    const mjd = Number(m[2]);
    return { kind: "wapp", projid: m[1]!, date: mjdToDate(mjd), source: m[5]!, beam: Number(m[6]), scan: m[4]!, mjd };
  }
  throw new BeamNameError(name);
}

/**
 * The ALFA beam number carried by the first PALFA name among these, if any: what a
 * merged Mock beam has instead of IBEAM, which combine_mocks drops.
 */
export function beamNumberFromNames(names: readonly string[]): number | undefined {
  for (const n of names) {
    try {
      return beamNameParts(n).beam;
    } catch (err) {
      if (!(err instanceof BeamNameError)) throw err;
    }
  }
  return undefined;
}

/** MJD 40587 is 1970-01-01; the fractional part of the day is dropped, as PALFA's int(mjd). */
export function mjdToDate(mjd: number): string {
  if (!Number.isFinite(mjd)) throw new RangeError(`MJD ${mjd} is not a number`);
  const d = new Date((Math.floor(mjd) - 40587) * 86_400_000);
  const y = d.getUTCFullYear();
  if (y < 1000 || y > 9999) throw new RangeError(`MJD ${mjd} is outside the years 1000-9999`);
  return `${y}${String(d.getUTCMonth() + 1).padStart(2, "0")}${String(d.getUTCDate()).padStart(2, "0")}`;
}
