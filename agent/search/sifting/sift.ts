/**
 * The whole sifting step (PALFA search step 8), as PRESTO's sifting.py runs it.
 *
 * Public API:
 *   interface SiftOptions, AccelInput, SiftGroupReport, SiftReport, SiftResult
 *   PALFA_SIFT_OPTIONS
 *   sift(groups, dmStrs, options?): SiftResult           (pure: parsed files in, any iterables)
 *   siftFiles(groups, dmStrs, options?): SiftResult      (reads the ACCEL files)
 *   toAccelcandsEntries(cands): AccelcandsEntry[]
 *   formatCandlist(cands): string                        (the .accelcands text)
 *
 * `groups` holds one list of ACCEL files per acceleration search (PALFA: the
 * zmax=0 files, then the zmax=50 files). Each group is read (candidates built and
 * default-rejected file by file), de-duplicated and DM-filtered on its own; the
 * survivors of all groups are concatenated in group order, harmonics are removed,
 * and the list is sorted by sigma, highest first (stable, so equal sigmas keep
 * group order). That is the sequence of PALFA's sifting and of the fixture's
 * sift_cands.py.
 *
 * The report keeps, per group, the counts sifting.py prints ("Read N of M files
 * (K cands)", "Found K candidates.", "Removed K candidates with DM problems.") and,
 * overall, Candlist.print_cand_summary's counts, plus every rejected candidate with
 * its reason and sifting.py's note, for the diagnostics ("Sifting summary/report").
 */

import { type AccelcandsEntry, formatAccelcands } from "../../../shared/presto/accelcands";
import { type AccelFile, readAccelFile } from "../../../shared/presto/accel";
import { type SiftCandidate, candidatesFromAccel } from "./candidates";
import { type DmProblemCounts, removeDmProblems } from "./dm-problems";
import { removeDuplicates } from "./duplicates";
import { removeHarmonics } from "./harmonics";
import { type Rejection, type RejectionReason, defaultRejection } from "./rejection";

export interface SiftOptions {
  /** Reject multi-harmonic candidates with sigma below this (PALFA: to_prepfold_sigma - 1 = 5.0). */
  sigmaThreshold: number;
  /** Single-harmonic candidates need sigma or coherent power above threshold (PALFA: 100). */
  cPowThreshold: number;
  /** Fourier bins within which two candidates are the same signal (PALFA: 1.1). */
  rErr: number;
  /** Shortest period kept, s (PALFA: 0.0005). */
  shortPeriod: number;
  /** Longest period kept, s (PALFA: 15.0). */
  longPeriod: number;
  /** At least one harmonic must have this much power (PALFA: 8.0). */
  harmPowCutoff: number;
  /** Minimum number of DM hits (PALFA numhits_to_fold: 2). */
  numHitsToFold: number;
  /** The strongest hit must be at a DM above this (PALFA low_DM_cutoff: 2.0). */
  lowDmCutoff: number;
  /** Known birdies (Hz, one-sided width Hz); sifting.py's default rejection uses none. */
  knownBirdsF: ReadonlyArray<readonly [number, number]>;
  /** Known birdies (ms, one-sided width ms); sifting.py's default rejection uses none. */
  knownBirdsP: ReadonlyArray<readonly [number, number]>;
}

/** PALFA's sifting settings (config/searching_example.py, palfa-reference.md §5.5). */
export const PALFA_SIFT_OPTIONS: Readonly<SiftOptions> = Object.freeze({
  sigmaThreshold: 5.0,
  cPowThreshold: 100.0,
  rErr: 1.1,
  shortPeriod: 0.0005,
  longPeriod: 15.0,
  harmPowCutoff: 8.0,
  numHitsToFold: 2,
  lowDmCutoff: 2.0,
  knownBirdsF: [],
  knownBirdsP: [],
});

export interface AccelInput {
  /** The path the file was read from; its base name gives the DM and the candlist name. */
  path: string;
  accel: AccelFile;
}

export interface SiftGroupReport {
  files: number;
  /** Candidates in the files, before any rejection. */
  candidatesRead: number;
  /** After the per-file default rejections (sifting.py's "(K cands)"). */
  afterDefaultRejection: number;
  /** After merging duplicates ("Found K candidates."). */
  afterDuplicates: number;
  /** "Removed K candidates with DM problems.", split by cause. */
  dmProblems: DmProblemCounts;
  afterDmProblems: number;
}

export interface SiftReport {
  groups: SiftGroupReport[];
  /** "Removed a total of K harmonics." */
  harmonicsRemoved: number;
  /** Candidates in the final list. */
  good: number;
  /** Rejections by reason, as Candlist.print_cand_summary counts them. */
  counts: Record<RejectionReason, number>;
  /** Every rejected candidate, in the order sifting.py's bad lists would hold them. */
  rejected: Rejection[];
}

export interface SiftResult {
  /** The sifted candidates, highest sigma first. */
  candidates: SiftCandidate[];
  report: SiftReport;
}

export function sift(groups: ReadonlyArray<Iterable<AccelInput>>, dmStrs: readonly string[], options: Partial<SiftOptions> = {}): SiftResult {
  const o: SiftOptions = { ...PALFA_SIFT_OPTIONS, ...options };
  const rejected: Rejection[] = [];
  const groupReports: SiftGroupReport[] = [];
  let all: SiftCandidate[] = [];

  for (const files of groups) {
    let numFiles = 0;
    let read = 0;
    let cands: SiftCandidate[] = [];
    for (const { path, accel } of files) {
      numFiles++;
      const fileCands = candidatesFromAccel(accel, path);
      read += fileCands.length;
      cands.push(...defaultRejection(fileCands, o, rejected));
    }
    const afterDefaultRejection = cands.length;
    if (cands.length > 0) cands = removeDuplicates(cands, o.rErr, rejected);
    const afterDuplicates = cands.length;
    let dmProblems: DmProblemCounts = { removed: 0, tooFewHits: 0, peakBelowCutoff: 0, gaps: 0 };
    if (cands.length > 0) {
      const r = removeDmProblems(cands, o.numHitsToFold, dmStrs, o.lowDmCutoff, rejected);
      cands = r.kept;
      dmProblems = r.counts;
    }
    groupReports.push({
      files: numFiles,
      candidatesRead: read,
      afterDefaultRejection,
      afterDuplicates,
      dmProblems,
      afterDmProblems: cands.length,
    });
    all = all.concat(cands);
  }

  let harmonicsRemoved = 0;
  if (all.length > 0) {
    const before = rejected.length;
    all = removeHarmonics(all, o.rErr, rejected);
    harmonicsRemoved = rejected.length - before;
    all.sort((a, b) => b.sigma - a.sigma);
  }

  const counts: Record<RejectionReason, number> = {
    knownbirds: 0,
    longperiod: 0,
    shortperiod: 0,
    threshold: 0,
    harmpowcutoff: 0,
    rogueharmpow: 0,
    duplicate: 0,
    dmproblem: 0,
    harmonic: 0,
  };
  for (const r of rejected) counts[r.reason]++;

  return {
    candidates: all,
    report: { groups: groupReports, harmonicsRemoved, good: all.length, counts, rejected },
  };
}

/**
 * Read and sift ACCEL files given by path (one array of paths per acceleration
 * search). Files are read one at a time as sifting consumes them, so only the
 * candidates, not 300 parsed files, are held in memory.
 */
export function siftFiles(groups: ReadonlyArray<ReadonlyArray<string>>, dmStrs: readonly string[], options: Partial<SiftOptions> = {}): SiftResult {
  return sift(groups.map(readEach), dmStrs, options);
}

function* readEach(paths: ReadonlyArray<string>): Generator<AccelInput> {
  for (const path of paths) yield { path, accel: readAccelFile(path) };
}

/** The candlist entries sifting.py would write for these candidates. */
export function toAccelcandsEntries(cands: readonly SiftCandidate[]): AccelcandsEntry[] {
  return cands.map((c) => ({
    accelFile: c.filename,
    candnum: c.candnum,
    dm: c.dm,
    snr: c.snr,
    sigma: c.sigma,
    numharm: c.numharm,
    ipow: c.ipow,
    cpow: c.cpow,
    periodMs: c.p * 1000,
    r: c.r,
    z: c.z,
    hits: c.hits.map((h) => ({ dm: h.dm, snr: h.snr, sigma: h.sigma })),
  }));
}

/** The .accelcands text (an empty list gives an empty file, as PALFA writes). */
export function formatCandlist(cands: readonly SiftCandidate[]): string {
  return cands.length === 0 ? "" : formatAccelcands(toAccelcandsEntries(cands));
}
