// Builds a beam's results directory the way the agent leaves it (search-attempt.ts:
// header-only FITS, search_params.txt, report, provenance, candidate_attributes.txt,
// then collectResults' tarballs, moves and manifest) from the real PRESTO products
// of the beam_J1903 fixture search (test/fixtures/presto, see its shared README):
//
//   real      every DM trial's ACCEL_0/ACCEL_50/.inf/.singlepulse, rfifind's products,
//             the .cand files, the .zaplist, the sifted .accelcands, the fold of
//             candidate 1 (.pfd, .pfd.bestprof, and its gs rendering .pfd.page.png,
//             which is what the agent uploads as the .pfd.png), candidate 5's
//             .bestprof (it has no .pfd in the fixtures), and the sifting summary,
//             report and plots that our own sifting computes from those ACCEL files
//   header    a header-only copy of the real combine_mocks output in
//             test/fixtures/psrfits (same telescope, source, position and start
//             MJD as beam_J1903, whose 40 MB FITS is not stored), named <base>.fits
//   synthetic the rfifind plot and the single-pulse plots (no gs here to render the
//             .ps files): syntheticBytes(), obviously not images
//   copies    (only when asked, for multi-candidate tests and the benchmark) copies
//             of candidate 1's fold files under distinct candidate names that say
//             "copy": <base>_copyNNN_DM57.00_ACCEL_0:1, listed in the .accelcands in
//             place of candidate 1 with its values
//
//   buildResultsDir(dest, options): BuiltResults
//   copyDir(src, dest), refreshManifest(dir), rewriteTarball(dir, name, edit)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type SearchParams, type SearchParamsInput, searchParamsSchema } from "../../../shared/config/search-params";
import { formatAccelcands, readAccelcandsFile, readBestprofFile } from "../../../shared/presto";
import { writeHeaderOnlyCopy } from "../../../shared/psrfits";
import { siftFiles } from "../../../agent/search/sifting";
import { writeSiftingProducts } from "../../../agent/search/sifting-products";
import { SEARCH_PARAMS_FILE, buildManifest, writeManifest, writeSearchParamsFile } from "../../../shared/results";
import { collectResults, reportFileName, writeReport } from "../../../agent/search/results";
import { createTarball, listTarball, readTarMember } from "../../../shared/files/tarball";
import { BEAMFLOW_VERSION } from "../../../shared/version";

export const FIXTURES = path.join(__dirname, "..", "..", "fixtures");
export const BEAM = path.join(FIXTURES, "presto", "beam_J1903");
export const ALL_DMS = path.join(BEAM, "all_dms");
export const PSRFITS_FIXTURE = path.join(FIXTURES, "psrfits", "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits");
export const BASE = "beam_J1903";
/** The fixture fold the tests upload. */
export const CAND1_PFD = `${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd`;
export const CAND5_PFD = `${BASE}_DM57.00_Z0_ACCEL_Cand_5.pfd`;
/** The PRESTO and psrfits_utils commits that produced the fixtures (their README). */
export const FIXTURE_PRESTO = "3ae6229143cef97b1cc3cf5ce2020cc86a0cfbdd";
export const FIXTURE_PSRFITS_UTILS = "cfc9430ada0c5fce8a3fa1346a295088ec24703e";

export function syntheticBytes(label: string): Buffer {
  return Buffer.from(`SYNTHETIC TEST BYTES for ${label}; not a real plot or PRESTO output\n`);
}

export interface ResultsDirOptions {
  /** Default: max_cands_to_fold = the number of folds built, so the selection is exactly them. */
  params?: SearchParamsInput;
  /** Replace candidate 1 by this many labelled copies of it (0: the real candidate 1). */
  copies?: number;
}

export interface BuiltResults {
  dir: string;
  base: string;
  params: SearchParams;
  /** The .pfd names folded, in fold-rank order. */
  folds: string[];
  provenance: Record<string, unknown>;
}

let siftingCache: string | null = null;

/** Our sifting of the fixture's ACCEL files (the fixture's sift_cands.py settings), computed once per process. */
function siftingProducts(): string {
  if (siftingCache !== null && fs.existsSync(siftingCache)) return siftingCache;
  const names = fs.readdirSync(ALL_DMS);
  const dmStrs = names
    .filter((f) => f.endsWith(".inf"))
    .map((f) => f.split("_DM").pop()!.slice(0, -4))
    .sort((a, b) => Number(a) - Number(b));
  const accel = (z: number) => names.filter((f) => f.endsWith(`_ACCEL_${z}`)).map((f) => path.join(ALL_DMS, f));
  const sifted = siftFiles([accel(0), accel(50)], dmStrs, {
    sigmaThreshold: 5.0,
    cPowThreshold: 100.0,
    rErr: 1.1,
    shortPeriod: 0.0005,
    longPeriod: 15.0,
    harmPowCutoff: 8.0,
    numHitsToFold: 2,
    lowDmCutoff: 1.0,
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-sift-"));
  writeSiftingProducts(dir, BASE, sifted);
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  siftingCache = dir;
  return dir;
}

function copyInto(src: string, dir: string, as?: string): void {
  fs.copyFileSync(src, path.join(dir, as ?? path.basename(src)));
  // The fixtures are read-only; our copies must be writable (tests edit them).
  fs.chmodSync(path.join(dir, as ?? path.basename(src)), 0o644);
}

export async function buildResultsDir(dest: string, options: ResultsDirOptions = {}): Promise<BuiltResults> {
  const copies = options.copies ?? 0;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "bf-work-"));
  try {
    fs.mkdirSync(dest, { recursive: true });
    for (const n of fs.readdirSync(ALL_DMS)) copyInto(path.join(ALL_DMS, n), work);
    for (const ext of ["bytemask", "inf", "mask", "out", "rfi", "stats"]) copyInto(path.join(BEAM, `${BASE}_rfifind.${ext}`), work);
    for (const n of [`${BASE}_DM57.00_ACCEL_0.cand`, `${BASE}_DM57.00_ACCEL_50.cand`, `${BASE}.zaplist`]) copyInto(path.join(BEAM, n), work);

    // The sifted list and the folds.
    const folds: string[] = [];
    const fold = (pfd: string) => {
      copyInto(path.join(BEAM, CAND1_PFD), work, pfd);
      copyInto(path.join(BEAM, `${CAND1_PFD}.bestprof`), work, `${pfd}.bestprof`);
      copyInto(path.join(BEAM, `${CAND1_PFD}.page.png`), work, `${pfd}.png`);
      folds.push(pfd);
    };
    if (copies === 0) {
      copyInto(path.join(BEAM, `${BASE}.accelcands`), work);
      fold(CAND1_PFD);
    } else {
      const entries = readAccelcandsFile(path.join(BEAM, `${BASE}.accelcands`));
      const cand1 = entries.find((e) => e.accelFile === `${BASE}_DM57.00_ACCEL_0` && e.candnum === 1)!;
      const labelled = Array.from({ length: copies }, (_, k) => ({
        ...cand1,
        accelFile: `${BASE}_copy${String(k + 1).padStart(3, "0")}_DM57.00_ACCEL_0`,
      }));
      fs.writeFileSync(path.join(work, `${BASE}.accelcands`), formatAccelcands([...labelled, ...entries.filter((e) => e !== cand1)]));
      for (const c of labelled) fold(`${c.accelFile.replace("_ACCEL_0", "_Z0")}_ACCEL_Cand_1.pfd`);
    }
    const attributes = folds.map((pfd) => `${pfd} prepfold_sigma=${readBestprofFile(path.join(work, `${pfd}.bestprof`)).probNoise.sigma}`);
    fs.writeFileSync(path.join(work, "candidate_attributes.txt"), attributes.sort().join("\n") + "\n");

    const sift = siftingProducts();
    for (const n of fs.readdirSync(sift)) copyInto(path.join(sift, n), work);
    for (const png of [`${BASE}_rfifind.png`, `${BASE}_DMs0-110_singlepulse.png`, `${BASE}_DMs100-310_singlepulse.png`]) {
      fs.writeFileSync(path.join(work, png), syntheticBytes(png));
    }

    const params = searchParamsSchema.parse({ max_cands_to_fold: Math.max(1, folds.length), ...options.params });
    writeSearchParamsFile(path.join(work, SEARCH_PARAMS_FILE), params);
    writeReport(path.join(work, reportFileName(BASE)), [{ stage: "rfifind", seconds: 3.943 }], {
      files: [`${BASE}.fits`],
      hostname: "test-host",
      endTime: new Date(0),
      maskedPercent: 0.74,
      numCandsFolded: folds.length,
    });
    const provenance = {
      beamflow: BEAMFLOW_VERSION,
      presto: FIXTURE_PRESTO,
      psrfits_utils: FIXTURE_PSRFITS_UTILS,
      wrapper: [],
      programs: {},
      zaplist: null,
    };
    fs.writeFileSync(path.join(work, "provenance.json"), JSON.stringify(provenance, null, 2) + "\n");
    writeHeaderOnlyCopy(PSRFITS_FIXTURE, path.join(dest, `${BASE}.fits`));
    await collectResults(work, dest, BASE);
    return { dir: dest, base: BASE, params, folds, provenance };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export function copyDir(src: string, dest: string): string {
  fs.cpSync(src, dest, { recursive: true });
  return dest;
}

/** Rewrite manifest.json from what is in dir now (as if the agent had produced the edited files). */
export async function refreshManifest(dir: string): Promise<void> {
  const old = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as { base: string };
  fs.rmSync(path.join(dir, "manifest.json"));
  writeManifest(dir, await buildManifest(dir, old.base));
}

/** Replace a tarball by one whose members are edit(members); refreshes nothing else. */
export async function rewriteTarball(dir: string, name: string, edit: (members: Map<string, Buffer>) => void): Promise<void> {
  const file = path.join(dir, name);
  const members = new Map<string, Buffer>();
  for (const m of await listTarball(file)) members.set(m.path, await readTarMember(file, m.path));
  edit(members);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bf-tar-"));
  try {
    for (const [n, b] of members) fs.writeFileSync(path.join(tmp, n), b);
    fs.rmSync(file);
    await createTarball(file, tmp, [...members.keys()]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
