// Executes one row of the state tables (states.ts) as one guarded UPDATE.
import type Database from "better-sqlite3";
import { ATTEMPT_TRANSITIONS, JOB_TRANSITIONS, type AttemptTransition, type JobTransition, type Transition } from "./states";

/** Raised when a row is not in a state the transition may start from, or is owned by someone else. */
export class IllegalTransition extends Error {
  constructor(
    readonly kind: "job" | "attempt",
    readonly id: number,
    readonly transition: string,
    readonly actual: { status: string; owner: string | number | null } | undefined,
    readonly expected: { from: readonly string[]; owner?: string | number },
  ) {
    const now = actual ? `it is ${actual.status}${actual.owner != null ? ` (owned by ${actual.owner})` : ""}` : "it does not exist";
    const want = `from ${expected.from.join("/")}${expected.owner != null ? ` as ${expected.owner}` : ""}`;
    super(`${kind} ${id}: cannot ${transition} ${want}: ${now}`);
    this.name = "IllegalTransition";
  }
}

export function guardedUpdate(table: string, ownerColumn: string, t: Transition<string>): string {
  const from = t.from.map((s) => `'${s}'`).join(", ");
  const sets = ["status = @to", "updated_at = @now", ...(t.set ? [t.set] : [])];
  const where = [`id = @id`, `status IN (${from})`, ...(t.owner ? [`${ownerColumn} = @owner`] : []), ...(t.when ? [t.when] : [])];
  return `UPDATE ${table} SET ${sets.join(", ")} WHERE ${where.join(" AND ")}`;
}

type Params = Record<string, string | number | null>;

/** Prepared statements for every transition, so each call is a single statement execution. */
export class Transitions {
  private readonly jobStmts = new Map<string, Database.Statement>();
  private readonly attemptStmts = new Map<string, Database.Statement>();
  private readonly jobState: Database.Statement;
  private readonly attemptState: Database.Statement;

  constructor(private readonly db: Database.Database) {
    // The job's type comes back with the move, for the outcome its listeners are told.
    for (const [name, t] of Object.entries(JOB_TRANSITIONS)) {
      this.jobStmts.set(name, db.prepare(`${guardedUpdate("jobs", "current_attempt_id", t)} RETURNING job_type`));
    }
    for (const [name, t] of Object.entries(ATTEMPT_TRANSITIONS)) this.attemptStmts.set(name, db.prepare(guardedUpdate("job_submits", "agent_id", t)));
    this.jobState = db.prepare("SELECT status, current_attempt_id AS owner FROM jobs WHERE id = ?");
    this.attemptState = db.prepare("SELECT status, agent_id AS owner FROM job_submits WHERE id = ?");
  }

  /**
   * Moves a job; `attempt` is the attempt that must own it (for owner transitions) or becomes
   * its owner (assign). Returns the job's type.
   */
  job(name: JobTransition, id: number, attempt: number | null, extra: Params = {}, now = Date.now() / 1000): string {
    const t: Transition<string> = JOB_TRANSITIONS[name];
    const params = { id, to: t.to, now, owner: attempt, attempt, ...extra };
    const moved = this.jobStmts.get(name)!.get(params) as { job_type: string } | undefined;
    if (!moved) {
      throw new IllegalTransition("job", id, name, this.jobState.get(id) as never, { from: t.from, owner: t.owner ? (attempt ?? undefined) : undefined });
    }
    return moved.job_type;
  }

  /** Moves an attempt; `agent` is the agent that must hold it (for owner transitions). */
  attempt(name: AttemptTransition, id: number, agent: string | null, extra: Params = {}, now = Date.now() / 1000): void {
    const t: Transition<string> = ATTEMPT_TRANSITIONS[name];
    const params = { id, to: t.to, now, owner: agent, ...extra };
    if (this.attemptStmts.get(name)!.run(params).changes !== 1) {
      throw new IllegalTransition("attempt", id, name, this.attemptState.get(id) as never, { from: t.from, owner: t.owner ? (agent ?? undefined) : undefined });
    }
  }
}
