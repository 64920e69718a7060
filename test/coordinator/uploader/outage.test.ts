// PostgreSQL going away in the middle of an upload: the server stopped between two
// INSERTs, or the uploader's backend killed from a second connection. Nothing may be
// left half-stored, the error must say "DB unavailable, retry", and the retried
// upload must store the beam exactly once.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DbUnavailable, type ResultsDb, classifyDbError, parseResultsDir, upload, withDbRetry } from "../../../coordinator/uploader";
import { type Harness, TEST_APPLICATION_NAME, openHarness, rowCounts } from "./backends";
import { type BuiltResults, buildResultsDir } from "./results-dir";

/** What an empty, migrated DB holds: only the seeded lookup tables. */
const EMPTY = {
  observations: 0,
  versions: 0,
  headers: 0,
  uploads: 0,
  pdm_candidates: 0,
  pdm_plot_types: 3,
  pdm_candidate_plots: 0,
  diagnostic_types: 0,
  diagnostics: 0,
  sp_files_types: 2,
  sp_files_info: 0,
  sp_single_beam_plot_types: 4,
  sp_plots_single_beam: 0,
};

/** Three folded candidates, so an interruption lands between candidates. */
const STORED_ONCE = {
  ...EMPTY,
  observations: 1,
  versions: 1,
  headers: 1,
  uploads: 1,
  pdm_candidates: 3,
  pdm_candidate_plots: 9,
  diagnostic_types: 18,
  diagnostics: 18,
  sp_files_info: 2,
  sp_plots_single_beam: 2,
};

function assertUnavailable(e: unknown): true {
  assert.ok(e instanceof DbUnavailable, `expected DbUnavailable, got ${String(e)}`);
  assert.equal(classifyDbError(e), "DbUnavailable");
  assert.equal(classifyDbError((e as Error).cause), "DbUnavailable", `raw driver error: ${String((e as Error).cause)}`);
  assert.equal(e.retry, "backoff");
  return true;
}

describe("uploader on postgres: the server goes away mid-upload", function () {
  this.timeout(30_000);
  let h: Harness;
  let scratch: string;
  let built: BuiltResults;

  before(async function () {
    h = await openHarness("postgres", this);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bf-outage-"));
    built = await buildResultsDir(path.join(scratch, "three"), { copies: 3 });
  });
  after(async () => {
    await h?.cleanup();
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  });

  async function assertStoredOnce(db: ResultsDb, id: number): Promise<void> {
    assert.deepEqual(await rowCounts(db), STORED_ONCE);
    const parsed = await parseResultsDir(built.dir);
    assert.deepEqual(await upload(db, parsed), { status: "already_uploaded", id, sameManifest: true });
    assert.deepEqual(await rowCounts(db), STORED_ONCE);
  }

  it("server stopped between inserts: nothing partial, DbUnavailable, then stored once after the restart", async () => {
    const server = h.server!;
    const db = await h.fresh();
    const parsed = await parseResultsDir(built.dir);
    let stoppedAt: string | null = null;
    try {
      await assert.rejects(
        upload(db, parsed, {
          afterInsert: async (table, n) => {
            // The second candidate's first plot: rows of two candidates are in the transaction.
            if (stoppedAt === null && table === "pdm_candidate_plots" && n > 8) {
              stoppedAt = `${table} (#${n})`;
              await server.stop("immediate");
            }
          },
        }),
        assertUnavailable,
      );
      assert.ok(stoppedAt, "the hook stopped the server");
      // While it is down, an upload fails the same way (no socket to connect to).
      await assert.rejects(upload(db, parsed), assertUnavailable);
    } finally {
      if (!server.running) await server.start();
    }
    assert.deepEqual(await rowCounts(db), EMPTY, "nothing of the interrupted upload was kept");
    const res = await withDbRetry(() => upload(db, parsed), { initialMs: 50, attempts: 5 });
    assert.equal(res.status, "uploaded");
    await assertStoredOnce(db, res.id);
  });

  it("backend terminated from another connection: rolled back, retried with backoff, stored once", async () => {
    const server = h.server!;
    const db = await h.fresh();
    const parsed = await parseResultsDir(built.dir);
    let killed = 0;
    const retries: string[] = [];
    const res = await withDbRetry(
      () =>
        upload(db, parsed, {
          afterInsert: async (table, n) => {
            if (killed === 0 && table === "diagnostics" && n > 20) {
              killed++;
              const r = await server.admin(
                "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()",
                [TEST_APPLICATION_NAME],
              );
              assert.ok(
                r.rows.some((x: { ok: boolean }) => x.ok),
                "terminated the uploader's backend",
              );
            }
          },
        }),
      { initialMs: 20, attempts: 3, onRetry: (e) => retries.push(e.message) },
    );
    assert.equal(killed, 1);
    assert.equal(retries.length, 1);
    assert.match(retries[0]!, /admin shutdown|Connection terminated/);
    assert.equal(res.status, "uploaded");
    await assertStoredOnce(db, res.id);
  });
});
