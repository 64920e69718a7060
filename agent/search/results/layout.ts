/**
 * PALFA's clean_up (PALFA2_presto_search.py): tar the many small per-DM products,
 * move what the uploader and people need into the results directory, and (our
 * addition) write a manifest of everything there with sizes and SHA-256s.
 *
 * Public API:
 *   interface CollectOptions, TarballRecord, CollectResult
 *   tarballSpecs(loZmax, hiZmax): {suffix, pattern}[]   PALFA's tarballs, in order
 *   RESULT_PATTERNS                                     what is moved, in order
 *   collectResults(workDir, resultsDir, base, options?): Promise<CollectResult>
 *   class ResultsLayoutError
 *
 * Differences from PALFA, and why:
 *   - Tarballs are written straight into resultsDir (PALFA made them in the work
 *     dir and then moved "*.tgz"), so nothing but deletions touches the work dir.
 *   - Every planned destination is checked first: if any name already exists in
 *     resultsDir we stop before tarring or moving anything (PALFA's shutil.move
 *     failed half-way through).
 *   - Members are deleted only after the tarball is complete and lists exactly
 *     those members.
 *   - No _pfd_rat.tgz (we do not run rate_pfds.py), no groups.txt (no SP grouping),
 *     no "*.ps.gz"; "*.report" and provenance.json are moved as well.
 *   - Only regular files are tarred or moved (see fnmatch.ts).
 * search_params.txt is written by the caller (writeSearchParamsFile) before this
 * runs, as PALFA's clean_up wrote it first thing.
 */

import fs from "node:fs";
import path from "node:path";
import { globFiles } from "../../../shared/results/fnmatch";
import { type Manifest, MANIFEST_NAME, buildManifest, writeManifest } from "../../../shared/results/manifest";
import { plainName } from "../../../shared/files/safe-path";
import { createTarball } from "../../../shared/files/tarball";

export interface CollectOptions {
  /** lo_accel_zmax (PALFA: 0); names the _ACCEL_<z> tarballs. */
  loZmax?: number;
  /** hi_accel_zmax (PALFA: 50). */
  hiZmax?: number;
}

export interface TarballRecord {
  /** File name in resultsDir. */
  name: string;
  /** The work-dir files it holds (now deleted there), sorted. */
  members: string[];
}

export interface CollectResult {
  tarballs: TarballRecord[];
  /** Names moved from workDir into resultsDir, in move order. */
  moved: string[];
  /** Also written to resultsDir/manifest.json. */
  manifest: Manifest;
}

export class ResultsLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResultsLayoutError";
  }
}

export function tarballSpecs(loZmax = 0, hiZmax = 50): { suffix: string; pattern: string }[] {
  for (const z of [loZmax, hiZmax]) {
    if (!Number.isSafeInteger(z) || z < 0) throw new RangeError(`zmax ${z} is not a non-negative integer`);
  }
  return [
    { suffix: `_ACCEL_${loZmax}.tgz`, pattern: `*_ACCEL_${loZmax}` },
    { suffix: `_ACCEL_${hiZmax}.tgz`, pattern: `*_ACCEL_${hiZmax}` },
    { suffix: `_ACCEL_${loZmax}.cand.tgz`, pattern: `*_ACCEL_${loZmax}.cand` },
    { suffix: `_ACCEL_${hiZmax}.cand.tgz`, pattern: `*_ACCEL_${hiZmax}.cand` },
    { suffix: "_singlepulse.tgz", pattern: "*.singlepulse" },
    // Only the per-DM .inf files: the rfifind .inf is moved as a file below.
    { suffix: "_inf.tgz", pattern: "*_DM[0-9]*.inf" },
    { suffix: "_pfd.tgz", pattern: "*.pfd" },
    { suffix: "_bestprof.tgz", pattern: "*.pfd.bestprof" },
  ];
}

/** PALFA's resultglobs (V-2) as listed for beamflow, plus our report and provenance. */
export const RESULT_PATTERNS: readonly string[] = [
  "*rfifind.[bimors]*",
  "*.tgz",
  "*.png",
  "*.zaplist",
  "search_params.txt",
  "*.accelcands*",
  "*_merge.out",
  "candidate_attributes.txt",
  "*_calrows.txt",
  "*.report",
  "provenance.json",
];

export async function collectResults(workDir: string, resultsDir: string, base: string, options: CollectOptions = {}): Promise<CollectResult> {
  plainName(base, "beam base name");
  const work = path.resolve(workDir);
  const results = path.resolve(resultsDir);
  if (work === results) throw new ResultsLayoutError(`work and results directory are the same (${work})`);
  if (!fs.statSync(work).isDirectory()) throw new ResultsLayoutError(`${work} is not a directory`);
  fs.mkdirSync(results, { recursive: true });

  // Plan everything before changing anything.
  const taken = new Set<string>();
  const tarPlan = tarballSpecs(options.loZmax, options.hiZmax).map(({ suffix, pattern }) => {
    const members = globFiles(work, pattern).filter((n) => !taken.has(n));
    members.forEach((n) => taken.add(n));
    return { name: plainName(base + suffix, "tarball name"), members };
  });
  const moves: string[] = [];
  for (const pattern of RESULT_PATTERNS) {
    for (const n of globFiles(work, pattern)) {
      if (!taken.has(n)) {
        taken.add(n);
        moves.push(n);
      }
    }
  }
  const destinations = [...tarPlan.map((t) => t.name), ...moves];
  const seen = new Set<string>();
  for (const d of destinations) {
    if (seen.has(d)) throw new ResultsLayoutError(`${d} would be written twice into ${results}`);
    seen.add(d);
    if (d === MANIFEST_NAME) throw new ResultsLayoutError(`${d} in the work dir would clobber our manifest`);
    if (fs.existsSync(path.join(results, d))) {
      throw new ResultsLayoutError(`${path.join(results, d)} already exists; refusing to overwrite results`);
    }
  }

  for (const t of tarPlan) {
    await createTarball(path.join(results, t.name), work, t.members);
    for (const m of t.members) fs.unlinkSync(path.join(work, m));
  }
  for (const n of moves) moveFile(path.join(work, n), path.join(results, n));

  const manifest = await buildManifest(results, base);
  writeManifest(results, manifest);
  return { tarballs: tarPlan, moved: moves, manifest };
}

/** rename, or copy + unlink across filesystems (node-local scratch -> shared results). */
function moveFile(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw e;
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
    fs.unlinkSync(from);
  }
}
