/**
 * Where and when a synthetic beam was observed: sexagesimal coordinates, Galactic
 * coordinates (PALFA names its pointings after them), calendar dates from MJDs,
 * the local sidereal time at Arecibo, and cold-plasma dispersion.
 *
 *   parseRa("19:03:05.8"), parseDec("+03:27:19.0")   degrees (throw on bad text)
 *   galactic(raDeg, decDeg): { l, b }                 J2000 -> Galactic, degrees
 *   palfaSourceName(l, b)                             "G037.00-00.10"
 *   splitMjd(mjd): { imjd, smjd, offs }               PSRFITS STT_IMJD / STT_SMJD / STT_OFFS
 *   calendar(imjd, seconds)                           { date: "2023-02-25", dateTime: "...T06:00:00.000", yyyymmdd }
 *   lstSeconds(mjd, eastLongitudeDeg)                 local mean sidereal time, s
 *   DM_CONSTANT, dispersionDelay(dm, fMhz)            s, relative to infinite frequency
 *   channelSmearing(dm, fMhz, chanBwMhz)              s, across one channel
 *
 * The dispersion constant is the one PRESTO uses (delay = DM / (2.41e-4 f^2) s,
 * f in MHz), so a dispersed pulse lines up best at the DM PRESTO reports.
 */

/** Arecibo: ITRF position (m) and longitude (deg, east positive), as Mock headers carry them. */
export const ARECIBO = { x: 2390490.0, y: -5564764.0, z: 1994727.0, eastLongitudeDeg: -66.752333 } as const;

const SEXAGESIMAL = /^([+-]?)(\d{1,3}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?$/;

function sexagesimal(text: string, what: string): { sign: number; a: number; b: number; c: number } {
  const m = SEXAGESIMAL.exec(text.trim());
  if (m === null) throw new Error(`${what} ${JSON.stringify(text)} is not sexagesimal (like ${what === "RA" ? "19:03:05.8" : "+03:27:19.0"})`);
  const b = Number(m[3]);
  const c = m[4] === undefined ? 0 : Number(m[4]);
  if (b >= 60 || c >= 60) throw new Error(`${what} ${JSON.stringify(text)}: minutes and seconds must be below 60`);
  return { sign: m[1] === "-" ? -1 : 1, a: Number(m[2]), b, c };
}

export function parseRa(text: string): number {
  const s = sexagesimal(text, "RA");
  if (s.sign < 0 || text.trim().startsWith("+") || s.a >= 24) throw new Error(`RA ${JSON.stringify(text)} must be 00:00:00 to 23:59:59.99`);
  return 15 * (s.a + s.b / 60 + s.c / 3600);
}

export function parseDec(text: string): number {
  const s = sexagesimal(text, "Dec");
  const deg = s.sign * (s.a + s.b / 60 + s.c / 3600);
  if (Math.abs(deg) > 90) throw new Error(`Dec ${JSON.stringify(text)} is beyond ±90 degrees`);
  return deg;
}

const RAD = Math.PI / 180;
// The Galactic frame in J2000 (the IAU definition transferred to FK5): north
// Galactic pole at RA 192.85948, Dec 27.12825 deg; the north celestial pole at l = 122.93192.
const NGP_RA = 192.85948 * RAD;
const NGP_DEC = 27.12825 * RAD;
const L_NCP = 122.93192 * RAD;

export function galactic(raDeg: number, decDeg: number): { l: number; b: number } {
  const ra = raDeg * RAD;
  const dec = decDeg * RAD;
  const sinb = Math.sin(dec) * Math.sin(NGP_DEC) + Math.cos(dec) * Math.cos(NGP_DEC) * Math.cos(ra - NGP_RA);
  const b = Math.asin(Math.max(-1, Math.min(1, sinb)));
  const y = Math.cos(dec) * Math.sin(ra - NGP_RA);
  const x = Math.sin(dec) * Math.cos(NGP_DEC) - Math.cos(dec) * Math.sin(NGP_DEC) * Math.cos(ra - NGP_RA);
  let l = (L_NCP - Math.atan2(y, x)) / RAD;
  l = ((l % 360) + 360) % 360;
  return { l, b: b / RAD };
}

/** PALFA's pointing name: G, l to 2 decimals in 6 characters, b signed to 2 decimals. */
export function palfaSourceName(l: number, b: number): string {
  let lt = l.toFixed(2);
  if (lt === "360.00") lt = "0.00";
  const bt = Math.abs(b).toFixed(2).padStart(5, "0");
  const sign = b < 0 && bt !== "00.00" ? "-" : "+";
  return `G${lt.padStart(6, "0")}${sign}${bt}`;
}

/** An MJD split as PSRFITS stores it; OFFS rounded to the nanosecond. */
export function splitMjd(mjd: number): { imjd: number; smjd: number; offs: number } {
  if (!Number.isFinite(mjd) || mjd < 0) throw new Error(`start MJD must be a positive number, got ${mjd}`);
  let imjd = Math.floor(mjd);
  let ns = Math.round((mjd - imjd) * 86400e9);
  if (ns >= 86400e9) {
    imjd += 1;
    ns -= 86400e9;
  }
  const smjd = Math.floor(ns / 1e9);
  const offs = (ns - smjd * 1e9) / 1e9;
  return { imjd, smjd, offs };
}

/** Civil date (proleptic Gregorian) of an integer MJD plus seconds into that day. */
export function calendar(imjd: number, seconds: number): { date: string; dateTime: string; yyyymmdd: string } {
  // Days since 1970-01-01 (MJD 40587) through Date's UTC arithmetic, which is exact for whole days.
  const d = new Date(Date.UTC(1970, 0, 1) + (imjd - 40587) * 86400000);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  const date = `${String(y).padStart(4, "0")}-${String(mo).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
  const ms = Math.round(seconds * 1000);
  const hh = Math.floor(ms / 3600000);
  const mm = Math.floor((ms % 3600000) / 60000);
  const ss = (ms % 60000) / 1000;
  const time = `${String(hh).padStart(2, "0")}:${String(mm).padStart(2, "0")}:${ss.toFixed(3).padStart(6, "0")}`;
  return { date, dateTime: `${date}T${time}`, yyyymmdd: date.replace(/-/g, "") };
}

/** Local mean sidereal time in seconds (0..86400) from the IAU 1982 GMST expression (UT1 = UTC). */
export function lstSeconds(mjd: number, eastLongitudeDeg: number): number {
  const d = mjd - 51544.5; // days from J2000.0
  const t = d / 36525;
  let deg = 280.46061837 + 360.98564736629 * d + 0.000387933 * t * t - (t * t * t) / 38710000 + eastLongitudeDeg;
  deg = ((deg % 360) + 360) % 360;
  return (deg / 360) * 86400;
}

/** PRESTO's dispersion constant: delay (s) = DM_CONSTANT * DM / f(MHz)^2. */
export const DM_CONSTANT = 1 / 0.000241;

export function dispersionDelay(dm: number, fMhz: number): number {
  return (DM_CONSTANT * dm) / (fMhz * fMhz);
}

/** The dispersion sweep across one channel of width chanBwMhz centred on fMhz. */
export function channelSmearing(dm: number, fMhz: number, chanBwMhz: number): number {
  return (2 * DM_CONSTANT * dm * Math.abs(chanBwMhz)) / (fMhz * fMhz * fMhz);
}
