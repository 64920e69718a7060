/**
 * The shared results DB: PostgreSQL through a pg Pool.
 *
 * Public API:
 *   class PgResultsDb implements ResultsDb
 *     new PgResultsDb({ connectionString, maxConnections?, applicationName?, connectTimeoutMs? })
 *   toPgPlaceholders(sql): string      "?" -> "$1", "$2" ... outside quoted text
 *
 * Choices, and why:
 *   - Transactions run at SERIALIZABLE: two coordinators uploading the same beam at
 *     once then conflict with a serialization failure (DbUnavailable, retried), and
 *     the retry finds the first upload and reports already_uploaded, instead of
 *     both inserting.
 *   - extra_float_digits=3 makes servers older than 12 print every double with
 *     enough digits to read back the same double (12+ print the shortest exact
 *     form anyway); the read-back comparison is exact.
 *   - BIGINT (int8) comes back as a JS number, not pg's default string, and is
 *     refused if it is beyond 2^53: ids and sizes are compared as numbers.
 *   - A checked-out client gets its own 'error' listener: the pool removes its idle
 *     listener on checkout, and a client whose server goes away while checked out
 *     would otherwise emit an unhandled 'error' and take the coordinator down. A
 *     client that saw any error is destroyed on release, not reused.
 */

import pg from "pg";
import { type DbStats, type ResultsDb, type Row, type SqlValue, type Tx, TxState, insertSql } from "./db";
import { UploadError, asDbUnavailable } from "./errors";

export interface PgOptions {
  connectionString: string;
  /** Pool size (default 4). */
  maxConnections?: number;
  /** Shown in pg_stat_activity (default "beamflow-uploader"). */
  applicationName?: string;
  /** Give up connecting after this long (default 10000 ms); a DbUnavailable. */
  connectTimeoutMs?: number;
}

const INT8_OID = 20;

function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${text} does not fit a JS number exactly`);
  return n;
}

const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

export class PgResultsDb implements ResultsDb {
  readonly backend = "postgres" as const;
  readonly stats: DbStats = { statements: 0, transactions: 0 };
  private readonly pool: pg.Pool;

  constructor(options: PgOptions) {
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.maxConnections ?? 4,
      application_name: options.applicationName ?? "beamflow-uploader",
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      options: "-c extra_float_digits=3",
      types,
    });
    // An idle client whose server went away (restart, pg_terminate_backend): the pool
    // drops it by itself and the next transaction connects afresh. Nothing to do here.
    this.pool.on("error", () => undefined);
  }

  async transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    this.stats.transactions++;
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw asDbUnavailable(e);
    }
    let failed: unknown;
    // The server's own words when the connection broke between queries (e.g. 57P01
    // from pg_terminate_backend): the next query only says "not queryable".
    let connectionError: unknown;
    const onError = (e: unknown) => {
      connectionError ??= e;
      failed ??= e;
    };
    client.on("error", onError);
    const state = new TxState();
    const query = (text: string, values?: readonly SqlValue[]) => {
      this.stats.statements++;
      return client.query(text, values as unknown[] | undefined);
    };
    try {
      await query("BEGIN ISOLATION LEVEL SERIALIZABLE");
      const out = await fn(this.tx(state, query));
      state.open = false;
      await query("COMMIT");
      return out;
    } catch (e) {
      state.open = false;
      failed ??= e;
      try {
        await query("ROLLBACK");
      } catch {
        // The connection is gone: the server rolls back an unfinished transaction itself.
      }
      throw asDbUnavailable(connectionError !== undefined && !(e instanceof UploadError) ? connectionError : e);
    } finally {
      client.removeListener("error", onError);
      // release(true) destroys the client instead of returning it to the pool.
      client.release(failed === undefined ? undefined : true);
    }
  }

  private tx(state: TxState, query: (text: string, values?: readonly SqlValue[]) => Promise<pg.QueryResult>): Tx {
    return {
      backend: this.backend,
      insert: async (table: string, row: Row, idColumn: string) => {
        state.check();
        const columns = Object.keys(row);
        const r = await query(
          toPgPlaceholders(insertSql(table, columns, idColumn)),
          columns.map((c) => row[c]!),
        );
        const id = (r.rows[0] as Row | undefined)?.[idColumn];
        if (typeof id !== "number") throw new Error(`insert into ${table}: no numeric ${idColumn} returned`);
        return id;
      },
      select: async <R extends object = Row>(sql: string, params: readonly SqlValue[] = []) => {
        state.check();
        return (await query(toPgPlaceholders(sql), params)).rows as R[];
      },
      run: async (sql: string, params: readonly SqlValue[] = []) => {
        state.check();
        return (await query(toPgPlaceholders(sql), params)).rowCount ?? 0;
      },
      exec: async (sql: string) => {
        state.check();
        // No parameters: the simple-query protocol, which runs several statements.
        await query(sql);
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** "?" placeholders to PostgreSQL's $n, leaving '...' and "..." alone. */
export function toPgPlaceholders(sql: string): string {
  let out = "";
  let n = 0;
  let quote: string | null = null;
  for (const ch of sql) {
    if (quote !== null) {
      if (ch === quote) quote = null;
      out += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      out += ch;
    } else if (ch === "?") {
      out += `$${++n}`;
    } else {
      out += ch;
    }
  }
  return out;
}
