/**
 * Everything an upload stores, parsed from a beam's results directory before the
 * DB is touched (PALFA's upload_results step 3), so that a bad file fails the
 * upload without a transaction ever being opened.
 *
 * Public API:
 *   interface ParsedResults, VersionRow, DiagnosticRecord, SpFileRecord, ParseOptions
 *   SP_FILE_TYPES, SP_PLOT_LABELS
 *   parseResultsDir(dir, options?): Promise<ParsedResults>     throws UploadError
 *
 * Order, and the error class each step gives:
 *   1. manifest.json: every file present with its size and SHA-256    -> "checksum"
 *   2. search_params.txt read back into SearchParams (and, when the caller
 *      passes the parameters it assigned, the same hash)              -> "parse" / "mismatch"
 *   3. provenance.json -> the `versions` row: PRESTO, psrfits_utils and beamflow
 *      versions and the parameter hash make the version_number            -> "parse"
 *   4. <base>.fits (header-only copy) -> the `headers` row                 -> "parse"
 *   5. candidates: the sifted list against the folds (candidates.ts)      -> "parse" / "mismatch"
 *   6. the 18 diagnostics (allDiagnostics, as the agent computed them)    -> "parse" / "mismatch"
 *   7. single-pulse tarballs and plots                                    -> "parse"
 * Then every row is checked for values the two SQL backends cannot both store
 * and return unchanged: NaN (SQLite turns it into NULL) and -0 (SQLite's REAL
 * storage returns 0) are refused or normalised here, and text must not contain NUL
 * (PostgreSQL TEXT cannot hold it). That is what makes the exact read-back
 * comparison in upload.ts meaningful on both backends.
 */

import path from "node:path";
import { type SearchParams } from "../../shared/config/search-params";
import { PsrfitsError, readPsrfitsHeader } from "../../shared/psrfits";
import { allDiagnostics, type DiagnosticKind, type SkippedDiagnostic } from "../../shared/diagnostics";
import { SEARCH_PARAMS_FILE, paramsHash } from "../../shared/results/search-params-file";
import { fnmatchRegExp } from "../../shared/results/fnmatch";
import { type ParsedCandidate, parseCandidates } from "./candidates";
import { UploadError } from "./errors";
import { type HeaderRow, headerRow } from "./header";
import { parseSearchParamsText } from "./search-params-text";
import { VerifiedDir, sha256 } from "./verified-files";

export const PROVENANCE_FILE = "provenance.json";

export interface VersionRow {
  institution: string;
  pipeline: string;
  /** PALFA's "PRESTO:<v>;PIPELINE:<v>;PSRFITS_UTILS:<v>", with beamflow and the parameter hash. */
  version_number: string;
  presto_version: string;
  psrfits_utils_version: string;
  beamflow_version: string;
  search_params_hash: string;
}

export interface DiagnosticRecord {
  name: string;
  description: string;
  kind: DiagnosticKind;
  diagnostic_value: number | null;
  filename: string | null;
  diagnostic_plot: Buffer | null;
}

export interface SpFileRecord {
  /** sp_files_types.sp_files_type or sp_single_beam_plot_types.sp_single_beam_plot_type. */
  type: string;
  filename: string;
  file_size: number;
  sha256: string;
  filedata: Buffer;
}

export interface ParsedResults {
  dir: string;
  base: string;
  /** observations.obs_name: the beam's results base name. */
  obsName: string;
  params: SearchParams;
  header: HeaderRow;
  version: VersionRow;
  manifestSha256: string;
  manifestJson: string;
  provenanceJson: string;
  candidates: ParsedCandidate[];
  diagnostics: DiagnosticRecord[];
  /** Diagnostics PALFA skipped without failing (only "Min sigma folded" when nothing was folded). */
  skippedDiagnostics: SkippedDiagnostic[];
  spFiles: SpFileRecord[];
  spPlots: SpFileRecord[];
}

export interface ParseOptions {
  /** versions.institution (PALFA: the site that ran the pipeline). Default "beamflow". */
  institution?: string;
  /** versions.pipeline. Default "PRESTO", as PALFA's. */
  pipeline?: string;
  /** The parameters the coordinator assigned: the file must hash the same. */
  expectedParams?: SearchParams;
}

export const SP_FILE_TYPES = { singlepulse: "singlepulse tarball", inf: "inf tarball" } as const;
/** PALFA's single-pulse plot DM ranges, as the agent names the files (<base>_DMs<label>_singlepulse.png). */
export const SP_PLOT_LABELS = ["0-110", "100-310", "300-1000+", "1000-5000+"] as const;

export async function parseResultsDir(dir: string, options: ParseOptions = {}): Promise<ParsedResults> {
  const vdir = await VerifiedDir.open(dir);
  const base = vdir.base;

  const params = parseSearchParamsText(vdir.read(SEARCH_PARAMS_FILE).toString("utf8"), SEARCH_PARAMS_FILE);
  const hash = paramsHash(params);
  if (options.expectedParams !== undefined && paramsHash(options.expectedParams) !== hash) {
    throw new UploadError("mismatch", `${SEARCH_PARAMS_FILE} is not the parameters assigned to ${base}`, { file: SEARCH_PARAMS_FILE });
  }
  const provenanceJson = vdir.read(PROVENANCE_FILE).toString("utf8");
  const version = versionRow(provenanceJson, hash, options);

  const fitsName = `${base}.fits`;
  vdir.read(fitsName); // present and as the manifest says, before the reader opens it
  let header: HeaderRow;
  try {
    header = headerRow(readPsrfitsHeader(vdir.path(fitsName)), fitsName);
  } catch (e) {
    if (e instanceof PsrfitsError) throw new UploadError("parse", e.message, { file: fitsName, cause: e });
    throw e;
  }

  const candidates = await parseCandidates(vdir, params);
  const { diagnostics, skipped } = parseDiagnostics(vdir, params);
  const spFiles = [spRecord(vdir, SP_FILE_TYPES.singlepulse, `${base}_singlepulse.tgz`), spRecord(vdir, SP_FILE_TYPES.inf, `${base}_inf.tgz`)];
  const spPlots = parseSpPlots(vdir);

  const parsed: ParsedResults = {
    dir,
    base,
    obsName: base,
    params,
    header,
    version,
    manifestSha256: vdir.manifestSha256,
    manifestJson: vdir.manifestText,
    provenanceJson,
    candidates,
    diagnostics,
    skippedDiagnostics: skipped,
    spFiles,
    spPlots,
  };
  checkStorable(parsed);
  return parsed;
}

function versionRow(provenanceJson: string, hash: string, options: ParseOptions): VersionRow {
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(provenanceJson) as Record<string, unknown>;
  } catch (e) {
    throw new UploadError("parse", `${PROVENANCE_FILE} is not JSON: ${(e as Error).message}`, { file: PROVENANCE_FILE, cause: e });
  }
  const field = (key: string): string => {
    const v = p?.[key];
    if (typeof v !== "string" || v === "") {
      throw new UploadError("parse", `${PROVENANCE_FILE} has no ${key} version`, { file: PROVENANCE_FILE });
    }
    return v;
  };
  const presto = field("presto");
  const psrfitsUtils = field("psrfits_utils");
  const beamflow = field("beamflow");
  return {
    institution: options.institution ?? "beamflow",
    pipeline: options.pipeline ?? "PRESTO",
    version_number: `PRESTO:${presto};PSRFITS_UTILS:${psrfitsUtils};BEAMFLOW:${beamflow};PARAMS:${hash}`,
    presto_version: presto,
    psrfits_utils_version: psrfitsUtils,
    beamflow_version: beamflow,
    search_params_hash: hash,
  };
}

function parseDiagnostics(vdir: VerifiedDir, params: SearchParams): { diagnostics: DiagnosticRecord[]; skipped: SkippedDiagnostic[] } {
  const all = allDiagnostics(vdir.dir, params);
  if (!all.complete) {
    const errorClass = all.errors.some((e) => e.problem === "mismatch") ? "mismatch" : "parse";
    throw new UploadError(errorClass, `diagnostics failed: ${all.errors.map((e) => e.message).join("; ")}`, {
      file: all.errors[0] === undefined ? undefined : path.basename(all.errors[0].file),
    });
  }
  const diagnostics = all.map((d): DiagnosticRecord => {
    if (d.kind === "float") {
      return { name: d.name, description: d.description, kind: d.kind, diagnostic_value: d.value!, filename: null, diagnostic_plot: null };
    }
    // PALFA uploaded the file's bytes (the gzipped report stays gzipped) under its base name.
    const name = path.basename(d.file!);
    return { name: d.name, description: d.description, kind: d.kind, diagnostic_value: null, filename: name, diagnostic_plot: vdir.read(name) };
  });
  return { diagnostics, skipped: all.skipped };
}

function spRecord(vdir: VerifiedDir, type: string, filename: string): SpFileRecord {
  if (!vdir.has(filename)) throw new UploadError("parse", `${filename} is missing from the results`, { file: filename });
  const bytes = vdir.read(filename);
  return { type, filename, file_size: bytes.length, sha256: sha256(bytes), filedata: bytes };
}

function parseSpPlots(vdir: VerifiedDir): SpFileRecord[] {
  const re = fnmatchRegExp("*_DMs*_singlepulse.png");
  const out: SpFileRecord[] = [];
  const seen = new Set<string>();
  for (const name of vdir
    .names()
    .filter((n) => !n.includes("/") && re.test(n))
    .sort()) {
    const label = /_DMs(.+)_singlepulse\.png$/.exec(name)![1]!;
    if (!(SP_PLOT_LABELS as readonly string[]).includes(label)) {
      throw new UploadError("parse", `${name}: unknown single-pulse DM range "${label}" (expected one of ${SP_PLOT_LABELS.join(", ")})`, { file: name });
    }
    if (seen.has(label)) throw new UploadError("mismatch", `two single-pulse plots for DMs ${label}`, { file: name });
    seen.add(label);
    out.push(spRecord(vdir, `DMs${label}`, name));
  }
  return out;
}

/** Refuse what one backend would store differently from the other (see the module comment). */
function checkStorable(p: ParsedResults): void {
  const visit = (where: string, row: object) => {
    const r = row as Record<string, unknown>;
    for (const [k, v] of Object.entries(r)) {
      if (typeof v === "number") {
        if (Number.isNaN(v)) throw new UploadError("parse", `${where}: ${k} is NaN`);
        if (Object.is(v, -0)) r[k] = 0;
      } else if (typeof v === "string" && v.includes("\0")) {
        throw new UploadError("parse", `${where}: ${k} contains a NUL character`);
      }
    }
  };
  visit("header", p.header);
  visit("version", p.version);
  for (const c of p.candidates) visit(`candidate ${c.row.accel_file}:${c.row.accel_cand_num}`, c.row);
  for (const d of p.diagnostics) visit(`diagnostic ${d.name}`, d);
}
