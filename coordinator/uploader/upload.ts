/**
 * Store one beam's parsed results in ONE transaction, read everything back, and
 * commit only if what the DB returns is exactly what was parsed.
 *
 * Public API:
 *   type UploadResult   { status: "uploaded", id, rows, statements }
 *                       | { status: "already_uploaded", id, sameManifest }
 *   interface UploadOptions { now?, afterInsert? }
 *   upload(db, parsed, options?): Promise<UploadResult>
 *
 * Steps (PALFA's upload_results §4 step 4-5, reworked):
 *   1. Look the beam and the version up. If `uploads` already has (beam, version),
 *      return already_uploaded and write nothing: re-running an upload after a
 *      crash, or after a COMMIT whose reply was lost, is always safe. PALFA had no
 *      such key: a second pass inserted everything again and then crashed in
 *      compare_with_db on the duplicates (§8 item 4).
 *   2. Insert what is missing: the observation, the version, the header (an
 *      existing header or version must equal the parsed one, else "mismatch").
 *   3. Insert the `uploads` row, then candidates with their three files (plot,
 *      .pfd, .bestprof), diagnostics, single-pulse tarballs and plots, blobs
 *      included: nothing is left for a second, non-transactional phase (§8 item 4).
 *   4. Read every row of this upload back and compare it field by field with what
 *      was inserted. Floats are compared exactly (===): both backends store IEEE
 *      doubles, and parse.ts has already refused the values one backend would
 *      change (NaN, -0). PALFA compared "%.4f"-formatted strings, which hid
 *      precision loss. Any difference throws UploadError "compare" naming the table,
 *      the row and the field, and the transaction is rolled back.
 *   5. Commit (by returning). A transient DB failure anywhere above comes out of
 *      db.transaction as DbUnavailable, with everything rolled back.
 * `afterInsert` is called after each INSERT; tests use it to stop the server in the
 * middle of an upload or to tamper with a row before the read-back.
 */

import type { ResultsDb, Row, SqlValue, Tx } from "./db";
import { UploadError, type UploadErrorClass } from "./errors";
import type { ParsedResults } from "./parse";

export type UploadResult =
  | { status: "uploaded"; id: number; rows: Record<string, number>; statements: number }
  | { status: "already_uploaded"; id: number; sameManifest: boolean };

export interface UploadOptions {
  /** The time recorded as uploads.uploaded_at (default: now). */
  now?: () => Date;
  /**
   * Called after every INSERT with the table, the count of rows inserted so far and
   * the transaction (tests stop the server here, or change a row to prove the
   * read-back catches it).
   */
  afterInsert?: (table: string, inserted: number, tx: Tx) => void | Promise<void>;
}

interface Expected {
  label: string;
  row: Row;
}

export async function upload(db: ResultsDb, parsed: ParsedResults, options: UploadOptions = {}): Promise<UploadResult> {
  const before = db.stats.statements;
  const result = await db.transaction(async (tx) => {
    let inserted = 0;
    const insert = async (table: string, row: Row, idColumn: string): Promise<number> => {
      const id = await tx.insert(table, row, idColumn);
      inserted++;
      await options.afterInsert?.(table, inserted, tx);
      return id;
    };

    // 1. Already there?
    const obs = await tx.select<{ obs_id: number }>("SELECT obs_id FROM observations WHERE obs_name = ?", [parsed.obsName]);
    const v = parsed.version;
    const ver = await tx.select<Row>("SELECT * FROM versions WHERE institution = ? AND pipeline = ? AND version_number = ?", [
      v.institution,
      v.pipeline,
      v.version_number,
    ]);
    if (obs[0] !== undefined && ver[0] !== undefined) {
      const prior = await tx.select<{ upload_id: number; manifest_sha256: string }>(
        "SELECT upload_id, manifest_sha256 FROM uploads WHERE obs_id = ? AND version_id = ?",
        [obs[0].obs_id, ver[0].version_id as number],
      );
      if (prior[0] !== undefined) {
        return { status: "already_uploaded" as const, id: prior[0].upload_id, sameManifest: prior[0].manifest_sha256 === parsed.manifestSha256 };
      }
    }

    // 2. Observation, version, header.
    const obsId = obs[0]?.obs_id ?? (await insert("observations", { obs_name: parsed.obsName }, "obs_id"));
    let versionId: number;
    if (ver[0] !== undefined) {
      compareRow("mismatch", "versions", `version ${v.version_number} (already stored)`, ver[0], { ...v });
      versionId = ver[0].version_id as number;
    } else {
      versionId = await insert("versions", { ...v }, "version_id");
    }
    const headerRow: Row = { obs_id: obsId, ...parsed.header };
    const existingHeader = await tx.select<Row>("SELECT * FROM headers WHERE obs_id = ?", [obsId]);
    let headerId: number;
    if (existingHeader[0] !== undefined) {
      compareRow("mismatch", "headers", `header of ${parsed.obsName} (already stored by an earlier upload)`, existingHeader[0], headerRow);
      headerId = existingHeader[0].header_id as number;
    } else {
      headerId = await insert("headers", headerRow, "header_id");
    }

    // 3. The upload and everything under it.
    const uploadRow: Row = {
      obs_id: obsId,
      version_id: versionId,
      header_id: headerId,
      manifest_sha256: parsed.manifestSha256,
      manifest_json: parsed.manifestJson,
      provenance_json: parsed.provenanceJson,
      num_candidates: parsed.candidates.length,
      num_diagnostics: parsed.diagnostics.length,
      uploaded_at: (options.now?.() ?? new Date()).toISOString(),
    };
    const uploadId = await insert("uploads", uploadRow, "upload_id");
    const owner = { upload_id: uploadId, header_id: headerId, version_id: versionId };

    const plotTypes = await typeIds(tx, "pdm_plot_types", "pdm_plot_type_id", "pdm_plot_type");
    const spFileTypes = await typeIds(tx, "sp_files_types", "sp_files_type_id", "sp_files_type");
    const spPlotTypes = await typeIds(tx, "sp_single_beam_plot_types", "sp_single_beam_plot_type_id", "sp_single_beam_plot_type");

    const expect = {
      pdm_candidates: new Map<number, Expected>(),
      pdm_candidate_plots: new Map<number, Expected>(),
      diagnostic_types: new Map<number, Expected>(),
      diagnostics: new Map<number, Expected>(),
      sp_files_info: new Map<number, Expected>(),
      sp_plots_single_beam: new Map<number, Expected>(),
    };

    for (const c of parsed.candidates) {
      const row: Row = { ...owner, ...c.row };
      const candId = await insert("pdm_candidates", row, "pdm_cand_id");
      const label = `cand_num ${c.row.cand_num} (${c.row.accel_file}:${c.row.accel_cand_num})`;
      expect.pdm_candidates.set(candId, { label, row: { pdm_cand_id: candId, ...row } });
      for (const f of c.files) {
        const plot: Row = {
          pdm_cand_id: candId,
          pdm_plot_type_id: typeId(plotTypes, "pdm_plot_types", f.type),
          filename: f.filename,
          file_size: f.file_size,
          sha256: f.sha256,
          filedata: f.filedata,
        };
        const id = await insert("pdm_candidate_plots", plot, "pdm_cand_plot_id");
        expect.pdm_candidate_plots.set(id, { label: `${label} ${f.type}`, row: { pdm_cand_plot_id: id, ...plot } });
      }
    }

    for (const d of parsed.diagnostics) {
      const typeRow: Row = { diagnostic_type_name: d.name, diagnostic_type_description: d.description, kind: d.kind };
      const found = await tx.select<Row>("SELECT * FROM diagnostic_types WHERE diagnostic_type_name = ?", [d.name]);
      let typeIdValue: number;
      if (found[0] !== undefined) {
        compareRow("mismatch", "diagnostic_types", `"${d.name}" (already stored)`, found[0], typeRow);
        typeIdValue = found[0].diagnostic_type_id as number;
      } else {
        typeIdValue = await insert("diagnostic_types", typeRow, "diagnostic_type_id");
      }
      expect.diagnostic_types.set(typeIdValue, { label: `"${d.name}"`, row: { diagnostic_type_id: typeIdValue, ...typeRow } });
      const row: Row = {
        ...owner,
        diagnostic_type_id: typeIdValue,
        diagnostic_value: d.diagnostic_value,
        filename: d.filename,
        diagnostic_plot: d.diagnostic_plot,
      };
      const id = await insert("diagnostics", row, "diagnostic_id");
      expect.diagnostics.set(id, { label: `"${d.name}"`, row: { diagnostic_id: id, ...row } });
    }

    for (const f of parsed.spFiles) {
      const row: Row = {
        ...owner,
        sp_files_type_id: typeId(spFileTypes, "sp_files_types", f.type),
        filename: f.filename,
        file_size: f.file_size,
        sha256: f.sha256,
        filedata: f.filedata,
      };
      const id = await insert("sp_files_info", row, "sp_file_id");
      expect.sp_files_info.set(id, { label: f.filename, row: { sp_file_id: id, ...row } });
    }
    for (const f of parsed.spPlots) {
      const row: Row = {
        ...owner,
        sp_single_beam_plot_type_id: typeId(spPlotTypes, "sp_single_beam_plot_types", f.type),
        filename: f.filename,
        file_size: f.file_size,
        sha256: f.sha256,
        filedata: f.filedata,
      };
      const id = await insert("sp_plots_single_beam", row, "sp_plot_id");
      expect.sp_plots_single_beam.set(id, { label: f.filename, row: { sp_plot_id: id, ...row } });
    }

    // 4. Read back and compare, table by table.
    const one = async (table: string, idColumn: string, id: number, label: string, row: Row) => {
      const rows = await tx.select<Row>(`SELECT * FROM ${table} WHERE ${idColumn} = ?`, [id]);
      compareTable(table, idColumn, rows, new Map([[id, { label, row: { [idColumn]: id, ...row } }]]));
    };
    await one("observations", "obs_id", obsId, parsed.obsName, { obs_name: parsed.obsName });
    await one("versions", "version_id", versionId, v.version_number, { ...v });
    await one("headers", "header_id", headerId, `header of ${parsed.obsName}`, headerRow);
    await one("uploads", "upload_id", uploadId, `upload of ${parsed.obsName}`, uploadRow);
    compareTable("pdm_candidates", "pdm_cand_id", await tx.select<Row>("SELECT * FROM pdm_candidates WHERE upload_id = ?", [uploadId]), expect.pdm_candidates);
    compareTable(
      "pdm_candidate_plots",
      "pdm_cand_plot_id",
      await tx.select<Row>("SELECT p.* FROM pdm_candidate_plots p JOIN pdm_candidates c ON c.pdm_cand_id = p.pdm_cand_id WHERE c.upload_id = ?", [uploadId]),
      expect.pdm_candidate_plots,
    );
    const typeIdList = [...expect.diagnostic_types.keys()];
    compareTable(
      "diagnostic_types",
      "diagnostic_type_id",
      typeIdList.length === 0
        ? []
        : await tx.select<Row>(`SELECT * FROM diagnostic_types WHERE diagnostic_type_id IN (${typeIdList.map(() => "?").join(", ")})`, typeIdList),
      expect.diagnostic_types,
    );
    compareTable("diagnostics", "diagnostic_id", await tx.select<Row>("SELECT * FROM diagnostics WHERE upload_id = ?", [uploadId]), expect.diagnostics);
    compareTable("sp_files_info", "sp_file_id", await tx.select<Row>("SELECT * FROM sp_files_info WHERE upload_id = ?", [uploadId]), expect.sp_files_info);
    compareTable(
      "sp_plots_single_beam",
      "sp_plot_id",
      await tx.select<Row>("SELECT * FROM sp_plots_single_beam WHERE upload_id = ?", [uploadId]),
      expect.sp_plots_single_beam,
    );

    const rows: Record<string, number> = { uploads: 1, inserted: inserted };
    for (const [table, m] of Object.entries(expect)) if (table !== "diagnostic_types") rows[table] = m.size;
    return { status: "uploaded" as const, id: uploadId, rows, statements: 0 };
  });
  if (result.status === "uploaded") result.statements = db.stats.statements - before;
  return result;
}

/** name -> id of a seeded lookup table (pdm_plot_types ...). */
async function typeIds(tx: Tx, table: string, idColumn: string, nameColumn: string): Promise<Map<string, number>> {
  const rows = await tx.select<Row>(`SELECT ${idColumn}, ${nameColumn} FROM ${table}`);
  return new Map(rows.map((r) => [r[nameColumn] as string, r[idColumn] as number]));
}

function typeId(types: Map<string, number>, table: string, name: string): number {
  const id = types.get(name);
  // The migrations seed these; a missing one means the schema is not ours.
  if (id === undefined) throw new Error(`${table} has no row "${name}": the results schema is not as migrated`);
  return id;
}

function compareTable(table: string, idColumn: string, actual: Row[], expected: Map<number, Expected>): void {
  const seen = new Set<number>();
  for (const row of actual) {
    const id = row[idColumn] as number;
    const want = expected.get(id);
    if (want === undefined) {
      throw new UploadError("compare", `${table}: row ${idColumn}=${String(id)} was read back but not inserted by this upload`, {
        table,
        row: `${idColumn}=${String(id)}`,
      });
    }
    seen.add(id);
    compareRow("compare", table, want.label, row, want.row);
  }
  for (const [id, want] of expected) {
    if (!seen.has(id)) {
      throw new UploadError("compare", `${table}: ${want.label} (${idColumn}=${id}) was inserted but not read back`, { table, row: want.label });
    }
  }
}

function compareRow(errorClass: UploadErrorClass, table: string, label: string, actual: Row, expected: Row): void {
  for (const [field, want] of Object.entries(expected)) {
    const got = actual[field];
    if (!sameValue(got, want)) {
      throw new UploadError(errorClass, `${table}: ${label}: ${field} is stored as ${show(got)}, expected ${show(want)}`, {
        table,
        row: label,
        field,
      });
    }
  }
}

function sameValue(got: SqlValue | undefined, want: SqlValue): boolean {
  if (want === null) return got === null;
  if (Buffer.isBuffer(want)) return Buffer.isBuffer(got) && got.equals(want);
  if (typeof want === "number") return typeof got === "number" && got === want;
  return got === want;
}

function show(v: SqlValue | undefined): string {
  if (v === undefined) return "(no such column)";
  if (v === null) return "NULL";
  if (Buffer.isBuffer(v)) return `<${v.length} bytes>`;
  if (typeof v === "string") return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  return `${typeof v} ${String(v)}`;
}
