/**
 * Opening the results DB and bringing its schema up to date.
 *
 * Public API:
 *   type ResultsDbConfig   { backend: "sqlite", file, busyTimeoutMs? }
 *                          | { backend: "postgres", connectionString, maxConnections?, ... }
 *   defaultResultsDbFile(dataDir): string      <data_dir>/results.db
 *   resultsDbConfigFrom(dataDir, setting?): ResultsDbConfig
 *                          "" -> SQLite at <data_dir>/results.db (the embedded default);
 *                          "postgres://..." / "postgresql://..." -> PostgreSQL;
 *                          "sqlite:<path>" or a plain path -> that SQLite file
 *   openResultsDb(config): Promise<ResultsDb>  opened and migrated
 *   migrate(db): Promise<number>               migrations applied now
 *   MIGRATIONS_TABLE
 *
 * Migrations run in one transaction, so a failure leaves the schema as it was;
 * each applied version is recorded with its name. A second coordinator migrating
 * the same PostgreSQL DB at the same moment fails with a serialization error
 * (DbUnavailable) and finds the work done when it retries.
 */

import path from "node:path";
import type { ResultsDb } from "./db";
import { PgResultsDb, type PgOptions } from "./pg-db";
import { RESULTS_MIGRATIONS, migrationSql } from "./schema";
import { SqliteResultsDb, type SqliteOptions } from "./sqlite-db";

export type ResultsDbConfig = ({ backend: "sqlite"; file: string } & SqliteOptions) | ({ backend: "postgres" } & PgOptions);

/** Distinct from the tracker's name, and prefixed, so it can share a PostgreSQL database. */
export const MIGRATIONS_TABLE = "results_schema_migrations";

export function defaultResultsDbFile(dataDir: string): string {
  return path.join(dataDir, "results.db");
}

export function resultsDbConfigFrom(dataDir: string, setting = ""): ResultsDbConfig {
  const s = setting.trim();
  if (s === "") return { backend: "sqlite", file: defaultResultsDbFile(dataDir) };
  if (/^postgres(ql)?:\/\//.test(s)) return { backend: "postgres", connectionString: s };
  const file = s.startsWith("sqlite:") ? s.slice("sqlite:".length) : s;
  if (file === "" || /^[a-z][a-z0-9+.-]*:\/\//i.test(file))
    throw new Error(`results DB: cannot use ${JSON.stringify(setting)} (expected a postgresql:// URL or a SQLite file path)`);
  return { backend: "sqlite", file: path.resolve(dataDir, file) };
}

export async function openResultsDb(config: ResultsDbConfig): Promise<ResultsDb> {
  const db: ResultsDb = config.backend === "sqlite" ? new SqliteResultsDb(config.file, config) : new PgResultsDb(config);
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return db;
}

export async function migrate(db: ResultsDb): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.exec(`CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
    const rows = await tx.select<{ version: number }>(`SELECT version FROM ${MIGRATIONS_TABLE}`);
    const applied = new Set(rows.map((r) => Number(r.version)));
    let count = 0;
    for (const m of RESULTS_MIGRATIONS) {
      if (applied.has(m.version)) continue;
      await tx.exec(migrationSql(db.backend, m));
      await tx.run(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`, [m.version, m.name, new Date().toISOString()]);
      count++;
    }
    return count;
  });
}
