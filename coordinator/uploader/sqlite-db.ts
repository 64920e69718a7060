/**
 * The embedded results DB: one SQLite file (better-sqlite3), by default
 * <data_dir>/results.db next to the job tracker, but never the same file: the
 * results are the survey's product and outlive any tracker.
 *
 * Public API:
 *   class SqliteResultsDb implements ResultsDb
 *     new SqliteResultsDb(file, { busyTimeoutMs? })
 *
 * better-sqlite3 is synchronous and its own transaction() helper needs a
 * synchronous body, while upload bodies are async (the same code drives
 * PostgreSQL). So transactions are explicit BEGIN IMMEDIATE / COMMIT / ROLLBACK on
 * the one connection, and a promise queue runs them one at a time: two
 * transactions interleaving on one connection would be one transaction.
 * BEGIN IMMEDIATE takes the write lock up front, so a second process writing the
 * file makes us wait (busy_timeout) at BEGIN and then fail as DbUnavailable
 * (SQLITE_BUSY), never half-way through an upload.
 *
 * Pragmas: WAL (readers do not block the uploader), synchronous=FULL (a committed
 * upload survives a power cut: the coordinator marks the beam uploaded right
 * after the commit), foreign_keys=ON (SQLite leaves them off by default).
 */

import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { type DbStats, type ResultsDb, type Row, type SqlValue, type Tx, TxState, insertSql } from "./db";
import { asDbUnavailable } from "./errors";

export interface SqliteOptions {
  /** How long BEGIN waits for another writer before SQLITE_BUSY (default 5000 ms). */
  busyTimeoutMs?: number;
}

export class SqliteResultsDb implements ResultsDb {
  readonly backend = "sqlite" as const;
  readonly stats: DbStats = { statements: 0, transactions: 0 };
  readonly file: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(file: string, options: SqliteOptions = {}) {
    this.file = file;
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    try {
      this.db = new Database(file);
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = FULL");
      this.db.pragma("foreign_keys = ON");
    } catch (e) {
      throw asDbUnavailable(e);
    }
  }

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const run = () => this.runTransaction(fn);
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runTransaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const state = new TxState();
    this.stats.transactions++;
    try {
      this.prepared("BEGIN IMMEDIATE").run();
    } catch (e) {
      throw asDbUnavailable(e);
    }
    try {
      const out = await fn(this.tx(state));
      state.open = false;
      this.prepared("COMMIT").run();
      return out;
    } catch (e) {
      state.open = false;
      if (this.db.inTransaction) {
        try {
          this.prepared("ROLLBACK").run();
        } catch {
          // The original error matters more; SQLite rolls back on close anyway.
        }
      }
      throw asDbUnavailable(e);
    }
  }

  private tx(state: TxState): Tx {
    return {
      backend: this.backend,
      insert: async (table: string, row: Row, idColumn: string) => {
        state.check();
        const columns = Object.keys(row);
        const out = this.prepared(insertSql(table, columns, idColumn)).get(...columns.map((c) => bindable(row[c]!))) as Row;
        const id = out[idColumn];
        if (typeof id !== "number") throw new Error(`insert into ${table}: no numeric ${idColumn} returned`);
        return id;
      },
      select: async <R extends object = Row>(sql: string, params: readonly SqlValue[] = []) => {
        state.check();
        return this.prepared(sql).all(...params.map(bindable)) as R[];
      },
      run: async (sql: string, params: readonly SqlValue[] = []) => {
        state.check();
        return this.prepared(sql).run(...params.map(bindable)).changes;
      },
      exec: async (sql: string) => {
        state.check();
        this.stats.statements++;
        this.db.exec(sql);
      },
    };
  }

  /** Statements are prepared once per SQL text (the uploader sends the same dozen over and over). */
  private prepared(sql: string): Database.Statement {
    this.stats.statements++;
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  async close(): Promise<void> {
    await this.queue;
    this.statements.clear();
    if (this.db.open) this.db.close();
  }
}

/** better-sqlite3 takes these as they are; undefined would be an error in our code, not a NULL. */
function bindable(v: SqlValue): SqlValue {
  if (v === undefined) throw new Error("undefined bound as an SQL parameter");
  return v;
}
