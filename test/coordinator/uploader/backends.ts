// The two results-DB backends as the upload tests use them: each test gets a fresh,
// migrated, empty DB (a new SQLite file, or a new database on the throwaway
// PostgreSQL server), so the same test bodies run against both.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { RESULT_TABLES, type ResultsDb, type Row, openResultsDb } from "../../../coordinator/uploader";
import { type PgServer, requirePostgres } from "../../support/postgres";

export type BackendName = "sqlite" | "postgres";

export interface Harness {
  readonly name: BackendName;
  /** A fresh migrated DB; closed by cleanup(). */
  fresh(): Promise<ResultsDb>;
  /** The PostgreSQL server (postgres harness only). */
  readonly server: PgServer | null;
  cleanup(): Promise<void>;
}

export const TEST_APPLICATION_NAME = "beamflow-uploader-test";

export async function openHarness(name: BackendName, ctx: Mocha.Context): Promise<Harness> {
  const opened: ResultsDb[] = [];
  if (name === "sqlite") {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-results-db-"));
    let n = 0;
    return {
      name,
      server: null,
      async fresh() {
        const db = await openResultsDb({ backend: "sqlite", file: path.join(dir, `results-${++n}.db`) });
        opened.push(db);
        return db;
      },
      async cleanup() {
        for (const db of opened) await db.close().catch(() => undefined);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const server = await requirePostgres(ctx);
  let n = 0;
  return {
    name,
    server,
    async fresh() {
      const url = await server.createDatabase(`results_${++n}`);
      const db = await openResultsDb({ backend: "postgres", connectionString: url, applicationName: TEST_APPLICATION_NAME, connectTimeoutMs: 3000 });
      opened.push(db);
      return db;
    },
    async cleanup() {
      for (const db of opened) await db.close().catch(() => undefined);
      await server.destroy();
    },
  };
}

/** Row count of every results table. */
export async function rowCounts(db: ResultsDb): Promise<Record<string, number>> {
  return db.transaction(async (tx) => {
    const out: Record<string, number> = {};
    for (const t of RESULT_TABLES) {
      const [r] = await tx.select<{ n: number | string }>(`SELECT COUNT(*) AS n FROM ${t}`);
      out[t] = Number(r!.n);
    }
    return out;
  });
}

export async function selectAll(db: ResultsDb, sql: string, params: (string | number)[] = []): Promise<Row[]> {
  return db.transaction((tx) => tx.select<Row>(sql, params));
}
