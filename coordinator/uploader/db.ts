/**
 * The one small interface both results-DB backends implement.
 *
 * Public API:
 *   type SqlValue, Row
 *   interface Tx            what a transaction body may do: insert a row, select,
 *                           run a statement, exec DDL
 *   interface ResultsDb     transaction(fn), close(), stats
 *   interface DbStats       statements sent (each one a round trip for PostgreSQL)
 *   insertSql(table, columns, idColumn): string
 *   checkIdentifier(name): string
 *
 * Every value reaches the DB as a bound parameter ("?" in the SQL; the PostgreSQL
 * backend renumbers them to $1, $2 ...), never spliced into the text: PALFA built
 * its SQL with string interpolation and a quote in an error message broke it
 * (palfa-reference.md §8 item 9). Table and column names do go into the text, so
 * they are checked against a plain-identifier pattern; they only ever come from
 * this module's code, never from files.
 *
 * Errors: a transaction whose body throws, or whose COMMIT fails, is rolled back
 * and the error is rethrown; driver errors that mean "try again later" come out as
 * DbUnavailable (see errors.ts), everything else unchanged.
 */

import type { Backend } from "./schema";

export type SqlValue = null | number | bigint | string | Buffer;
export type Row = Record<string, SqlValue>;

export interface Tx {
  readonly backend: Backend;
  /** INSERT one row and return its generated key (INSERT ... RETURNING idColumn). */
  insert(table: string, row: Row, idColumn: string): Promise<number>;
  select<T extends object = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** A statement without a result set; returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  /** Several parameterless statements at once (migrations). */
  exec(sql: string): Promise<void>;
}

export interface DbStats {
  /** Statements sent, BEGIN/COMMIT/ROLLBACK included. */
  statements: number;
  transactions: number;
}

export interface ResultsDb {
  readonly backend: Backend;
  readonly stats: DbStats;
  /**
   * Runs fn inside one transaction: COMMIT if it resolves, ROLLBACK if it throws.
   * The Tx must not be used after fn has settled.
   */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function checkIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a plain SQL identifier: ${JSON.stringify(name)}`);
  return name;
}

export function insertSql(table: string, columns: readonly string[], idColumn: string): string {
  if (columns.length === 0) throw new Error(`insert into ${table}: no columns`);
  const cols = columns.map(checkIdentifier).join(", ");
  const marks = columns.map(() => "?").join(", ");
  return `INSERT INTO ${checkIdentifier(table)} (${cols}) VALUES (${marks}) RETURNING ${checkIdentifier(idColumn)}`;
}

/** Guards against a transaction body that keeps using its Tx after it returned. */
export class TxState {
  open = true;
  check(): void {
    if (!this.open) throw new Error("results DB transaction already finished: the Tx was used after its body settled");
  }
}
