/**
 * prepfold's ".pfd.bestprof" (the summed profile and the best-fit parameters).
 *
 * Public API:
 *   interface BestprofFile, BestprofEpoch, BestprofProbNoise, BestprofOrbit
 *   parseBestprof(text, file): BestprofFile
 *   readBestprofFile(path): BestprofFile
 *
 * Written by write_bestprof() (src/prepfold_utils.c) as "# Key = value" lines in a
 * fixed order, a line of "#", then "%4d  %.7g" profile bins. We read the header in
 * that order and check each key, because the keys themselves carry variants that
 * matter: "Epoch_bary (MJD)" vs "Epoch_bary" (= N/A), "w (rad)" when there is no
 * orbit vs "w (deg)" when there is one; "Best DM" is present only when the fold had
 * subbands; P values read "89.2952416378874  +/- 0.00146" (or "N/A" without an
 * epoch); "Prob(Noise)" uses "<" and holds the equivalent sigma: "<  0   (~56.7 sigma)".
 */

import fs from "node:fs";
import { ParseError } from "./errors";
import { splitLines } from "./text";
import { type Measurement, parseMeasurement, parseNumber } from "./values";

export interface BestprofEpoch {
  /** As printed ("%.12f"); more digits than a double keeps near MJD 60000. */
  text: string;
  value: number;
}

export interface BestprofProbNoise {
  /** "<" as prepfold writes it (an upper bound), or "=". */
  relation: "<" | "=";
  /** The probability printed; prepfold prints 0 when it underflows (ln p < -700). */
  probability: number;
  /** The "(~56.7 sigma)" equivalent Gaussian significance. */
  sigma: number;
}

export interface BestprofOrbit {
  periodS: number;
  asiniLtS: number;
  eccentricity: number;
  /** Longitude of periastron as printed; prepfold labels it "w (deg)". */
  omegaDeg: number;
  tPeri: BestprofEpoch;
}

export interface BestprofFile {
  file: string;
  inputFile: string;
  candidate: string;
  telescope: string;
  epochTopo: BestprofEpoch | null;
  epochBary: BestprofEpoch | null;
  /** Sample time of the folded data, seconds. */
  sampleTime: number;
  dataFolded: number;
  dataAvg: number;
  dataStdDev: number;
  profileBins: number;
  profileAvg: number;
  profileStdDev: number;
  reducedChiSqr: number;
  probNoise: BestprofProbNoise;
  /** Null when the fold had no DM dimension (a single subband). */
  bestDm: number | null;
  /** Periods in ms, derivatives in s/s and s/s^2; null where prepfold printed N/A. */
  pTopoMs: Measurement | null;
  pdotTopo: Measurement | null;
  pddotTopo: Measurement | null;
  pBaryMs: Measurement | null;
  pdotBary: Measurement | null;
  pddotBary: Measurement | null;
  orbit: BestprofOrbit | null;
  profile: number[];
}

export function readBestprofFile(path: string): BestprofFile {
  return parseBestprof(fs.readFileSync(path, "utf8"), path);
}

const HEADER_LINE = /^#\s(.*?)\s*([=<])\s(.*)$/;

export function parseBestprof(text: string, file: string): BestprofFile {
  const lines = splitLines(text, file, true);
  let i = 0;
  const fail = (expected: string): never => {
    throw new ParseError(file, i + 1, expected, lines[i]);
  };

  /** Next header line if its key is one of `keys` (else null, nothing consumed). */
  const peek = (keys: readonly string[]): { relation: string; value: string } | null => {
    const m = HEADER_LINE.exec(lines[i] ?? "");
    if (!m || !keys.includes(m[1]!.replace(/\s+/g, " "))) return null;
    return { relation: m[2]!, value: m[3]!.trim() };
  };
  const take = (keys: readonly string[]): string => {
    const h = peek(keys);
    if (h === null || h.relation !== "=") fail(`the "# ${keys[0]} = ..." line`);
    i++;
    return h!.value;
  };
  const back = (expected: string): never => {
    i--;
    return fail(expected);
  };
  const num = (key: string): number => {
    const v = parseNumber(take([key]));
    return v === null ? back(`a number for "${key}"`) : v;
  };
  const epoch = (keys: readonly string[]): BestprofEpoch | null => {
    const t = take(keys);
    if (t === "N/A") return null;
    const v = parseNumber(t);
    return v === null ? back(`an MJD or N/A for "${keys[0]}"`) : { text: t, value: v };
  };
  const measured = (key: string): Measurement | null => {
    const t = take([key]);
    if (t === "N/A") return null;
    const v = parseMeasurement(t);
    return v === null ? back(`"value +/- error" or N/A for "${key}"`) : v;
  };
  const optionalNumber = (keys: readonly string[]): number | null => {
    const t = take(keys);
    if (t === "N/A") return null;
    const v = parseNumber(t);
    return v === null ? back(`a number or N/A for "${keys[0]}"`) : v;
  };

  const inputFile = take(["Input file"]);
  const candidate = take(["Candidate"]);
  const telescope = take(["Telescope"]);
  const epochTopo = epoch(["Epoch_topo"]);
  const epochBary = epoch(["Epoch_bary (MJD)", "Epoch_bary"]);
  const sampleTime = num("T_sample");
  const dataFolded = num("Data Folded");
  const dataAvg = num("Data Avg");
  const dataStdDev = num("Data StdDev");
  const profileBins = num("Profile Bins");
  if (!Number.isInteger(profileBins) || profileBins < 1) back("a positive integer for Profile Bins");
  const profileAvg = num("Profile Avg");
  const profileStdDev = num("Profile StdDev");
  const reducedChiSqr = num("Reduced chi-sqr");

  const pn = peek(["Prob(Noise)"]);
  const pm = pn ? /^(\S+)\s+\(~(\S+) sigma\)$/.exec(pn.value) : null;
  const probability = pm ? parseNumber(pm[1]!) : null;
  const pnSigma = pm ? parseNumber(pm[2]!) : null;
  if (pn === null || probability === null || pnSigma === null) {
    return fail('the "# Prob(Noise)      <  p   (~s sigma)" line');
  }
  i++;
  const probNoise: BestprofProbNoise = { relation: pn.relation as "<" | "=", probability, sigma: pnSigma };

  const bestDm = peek(["Best DM"]) ? num("Best DM") : null;
  const pTopoMs = measured("P_topo (ms)");
  const pdotTopo = measured("P'_topo (s/s)");
  const pddotTopo = measured("P''_topo (s/s^2)");
  const pBaryMs = measured("P_bary (ms)");
  const pdotBary = measured("P'_bary (s/s)");
  const pddotBary = measured("P''_bary (s/s^2)");

  const periodS = optionalNumber(["P_orb (s)"]);
  const asini = optionalNumber(["asin(i)/c (s)"]);
  const ecc = optionalNumber(["eccentricity"]);
  const omega = optionalNumber(["w (deg)", "w (rad)"]);
  const tPeri = epoch(["T_peri"]);
  let orbit: BestprofOrbit | null = null;
  if (periodS !== null) {
    if (asini === null || ecc === null || omega === null || tPeri === null) {
      i -= 4;
      return fail("all orbital parameters when P_orb is given");
    }
    orbit = { periodS, asiniLtS: asini, eccentricity: ecc, omegaDeg: omega, tPeri };
  }

  if (!/^#+$/.test(lines[i] ?? "")) fail('the "######" line that ends the header');
  i++;

  const profile: number[] = [];
  for (let bin = 0; bin < profileBins; bin++, i++) {
    const m = /^\s*(\d+)\s+(\S+)$/.exec(lines[i] ?? "");
    const value = m ? parseNumber(m[2]!) : null;
    if (!m || Number(m[1]) !== bin || value === null) {
      fail(`profile bin ${bin} of ${profileBins} ("%4d  value")`);
    }
    profile.push(value!);
  }
  if (i < lines.length) fail(`end of file after ${profileBins} profile bins`);

  return {
    file,
    inputFile,
    candidate,
    telescope,
    epochTopo,
    epochBary,
    sampleTime,
    dataFolded,
    dataAvg,
    dataStdDev,
    profileBins,
    profileAvg,
    profileStdDev,
    reducedChiSqr,
    probNoise,
    bestDm,
    pTopoMs,
    pdotTopo,
    pddotTopo,
    pBaryMs,
    pdotBary,
    pddotBary,
    orbit,
    profile,
  };
}
