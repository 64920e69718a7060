// The uploader against both backends with the same test bodies: a real SQLite file
// and a real PostgreSQL server (test/support/postgres.ts). The results directory
// is built from the real beam_J1903 fixtures (results-dir.ts). Expected values are
// read from the fixture files here, with plain regexes and PRESTO's own readfile
// output, not through the parsers under test.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { DIAGNOSTIC_NAMES } from "../../../shared/diagnostics";
import { paramsHash } from "../../../shared/results/search-params-file";
import { formatAccelcands, readAccelcandsFile } from "../../../shared/presto";
import {
  DbUnavailable,
  type ResultsDb,
  type Row,
  UploadError,
  MIGRATIONS_TABLE,
  RESULTS_MIGRATIONS,
  classifyDbError,
  migrate,
  openResultsDb,
  parseResultsDir,
  upload,
} from "../../../coordinator/uploader";
import { type BackendName, type Harness, openHarness, rowCounts, selectAll } from "./backends";
import {
  BASE,
  BEAM,
  CAND1_PFD,
  CAND5_PFD,
  FIXTURES,
  FIXTURE_PRESTO,
  FIXTURE_PSRFITS_UTILS,
  type BuiltResults,
  buildResultsDir,
  copyDir,
  refreshManifest,
  rewriteTarball,
  syntheticBytes,
} from "./results-dir";

const sha256 = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");
const fixtureBytes = (name: string) => fs.readFileSync(path.join(BEAM, name));

/** "# Key = value ..." from a .bestprof: the first number after "=". */
function bestprofNumber(text: string, key: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`# ${key}`));
  assert.ok(line, `no "${key}" line`);
  return Number(/[=<]\s+(\S+)/.exec(line)![1]);
}

/** PRESTO's readfile output as label -> value. */
function readfileFields(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const m = /^\s*(.+?) = (.*)$/.exec(line);
    if (m) out.set(m[1]!.trim(), m[2]!.trim());
  }
  return out;
}

/** The candidate line of the fixture .accelcands, split as sifting.py wrote it. */
function accelcandsLine(name: string): string[] {
  const line = fs
    .readFileSync(path.join(BEAM, `${BASE}.accelcands`), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name} `));
  assert.ok(line, name);
  return line.trim().split(/\s+/);
}

function assertUploadError(e: unknown, errorClass: string, file?: RegExp): true {
  assert.ok(e instanceof UploadError, `expected an UploadError, got ${String(e)}`);
  assert.equal(e.errorClass, errorClass, e.message);
  assert.equal(e.retry, "upload");
  if (file) assert.match(e.file ?? "", file, e.message);
  assert.equal(classifyDbError(e), "UploadError");
  return true;
}

async function uploadDir(db: ResultsDb, dir: string) {
  return upload(db, await parseResultsDir(dir));
}

describe("uploader: the same uploads on both backends", () => {
  let scratch: string;
  let good: BuiltResults;
  let three: BuiltResults;

  before(async function () {
    this.timeout(60_000);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bf-upload-test-"));
    good = await buildResultsDir(path.join(scratch, "good"));
    three = await buildResultsDir(path.join(scratch, "three"), { copies: 3 });
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  for (const backend of ["sqlite", "postgres"] as BackendName[]) {
    describe(`uploader on ${backend}`, function () {
      this.timeout(30_000);
      let h: Harness;
      before(async function () {
        h = await openHarness(backend, this);
      });
      after(async () => {
        await h?.cleanup();
      });

      it("uploads a beam and reads back every field as the files give it", async () => {
        const db = await h.fresh();
        const res = await uploadDir(db, good.dir);
        assert.equal(res.status, "uploaded");

        const [obs] = await selectAll(db, "SELECT * FROM observations");
        assert.equal(obs!.obs_name, BASE);

        const [ver] = await selectAll(db, "SELECT * FROM versions");
        assert.equal(ver!.presto_version, FIXTURE_PRESTO);
        assert.equal(ver!.psrfits_utils_version, FIXTURE_PSRFITS_UTILS);
        assert.equal(ver!.beamflow_version, (good.provenance as { beamflow: string }).beamflow);
        assert.equal(ver!.search_params_hash, paramsHash(good.params));
        assert.equal(
          ver!.version_number,
          `PRESTO:${FIXTURE_PRESTO};PSRFITS_UTILS:${FIXTURE_PSRFITS_UTILS};BEAMFLOW:${ver!.beamflow_version};PARAMS:${paramsHash(good.params)}`,
        );

        // The header against PRESTO's readfile of the same FITS file.
        const rf = readfileFields(path.join(FIXTURES, "presto", "mock_split", "readfile_combined.txt"));
        const [hdr] = await selectAll(db, "SELECT * FROM headers");
        assert.equal(hdr!.obs_id, obs!.obs_id);
        assert.equal(hdr!.telescope, rf.get("Telescope"));
        assert.equal(hdr!.observers, rf.get("Observer"));
        assert.equal(hdr!.source_name, rf.get("Source Name"));
        assert.equal(hdr!.frontend, rf.get("Frontend"));
        assert.equal(hdr!.backend, rf.get("Backend"));
        assert.equal(hdr!.project_id, rf.get("Project ID"));
        assert.equal(hdr!.date_obs, rf.get("Obs Date String"));
        assert.equal(hdr!.timestamp_mjd, Number(rf.get("MJD start time (STT_*)")));
        assert.equal(hdr!.timestamp_mjd_text, "60000.25000000000000000000");
        assert.equal(hdr!.orig_right_ascension, rf.get("RA J2000"));
        assert.equal(hdr!.orig_declination, rf.get("Dec J2000"));
        assert.ok(Math.abs((hdr!.ra_deg as number) - Number(rf.get("RA J2000 (deg)"))) < 1e-9);
        assert.ok(Math.abs((hdr!.dec_deg as number) - Number(rf.get("Dec J2000 (deg)"))) < 1e-9);
        assert.ok(Math.abs((hdr!.sample_time as number) * 1e6 - Number(rf.get("Sample time (us)"))) < 1e-9);
        assert.equal(hdr!.center_freq, Number(rf.get("Central freq (MHz)")));
        assert.equal(Math.abs(hdr!.channel_bandwidth as number), Number(rf.get("Channel width (MHz)")));
        assert.equal(hdr!.num_channels_per_record, Number(rf.get("Number of channels")));
        assert.ok(Math.abs((hdr!.bandwidth as number) - Number(rf.get("Total Bandwidth (MHz)"))) < 1e-9);
        assert.equal(hdr!.num_samples_per_record, Number(rf.get("Spectra per subint")));
        assert.equal(hdr!.num_records, Number(rf.get("Subints per file")));
        assert.equal(hdr!.num_samples, Number(rf.get("Spectra per file")));
        assert.ok(Math.abs((hdr!.observation_time as number) - Number(rf.get("Time per file (sec)"))) < 1e-9);
        assert.equal(hdr!.bits_per_sample, Number(rf.get("bits per sample")));
        // PSR J1903+0327 sits at this position: l = 37.336, b = -1.014 (ATNF catalogue).
        assert.ok(Math.abs((hdr!.galactic_longitude as number) - 37.336) < 0.001, String(hdr!.galactic_longitude));
        assert.ok(Math.abs((hdr!.galactic_latitude as number) - -1.014) < 0.001, String(hdr!.galactic_latitude));
        assert.equal(hdr!.beam_id, null); // combine_mocks drops IBEAM

        // The candidate against its .bestprof and .accelcands lines.
        const cands = await selectAll(db, "SELECT * FROM pdm_candidates");
        assert.equal(cands.length, 1);
        const c = cands[0]!;
        const bp = fixtureBytes(`${CAND1_PFD}.bestprof`).toString("utf8");
        const pTopo = bestprofNumber(bp, "P_topo (ms)") / 1000;
        const pBary = bestprofNumber(bp, "P_bary (ms)") / 1000;
        const cols = accelcandsLine(`${BASE}_DM57.00_ACCEL_0:1`);
        const expected: Row = {
          cand_num: 1,
          accel_file: `${BASE}_DM57.00_ACCEL_0`,
          accel_cand_num: 1,
          period: pTopo,
          bary_period: pBary,
          frequency: 1 / pTopo,
          bary_frequency: 1 / pBary,
          f_dot: -bestprofNumber(bp, "P'_topo (s/s)") / (pTopo * pTopo),
          bary_f_dot: -bestprofNumber(bp, "P'_bary (s/s)") / (pBary * pBary),
          dm: bestprofNumber(bp, "Best DM"),
          reduced_chi_sqr: bestprofNumber(bp, "Reduced chi-sqr"),
          prepfold_sigma: Number(/\(~(\S+) sigma\)/.exec(bp)![1]),
          sifting_dm: Number(cols[1]),
          snr: Number(cols[2]),
          presto_sigma: Number(cols[3]),
          num_harmonics: Number(cols[4]),
          incoherent_power: Number(cols[5]),
          coherent_power: Number(cols[6]),
          sifting_period: Number(cols[7]) / 1000,
          accel_r: Number(cols[8]),
          accel_z: Number(cols[9]),
          num_hits: Number(cols[10]!.replace(/[()]/g, "")),
          rescaled_prepfold_sigma: null,
        };
        for (const [k, v] of Object.entries(expected)) assert.equal(c[k], v, `pdm_candidates.${k}`);
        assert.equal(c.num_hits, 133);
        assert.equal(c.prepfold_sigma, 56.7);

        const plots = await selectAll(
          db,
          "SELECT t.pdm_plot_type AS type, p.* FROM pdm_candidate_plots p JOIN pdm_plot_types t ON t.pdm_plot_type_id = p.pdm_plot_type_id ORDER BY t.pdm_plot_type",
        );
        const byType = new Map(plots.map((p) => [p.type as string, p]));
        assert.deepEqual([...byType.keys()], ["pfd bestprof", "pfd binary", "prepfold plot"]);
        for (const [type, file, name] of [
          ["pfd binary", CAND1_PFD, CAND1_PFD],
          ["pfd bestprof", `${CAND1_PFD}.bestprof`, `${CAND1_PFD}.bestprof`],
          ["prepfold plot", `${CAND1_PFD}.page.png`, `${CAND1_PFD}.png`],
        ] as const) {
          const p = byType.get(type)!;
          const want = fixtureBytes(file);
          assert.equal(p.pdm_cand_id, c.pdm_cand_id);
          assert.equal(p.filename, name);
          assert.ok(Buffer.isBuffer(p.filedata) && (p.filedata as Buffer).equals(want), `${type} bytes`);
          assert.equal(p.file_size, want.length);
          assert.equal(p.sha256, sha256(want));
        }

        // All 18 diagnostics: blobs are the results files' bytes, numbers as computed from them.
        const diags = await selectAll(
          db,
          "SELECT t.diagnostic_type_name AS name, t.kind, d.* FROM diagnostics d JOIN diagnostic_types t ON t.diagnostic_type_id = d.diagnostic_type_id",
        );
        assert.deepEqual(diags.map((d) => d.name).sort(), [...DIAGNOSTIC_NAMES].sort());
        const diag = new Map(diags.map((d) => [d.name as string, d]));
        for (const d of diags) {
          if (d.kind === "blob") {
            assert.equal(d.diagnostic_value, null);
            const want = fs.readFileSync(path.join(good.dir, d.filename as string));
            assert.ok((d.diagnostic_plot as Buffer).equals(want), `${String(d.name)} bytes`);
          } else {
            assert.equal(d.diagnostic_plot, null);
            assert.equal(typeof d.diagnostic_value, "number");
          }
        }
        const candLines = fs
          .readFileSync(path.join(BEAM, `${BASE}.accelcands`), "utf8")
          .split("\n")
          .filter((l) => /^\S+:\d+\s/.test(l));
        assert.equal(diag.get("Num cands produced")!.diagnostic_value, candLines.length);
        assert.equal(diag.get("Num cands folded")!.diagnostic_value, 1);
        assert.equal(diag.get("Min sigma folded")!.diagnostic_value, Number(cols[3]));
        assert.equal(diag.get("RFI mask percentage")!.diagnostic_value, 0.74);
        assert.equal(diag.get("Sigma threshold")!.diagnostic_value, good.params.to_prepfold_sigma);
        assert.equal(diag.get("Accelcands list")!.filename, `${BASE}.accelcands`);
        assert.ok((diag.get("Accelcands list")!.diagnostic_plot as Buffer).equals(fixtureBytes(`${BASE}.accelcands`)));
        assert.ok((diag.get("Zaplist used")!.diagnostic_plot as Buffer).equals(fixtureBytes(`${BASE}.zaplist`)));

        // Single-pulse tarballs and plots.
        const sp = await selectAll(db, "SELECT * FROM sp_files_info ORDER BY filename");
        assert.deepEqual(
          sp.map((r) => r.filename),
          [`${BASE}_inf.tgz`, `${BASE}_singlepulse.tgz`],
        );
        for (const r of sp) assert.ok((r.filedata as Buffer).equals(fs.readFileSync(path.join(good.dir, r.filename as string))));
        const spPlots = await selectAll(db, "SELECT * FROM sp_plots_single_beam ORDER BY filename");
        assert.deepEqual(
          spPlots.map((r) => r.filename),
          [`${BASE}_DMs0-110_singlepulse.png`, `${BASE}_DMs100-310_singlepulse.png`],
        );
        for (const r of spPlots) assert.ok((r.filedata as Buffer).equals(syntheticBytes(r.filename as string)));

        const [up] = await selectAll(db, "SELECT * FROM uploads");
        assert.equal(up!.upload_id, res.id);
        assert.equal(up!.manifest_sha256, sha256(fs.readFileSync(path.join(good.dir, "manifest.json"))));
        assert.equal(up!.provenance_json, fs.readFileSync(path.join(good.dir, "provenance.json"), "utf8"));
        assert.equal(up!.num_candidates, 1);
        assert.equal(up!.num_diagnostics, 18);
        for (const t of ["pdm_candidates", "diagnostics", "sp_files_info", "sp_plots_single_beam"]) {
          const [n] = await selectAll(db, `SELECT COUNT(*) AS n FROM ${t} WHERE upload_id = ? AND header_id = ? AND version_id = ?`, [
            res.id,
            hdr!.header_id as number,
            ver!.version_id as number,
          ]);
          assert.equal(Number(n!.n), (await rowCounts(db))[t], `${t} rows belong to the upload`);
        }
      });

      it("migrates once: a second migrate() applies nothing", async () => {
        const db = await h.fresh();
        assert.equal(await migrate(db), 0);
        const rows = await selectAll(db, `SELECT version, name FROM ${MIGRATIONS_TABLE}`);
        assert.deepEqual(
          rows.map((r) => Number(r.version)),
          RESULTS_MIGRATIONS.map((m) => m.version),
        );
      });

      it("uploads several folded candidates in fold-rank order", async () => {
        const db = await h.fresh();
        const res = await uploadDir(db, three.dir);
        assert.equal(res.status, "uploaded");
        const cands = await selectAll(db, "SELECT cand_num, accel_file, accel_cand_num FROM pdm_candidates ORDER BY cand_num");
        assert.deepEqual(
          cands.map((r) => [r.cand_num, r.accel_file, r.accel_cand_num]),
          [1, 2, 3].map((k) => [k, `${BASE}_copy00${k}_DM57.00_ACCEL_0`, 1]),
        );
        const counts = await rowCounts(db);
        assert.equal(counts.pdm_candidate_plots, 9);
        const pfds = await selectAll(
          db,
          "SELECT p.filedata FROM pdm_candidate_plots p JOIN pdm_plot_types t ON t.pdm_plot_type_id = p.pdm_plot_type_id WHERE t.pdm_plot_type = 'pfd binary'",
        );
        assert.equal(pfds.length, 3);
        for (const p of pfds) assert.ok((p.filedata as Buffer).equals(fixtureBytes(CAND1_PFD)));
      });

      it("uploading again changes nothing and says already_uploaded", async () => {
        const db = await h.fresh();
        const first = await uploadDir(db, good.dir);
        assert.equal(first.status, "uploaded");
        const before = await rowCounts(db);
        const statementsBefore = db.stats.statements;
        const again = await uploadDir(db, good.dir);
        // BEGIN, three lookups, COMMIT: no writes.
        assert.equal(db.stats.statements - statementsBefore, 5);
        assert.deepEqual(again, { status: "already_uploaded", id: first.id, sameManifest: true });
        assert.deepEqual(await rowCounts(db), before);
      });

      it("stores a second version of a beam (other parameters) as a second upload sharing the header", async () => {
        const db = await h.fresh();
        await uploadDir(db, good.dir);
        const other = copyDir(good.dir, path.join(scratch, `other-version-${backend}`));
        const text = fs.readFileSync(path.join(other, "search_params.txt"), "utf8");
        fs.writeFileSync(path.join(other, "search_params.txt"), text.replace(/^(singlepulse_threshold\s+= )5\.0$/m, "$15.5"));
        await refreshManifest(other);
        const second = await uploadDir(db, other);
        assert.equal(second.status, "uploaded");
        const counts = await rowCounts(db);
        assert.equal(counts.uploads, 2);
        assert.equal(counts.versions, 2);
        assert.equal(counts.headers, 1);
        assert.equal(counts.observations, 1);
        assert.equal(counts.pdm_candidates, 2);
        assert.equal(counts.diagnostic_types, 18);
      });

      it("refuses a truncated .bestprof as a parse error, leaving the DB unchanged", async () => {
        const db = await h.fresh();
        await uploadDir(db, three.dir);
        const before = await rowCounts(db);
        const dir = copyDir(good.dir, path.join(scratch, `truncated-${backend}`));
        await rewriteTarball(dir, `${BASE}_bestprof.tgz`, (m) => {
          const b = m.get(`${CAND1_PFD}.bestprof`)!;
          m.set(`${CAND1_PFD}.bestprof`, b.subarray(0, Math.floor(b.length / 2)));
        });
        await refreshManifest(dir);
        await assert.rejects(uploadDir(db, dir), (e) => assertUploadError(e, "parse", /_bestprof\.tgz:.*Cand_1\.pfd\.bestprof$/));
        assert.deepEqual(await rowCounts(db), before);
      });

      it("refuses a file that differs from manifest.json as a checksum error, leaving the DB unchanged", async () => {
        const db = await h.fresh();
        const before = await rowCounts(db);
        const dir = copyDir(good.dir, path.join(scratch, `checksum-${backend}`));
        const pfdTar = path.join(dir, `${BASE}_pfd.tgz`);
        const bytes = fs.readFileSync(pfdTar);
        bytes[bytes.length >> 1] ^= 0xff; // same size, different bytes
        fs.writeFileSync(pfdTar, bytes);
        await assert.rejects(uploadDir(db, dir), (e) => assertUploadError(e, "checksum", /_pfd\.tgz$/));
        fs.rmSync(path.join(dir, `${BASE}.zaplist`));
        await assert.rejects(uploadDir(db, dir), (e) => assertUploadError(e, "checksum") && /zaplist: missing/.test((e as Error).message));
        assert.deepEqual(await rowCounts(db), before);
      });

      it("refuses a candidate list that disagrees with the folds as a mismatch, leaving the DB unchanged", async () => {
        const db = await h.fresh();
        await uploadDir(db, three.dir);
        const before = await rowCounts(db);
        // The sifted list without candidate 1: the selection is now candidate 5, but cand 1 was folded.
        const dir = copyDir(good.dir, path.join(scratch, `mismatch-${backend}`));
        const list = path.join(dir, `${BASE}.accelcands`);
        const entries = readAccelcandsFile(list).filter((e) => !(e.accelFile === `${BASE}_DM57.00_ACCEL_0` && e.candnum === 1));
        fs.writeFileSync(list, formatAccelcands(entries));
        await refreshManifest(dir);
        await assert.rejects(uploadDir(db, dir), (e) => {
          assertUploadError(e, "mismatch", /\.accelcands$/);
          const m = (e as Error).message;
          assert.ok(m.includes(`lacks ${CAND5_PFD}`) && m.includes(`has ${CAND1_PFD}`), m);
          return true;
        });
        assert.deepEqual(await rowCounts(db), before);
      });

      it("rolls back and names table, row and field when a stored value reads back different", async () => {
        const db = await h.fresh();
        const before = await rowCounts(db);
        const parsed = await parseResultsDir(good.dir);
        const p = parsed.candidates[0]!.row.bary_period!;
        const nudged = p + p * Number.EPSILON; // the next double or so: invisible to a "%.10f" comparison
        assert.notEqual(nudged, p);
        await assert.rejects(
          upload(db, parsed, {
            afterInsert: async (table, _n, tx) => {
              if (table === "diagnostics") await tx.run("UPDATE pdm_candidates SET bary_period = ?", [nudged]);
            },
          }),
          (e) => {
            assertUploadError(e, "compare");
            const u = e as UploadError;
            assert.equal(u.table, "pdm_candidates");
            assert.equal(u.field, "bary_period");
            assert.match(u.row ?? "", /cand_num 1 \(beam_J1903_DM57\.00_ACCEL_0:1\)/);
            return true;
          },
        );
        assert.deepEqual(await rowCounts(db), before);
        // And the same beam uploads cleanly afterwards.
        assert.equal((await upload(db, parsed)).status, "uploaded");
      });

      if (backend === "sqlite") {
        it("reports a DB locked by another writer as DbUnavailable, leaving it unchanged", async () => {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-busy-"));
          try {
            const file = path.join(dir, "results.db");
            const db = await openResultsDb({ backend: "sqlite", file, busyTimeoutMs: 50 });
            const other = new Database(file);
            other.exec("BEGIN IMMEDIATE");
            try {
              await assert.rejects(uploadDir(db, good.dir), (e) => {
                assert.ok(e instanceof DbUnavailable, String(e));
                assert.equal(classifyDbError(e), "DbUnavailable");
                assert.match(e.code ?? "", /^SQLITE_BUSY/);
                return true;
              });
            } finally {
              other.exec("ROLLBACK");
              other.close();
            }
            assert.equal((await rowCounts(db)).uploads, 0);
            assert.equal((await uploadDir(db, good.dir)).status, "uploaded");
            await db.close();
          } finally {
            fs.rmSync(dir, { recursive: true, force: true });
          }
        });
      }
    });
  }
});
