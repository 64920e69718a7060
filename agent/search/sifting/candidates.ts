/**
 * Sifting candidates built from a parsed ACCEL file, exactly as sifting.py's
 * candlist_from_candfile() builds its Candidate objects.
 *
 * Public API:
 *   interface SiftCandidate, Hit
 *   candidatesFromAccel(accel, path): SiftCandidate[]
 *   dmStringFromName(name): string | null
 *
 * What sifting.py takes from the file, and how (all reproduced here):
 *   - r and z: float() of the text before "(" (mantissa only, even if "x10^" follows);
 *   - each harmonic's power: parse_power() of the "Power / Loc Pow" text, which
 *     applies "^n" exponents but treats a cut "x10^" as 10^5 and ignores "x10";
 *   - T = N*dt from the .inf block at the end of the file, f = r/T, p = 1/f;
 *   - DM: the "DM<digits>.<2 digits>" in the file name, kept as a string too;
 *   - the summed power is recomputed (sum of harmonic powers, left to right), and
 *     sigma is recomputed with candidate_sigma(power, numharm, 1), replacing the
 *     trials-corrected sigma accelsearch printed;
 *   - SNR = numpy.sum(sqrt(max(power - 1, 0))) over the harmonics;
 *   - the candidate starts with one DM "hit": itself (DM, SNR, sigma).
 */

import path from "node:path";
import type { AccelFile } from "../../../shared/presto/accel";
import { numpySum } from "../../../shared/presto/pycompat";
import { parseNumber } from "../../../shared/presto/values";
import { candidateSigma } from "./sigma";

/** One DM at which a candidate was detected: (DM, SNR, sigma), as sifting.py's hit tuples. */
export interface Hit {
  dm: number;
  snr: number;
  sigma: number;
}

export interface SiftCandidate {
  /** Directory part of the ACCEL path and its base name (what the candlist prints). */
  path: string;
  filename: string;
  candnum: number;
  /** candidate_sigma of the summed harmonic powers (not accelsearch's sigma). */
  sigma: number;
  numharm: number;
  /** Summed (incoherent) power, recomputed from the harmonic powers. */
  ipow: number;
  cpow: number;
  /** Fourier bin, frequency (Hz), period (s), Fourier f-dot (bins), series length (s). */
  r: number;
  f: number;
  p: number;
  z: number;
  T: number;
  dmStr: string;
  dm: number;
  harmPows: number[];
  snr: number;
  hits: Hit[];
  /** Why the candidate was rejected (sifting.py's cand.note); "" while it is good. */
  note: string;
}

const DM_RE = /DM(\d+\.\d{2})/;

/** The DM string sifting.py's DM_re finds in a file name ("...DM57.00_ACCEL_0" -> "57.00"). */
export function dmStringFromName(name: string): string | null {
  const m = DM_RE.exec(name);
  return m ? m[1]! : null;
}

/**
 * Build the candidates of one ACCEL file. `filePath` is the path the file was read
 * from; only its base name is searched for the DM (sifting.py searches the whole
 * path, which differs only if a directory name contains "DMnn.nn").
 */
export function candidatesFromAccel(accel: AccelFile, filePath: string): SiftCandidate[] {
  const dir = path.dirname(filePath);
  const filename = path.basename(filePath);
  const dmStr = dmStringFromName(filename);
  if (dmStr === null) throw new Error(`sifting: no "DM<nn>.<nn>" in the file name ${filePath}`);
  const dm = pyFloat(dmStr);
  const T = accel.T;

  return accel.candidates.map((c) => {
    const r = pyFloat(beforeParen(c.r.text));
    const z = pyFloat(beforeParen(c.z.text));
    const f = r / T;
    const harmPows = c.harmonics.map((h) => parsePower(h.power.text));
    // Python's sum(): left to right from 0.
    let ipow = 0;
    for (const pw of harmPows) ipow += pw;
    // harms_to_snr(): numpy arithmetic, then numpy's pairwise sum.
    const snr = numpySum(harmPows.map((pw) => Math.sqrt(Math.max(pw - 1.0, 0.0))));
    const sigma = candidateSigma(ipow, c.numHarmonics, 1);
    return {
      path: dir,
      filename,
      candnum: c.candnum,
      sigma,
      numharm: c.numHarmonics,
      ipow,
      cpow: c.coherentPower,
      r,
      f,
      p: 1.0 / f,
      z,
      T,
      dmStr,
      dm,
      harmPows,
      snr,
      hits: [{ dm, snr, sigma }],
      note: "",
    };
  });
}

/**
 * sifting.py's parse_power(): the value before "(", times 10**n when the text has
 * "^n"; a "^" with nothing parseable after it counts as 10**5 ("power gets chopped
 * off if this large"). A cut "x10" without "^" is ignored, as in sifting.py.
 */
function parsePower(text: string): number {
  let power = pyFloat(beforeParen(text));
  const caret = text.indexOf("^");
  if (caret >= 0) {
    const expon = parseNumber(text.split("^")[1]!) ?? 5;
    power *= pow10(expon);
  }
  return power;
}

/** text.split("(")[0] */
function beforeParen(text: string): string {
  const open = text.indexOf("(");
  return open < 0 ? text : text.slice(0, open);
}

/** Python's 10.0**n: correctly rounded for integer n (Number("1e-2") is, Math.pow need not be). */
function pow10(n: number): number {
  return Number.isInteger(n) && Math.abs(n) <= 308 ? Number(`1e${n}`) : Math.pow(10, n);
}

/**
 * Python's float(text) for the texts PRESTO prints (decimal, exponent, inf, nan);
 * throws where Python would raise ValueError.
 */
function pyFloat(text: string): number {
  const v = parseNumber(text);
  if (v === null) throw new Error(`sifting: could not convert ${JSON.stringify(text)} to a float`);
  return v;
}
