/**
 * The folded periodicity candidates of a beam: the sifted list (.accelcands), the
 * folds (.pfd and .pfd.bestprof in their tarballs, the .pfd.png plots) and
 * candidate_attributes.txt, checked against each other.
 *
 * Public API:
 *   interface CandidateRow, CandidateFile, ParsedCandidate
 *   PLOT_TYPES                       the pdm_plot_types each candidate has a row for
 *   parseCandidates(vdir, params): ParsedCandidate[]        in fold-rank order
 *   parseCandidateAttributes(text, file): Map<pfd name, prepfold_sigma>
 *   frequencyFromPeriod(pMs, pdot): { f, fdot }
 *
 * Which candidates were folded is decided in one place, the agent's
 * selectCandidatesToFold (sigma >= to_prepfold_sigma, at most max_cands_to_fold,
 * highest sigma first), and recomputed here from the same list and the same
 * parameters. PALFA's uploader re-selected with a different rule (sigma >
 * threshold), so it could upload a set that was not the set folded
 * (palfa-reference.md §8 item 12). Here the selected set must equal, name for name,
 * the .pfd files, the .bestprof files, the .pfd.png plots and the lines of
 * candidate_attributes.txt; any candidate missing from or extra in any of them is a
 * "mismatch" error that names it. Each .bestprof must say it folded the same
 * accelsearch candidate number, and candidate_attributes.txt's prepfold_sigma must
 * be the .bestprof's.
 *
 * Values, as PALFA's candidates.py computed them: topocentric and barycentric
 * period and period derivative come from the fold (.bestprof; PALFA read them
 * from the .pfd, whose doubles the .bestprof prints to 15 digits), turned into
 * frequency f = 1/P and fdot = -Pdot/P^2 (psr_utils.p_to_f); dm is the fold's best
 * DM; snr, powers, harmonics, DM hits, sigma and the sifting period/DM come from the
 * sifted list. cand_num is the fold rank (1-based); accel_file/accel_cand_num are
 * the candidate's stable name. rescaled_prepfold_sigma stays NULL: nothing in
 * beamflow computes it.
 */

import path from "node:path";
import type { SearchParams } from "../../shared/config/search-params";
import { type AccelcandsEntry, type BestprofFile, ParseError, parseAccelcands, parseBestprof } from "../../shared/presto";
import { selectCandidatesToFold } from "../../shared/search/fold-selection";
import { plotNameFor } from "../../shared/diagnostics/fold";
import { fnmatchRegExp } from "../../shared/results/fnmatch";
import { UploadError } from "./errors";
import { type VerifiedDir, sha256 } from "./verified-files";

export const CANDIDATE_ATTRIBUTES_FILE = "candidate_attributes.txt";

export const PLOT_TYPES = {
  png: "prepfold plot",
  pfd: "pfd binary",
  bestprof: "pfd bestprof",
} as const;
export type PlotType = (typeof PLOT_TYPES)[keyof typeof PLOT_TYPES];

export interface CandidateRow {
  cand_num: number;
  accel_file: string;
  accel_cand_num: number;
  frequency: number | null;
  bary_frequency: number | null;
  period: number | null;
  bary_period: number | null;
  f_dot: number | null;
  bary_f_dot: number | null;
  dm: number | null;
  snr: number;
  coherent_power: number;
  incoherent_power: number;
  num_hits: number;
  num_harmonics: number;
  presto_sigma: number;
  prepfold_sigma: number;
  rescaled_prepfold_sigma: null;
  reduced_chi_sqr: number;
  sifting_period: number;
  sifting_dm: number;
  accel_r: number;
  accel_z: number;
}

export interface CandidateFile {
  type: PlotType;
  filename: string;
  file_size: number;
  sha256: string;
  filedata: Buffer;
}

export interface ParsedCandidate {
  row: CandidateRow;
  files: CandidateFile[];
}

const ATTRIBUTE_LINE = /^(\S+\.pfd) prepfold_sigma=(\S+)$/;

export function parseCandidateAttributes(text: string, file: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const [i, line] of lines.entries()) {
    const m = ATTRIBUTE_LINE.exec(line);
    const v = m ? attributeNumber(m[2]!) : null;
    if (m === null || v === null) {
      throw new UploadError("parse", `${file}:${i + 1}: expected "<name>.pfd prepfold_sigma=<number>", found ${JSON.stringify(line)}`, { file });
    }
    if (out.has(m[1]!)) throw new UploadError("mismatch", `${file}:${i + 1}: ${m[1]} is listed twice`, { file });
    out.set(m[1]!, v);
  }
  return out;
}

/** String(x) of the agent's number: a decimal, or Infinity when prepfold's sigma overflowed. */
function attributeNumber(text: string): number | null {
  if (text === "Infinity") return Infinity;
  if (/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text)) return Number(text);
  return null;
}

/** psr_utils.p_to_f for a period in ms and its derivative (s/s). */
export function frequencyFromPeriod(pMs: number, pdot: number | null): { f: number; fdot: number | null } {
  const p = pMs / 1000;
  return { f: 1 / p, fdot: pdot === null ? null : -pdot / (p * p) };
}

function single(vdir: VerifiedDir, pattern: string): string {
  const re = fnmatchRegExp(pattern);
  const found = vdir.names().filter((n) => !n.includes("/") && re.test(n));
  if (found.length !== 1) {
    throw new UploadError(
      found.length === 0 ? "parse" : "mismatch",
      `expected one ${pattern} in the results, found ${found.length}${found.length ? ` (${found.join(", ")})` : ""}`,
      { file: pattern },
    );
  }
  return found[0]!;
}

function fileRecord(type: PlotType, filename: string, bytes: Buffer): CandidateFile {
  return { type, filename, file_size: bytes.length, sha256: sha256(bytes), filedata: bytes };
}

export async function parseCandidates(vdir: VerifiedDir, params: SearchParams): Promise<ParsedCandidate[]> {
  const base = vdir.base;
  const listName = single(vdir, "*.accelcands");
  let entries: AccelcandsEntry[];
  try {
    entries = parseAccelcands(vdir.read(listName).toString("utf8"), listName);
  } catch (e) {
    if (e instanceof ParseError) throw new UploadError("parse", e.message, { file: listName, cause: e });
    throw e;
  }

  const selected = selectCandidatesToFold(entries, params).toFold.map(({ candidate, rank }) => {
    let png: string;
    try {
      png = plotNameFor(candidate, listName);
    } catch (e) {
      throw new UploadError("parse", (e as Error).message, { file: listName, cause: e });
    }
    return { candidate, rank, pfd: png.slice(0, -".png".length) };
  });
  const wanted = new Set(selected.map((s) => s.pfd));
  if (wanted.size !== selected.length) {
    throw new UploadError("mismatch", `${listName}: two selected candidates map to the same fold name`, { file: listName });
  }

  const pfdTar = `${base}_pfd.tgz`;
  const bestprofTar = `${base}_bestprof.tgz`;
  const pfds = await vdir.tarMembers(pfdTar);
  const bestprofs = await vdir.tarMembers(bestprofTar);
  const pngRe = fnmatchRegExp("*.pfd.png");
  const pngs = vdir.names().filter((n) => !n.includes("/") && pngRe.test(n));
  if (!vdir.has(CANDIDATE_ATTRIBUTES_FILE)) {
    throw new UploadError("parse", `${CANDIDATE_ATTRIBUTES_FILE} is missing from the results`, { file: CANDIDATE_ATTRIBUTES_FILE });
  }
  const attributes = parseCandidateAttributes(vdir.read(CANDIDATE_ATTRIBUTES_FILE).toString("utf8"), CANDIDATE_ATTRIBUTES_FILE);

  // Every source of "what was folded" must name exactly the selected candidates.
  const sources: [string, string[]][] = [
    [pfdTar, [...pfds.keys()]],
    [bestprofTar, [...bestprofs.keys()].map((n) => (n.endsWith(".bestprof") ? n.slice(0, -".bestprof".length) : n))],
    ["*.pfd.png", pngs.map((n) => n.slice(0, -".png".length))],
    [CANDIDATE_ATTRIBUTES_FILE, [...attributes.keys()]],
  ];
  const problems: string[] = [];
  for (const [where, names] of sources) {
    const have = new Set(names);
    const missing = [...wanted].filter((n) => !have.has(n));
    const extra = names.filter((n) => !wanted.has(n));
    if (missing.length) problems.push(`${where} lacks ${missing.join(", ")}`);
    if (extra.length) problems.push(`${where} has ${extra.join(", ")}, which ${listName} does not select`);
  }
  if (problems.length > 0) {
    throw new UploadError(
      "mismatch",
      `the candidate list and the folds disagree (${selected.length} selected with to_prepfold_sigma=${params.to_prepfold_sigma}, ` +
        `max_cands_to_fold=${params.max_cands_to_fold}): ${problems.join("; ")}`,
      { file: listName },
    );
  }

  return selected.map(({ candidate: c, rank, pfd }) => {
    const label = `${bestprofTar}:${pfd}.bestprof`;
    const bestprofBytes = bestprofs.get(`${pfd}.bestprof`)!;
    let prof: BestprofFile;
    try {
      prof = parseBestprof(bestprofBytes.toString("utf8"), label);
    } catch (e) {
      if (e instanceof ParseError) throw new UploadError("parse", e.message, { file: label, cause: e });
      throw e;
    }
    if (prof.candidate !== `ACCEL_Cand_${c.candnum}`) {
      throw new UploadError("mismatch", `${label} folded ${prof.candidate}, but ${listName} lists ${c.accelFile}:${c.candnum}`, { file: label });
    }
    const sigma = attributes.get(pfd)!;
    if (sigma !== prof.probNoise.sigma) {
      throw new UploadError("mismatch", `${CANDIDATE_ATTRIBUTES_FILE}: ${pfd} prepfold_sigma=${sigma}, but ${label} says ${prof.probNoise.sigma}`, {
        file: CANDIDATE_ATTRIBUTES_FILE,
      });
    }
    const topo = prof.pTopoMs === null ? null : frequencyFromPeriod(prof.pTopoMs.value, prof.pdotTopo?.value ?? null);
    const bary = prof.pBaryMs === null ? null : frequencyFromPeriod(prof.pBaryMs.value, prof.pdotBary?.value ?? null);
    const row: CandidateRow = {
      cand_num: rank,
      accel_file: c.accelFile,
      accel_cand_num: c.candnum,
      frequency: topo?.f ?? null,
      bary_frequency: bary?.f ?? null,
      period: prof.pTopoMs === null ? null : prof.pTopoMs.value / 1000,
      bary_period: prof.pBaryMs === null ? null : prof.pBaryMs.value / 1000,
      f_dot: topo?.fdot ?? null,
      bary_f_dot: bary?.fdot ?? null,
      dm: prof.bestDm,
      snr: c.snr,
      coherent_power: c.cpow,
      incoherent_power: c.ipow,
      num_hits: c.hits.length,
      num_harmonics: c.numharm,
      presto_sigma: c.sigma,
      prepfold_sigma: sigma,
      rescaled_prepfold_sigma: null,
      reduced_chi_sqr: prof.reducedChiSqr,
      sifting_period: c.periodMs / 1000,
      sifting_dm: c.dm,
      accel_r: c.r,
      accel_z: c.z,
    };
    const pngName = `${pfd}.png`;
    return {
      row,
      files: [
        fileRecord(PLOT_TYPES.png, pngName, vdir.read(pngName)),
        fileRecord(PLOT_TYPES.pfd, pfd, pfds.get(pfd)!),
        fileRecord(PLOT_TYPES.bestprof, path.basename(`${pfd}.bestprof`), bestprofBytes),
      ],
    };
  });
}
