// The job tracker: the only truth about jobs, attempts and agents. Each public
// method that changes state is one short transaction made of guarded
// transitions (transitions.ts); better-sqlite3 is synchronous, so none of them
// yields to the event loop half-way.
import crypto from "node:crypto";
import type Database from "better-sqlite3";
import { Transitions } from "./transitions";
import { UploadRecords } from "./uploads";
import { CanaryRecords } from "./canaries";
import { FileRecords } from "./files";
import { DownloadRecords } from "./downloads";
import { TrackerReports } from "./reports";
import { FsckQueries } from "./fsck-queries";
import { AgentAccess } from "./agent-access";
import type { AgentRow, AttemptRow, DiagnosticRow, DrainedBy, FileRow, JobOutcome, JobRow, Reservation, StepRow } from "./rows";
import {
  WAITING_JOB_STATES,
  isNodeFault,
  isTerminalFault,
  LIVE_ATTEMPT_SQL,
  NODE_FAULT_OTHER_NODES_LIMIT,
  sqlStates,
  STREAK_ATTEMPT_STATES,
  type JobState,
} from "./states";

export type { AgentRow, AttemptRow, DiagnosticRow, DrainedBy, FileRow, JobOutcome, JobRow, Reservation, StepRow } from "./rows";

export interface NewStep {
  idx: number;
  name: string;
  argv: string[];
  startedAt: number;
  wallS?: number;
  cpuS?: number;
  exitCode?: number;
  signal?: string;
  error?: string;
}

/** A step as its agent reported it while the attempt ran. */
export interface LiveStepReport {
  attemptId: number;
  agentId: string;
  step: NewStep;
}

function stepParams(attemptId: number, step: NewStep) {
  return {
    attempt: attemptId,
    idx: step.idx,
    name: step.name,
    argv: JSON.stringify(step.argv),
    started: step.startedAt,
    wall: step.wallS ?? null,
    cpu: step.cpuS ?? null,
    exit: step.exitCode ?? null,
    signal: step.signal ?? "",
    error: step.error ?? "",
  };
}

function sameStep(row: StepRow | undefined, p: ReturnType<typeof stepParams>): boolean {
  return (
    row !== undefined &&
    row.name === p.name &&
    row.argv_json === p.argv &&
    row.started_at === p.started &&
    row.wall_s === p.wall &&
    row.cpu_s === p.cpu &&
    row.exit_code === p.exit &&
    row.signal === p.signal &&
    row.error === p.error
  );
}

const now = () => Date.now() / 1000;
export type AgentGaugeRow = Pick<AgentRow, "id" | "revoked_at" | "last_seen_at" | "resources_json">;

export const hashToken = (token: string) => crypto.createHash("sha256").update(token).digest("hex");

export class Tracker {
  readonly moves: Transitions;
  readonly uploads: UploadRecords;
  readonly canaries: CanaryRecords;
  readonly files: FileRecords;
  /** restore requests, downloaded files and their transfers (the downloader) */
  readonly downloads: DownloadRecords;
  readonly reports: TrackerReports;
  readonly fsck: FsckQueries;
  /** enrolment tokens, revoked and removed agents */
  readonly access: AgentAccess;
  private readonly s;

  /** The database stays inside the tracker: every statement is one of its named queries. */
  constructor(private readonly db: Database.Database) {
    this.moves = new Transitions(db);
    this.uploads = new UploadRecords(db, this.moves);
    this.canaries = new CanaryRecords(db, this.moves);
    this.files = new FileRecords(db);
    this.downloads = new DownloadRecords(db);
    this.reports = new TrackerReports(db);
    this.fsck = new FsckQueries(db, this.moves);
    this.access = new AgentAccess(db);
    this.s = {
      insertJob: db.prepare(`INSERT INTO jobs (beam, job_type, spec_json, cores, memory, shm, status, created_at, updated_at)
                             VALUES (@beam, @job_type, @spec_json, @cores, @memory, @shm, 'new', @now, @now)`),
      insertJobFile: db.prepare("INSERT INTO job_files (job_id, file_id, created_at) VALUES (?, ?, ?)"),
      insertAttempt: db.prepare(`INSERT INTO job_submits (job_id, agent_id, status, cores, memory, shm, lease_expires_at, created_at, updated_at)
                                 VALUES (@job, @agent, 'assigned', @cores, @memory, @shm, @lease, @now, @now)`),
      anyWaiting: db.prepare(`SELECT 1 FROM jobs WHERE status IN (${sqlStates(WAITING_JOB_STATES)}) LIMIT 1`),
      waiting: db.prepare(
        `SELECT * FROM jobs WHERE status = @status AND not_before <= @now AND cores <= @cores AND memory <= @memory AND shm <= @shm
           AND job_type IN (SELECT value FROM json_each(@types)) ORDER BY id LIMIT @limit`,
      ),
      job: db.prepare("SELECT * FROM jobs WHERE id = ?"),
      attempt: db.prepare("SELECT * FROM job_submits WHERE id = ?"),
      attemptsOfJob: db.prepare("SELECT * FROM job_submits WHERE job_id = ? ORDER BY id"),
      agentsOfJob: db.prepare("SELECT DISTINCT agent_id FROM job_submits WHERE job_id = ?"),
      nodeFaultsElsewhere: db.prepare("SELECT COUNT(DISTINCT agent_id) AS n FROM job_submits WHERE job_id = ? AND status = 'node_failed' AND agent_id != ?"),
      liveAttempts: db.prepare(`SELECT * FROM job_submits WHERE status IN ${LIVE_ATTEMPT_SQL} ORDER BY id`),
      expired: db.prepare(`SELECT * FROM job_submits WHERE status IN ${LIVE_ATTEMPT_SQL} AND lease_expires_at <= ? ORDER BY lease_expires_at`),
      nextExpiry: db.prepare(`SELECT MIN(lease_expires_at) AS t FROM job_submits WHERE status IN ${LIVE_ATTEMPT_SQL}`),
      // Assigned ones too: an agent that names one holds it, and may be holding its accept back.
      renew: db.prepare(`UPDATE job_submits SET lease_expires_at = @lease WHERE id = @id AND agent_id = @agent AND status IN ${LIVE_ATTEMPT_SQL}`),
      extendAll: db.prepare(`UPDATE job_submits SET lease_expires_at = MAX(lease_expires_at, @lease) WHERE status IN ${LIVE_ATTEMPT_SQL}`),
      setAttemptError: db.prepare("UPDATE job_submits SET error_class = @error_class, details = @details WHERE id = @id"),
      setJobDetails: db.prepare("UPDATE jobs SET details = @details WHERE id = @id"),
      setOutputDir: db.prepare("UPDATE job_submits SET output_dir = ? WHERE id = ?"),
      upsertStep: db.prepare(`INSERT INTO attempt_steps (attempt_id, idx, name, argv_json, started_at, wall_s, cpu_s, exit_code, signal, error)
                              VALUES (@attempt, @idx, @name, @argv, @started, @wall, @cpu, @exit, @signal, @error)
                              ON CONFLICT (attempt_id, idx) DO UPDATE SET name = excluded.name, argv_json = excluded.argv_json,
                                started_at = excluded.started_at, wall_s = excluded.wall_s, cpu_s = excluded.cpu_s,
                                exit_code = excluded.exit_code, signal = excluded.signal, error = excluded.error`),
      upsertOwnStep: db.prepare(`INSERT INTO attempt_steps (attempt_id, idx, name, argv_json, started_at, wall_s, cpu_s, exit_code, signal, error)
                                 SELECT @attempt, @idx, @name, @argv, @started, @wall, @cpu, @exit, @signal, @error
                                 WHERE EXISTS (SELECT 1 FROM job_submits WHERE id = @attempt AND agent_id = @agent)
                                 ON CONFLICT (attempt_id, idx) DO UPDATE SET name = excluded.name, argv_json = excluded.argv_json,
                                   started_at = excluded.started_at, wall_s = excluded.wall_s, cpu_s = excluded.cpu_s,
                                   exit_code = excluded.exit_code, signal = excluded.signal, error = excluded.error`),
      steps: db.prepare("SELECT * FROM attempt_steps WHERE attempt_id = ? ORDER BY idx"),
      upsertDiagnostic: db.prepare(`INSERT INTO diagnostics (attempt_id, name, value, text, updated_at) VALUES (@attempt, @name, @value, @text, @now)
                                    ON CONFLICT (attempt_id, name) DO UPDATE SET value = excluded.value, text = excluded.text, updated_at = excluded.updated_at`),
      diagnosticsOfJob: db.prepare(`SELECT d.attempt_id, d.name, d.value, d.text FROM diagnostics d JOIN job_submits a ON a.id = d.attempt_id
                                    WHERE a.job_id = ? ORDER BY d.attempt_id, d.name`),
      agent: db.prepare("SELECT * FROM agents WHERE id = ?"),
      // Removed agents stay only as history (attempts name them): they are no agents any more.
      agents: db.prepare("SELECT * FROM agents WHERE removed_at IS NULL ORDER BY id"),
      agentsPage: db.prepare(
        `SELECT * FROM agents WHERE removed_at IS NULL AND id > @after AND (@ids IS NULL OR id IN (SELECT value FROM json_each(@ids)))
           ORDER BY id LIMIT @limit`,
      ),
      agentCount: db.prepare("SELECT COUNT(*) AS n FROM agents WHERE removed_at IS NULL"),
      agentGaugeRows: db.prepare("SELECT id, revoked_at, last_seen_at, resources_json FROM agents WHERE removed_at IS NULL"),
      insertAgent: db.prepare("INSERT INTO agents (id, token_hash, registered_at) VALUES (?, ?, ?)"),
      // A new credential re-admits a revoked agent, and a removed one as a registered (not ephemeral) agent.
      rotateAgent: db.prepare("UPDATE agents SET token_hash = ?, revoked_at = NULL, removed_at = NULL, ephemeral = 0 WHERE id = ?"),
      agentHello: db.prepare(
        `UPDATE agents SET hostname = @hostname, version = @version, labels_json = @labels, resources_json = @resources, last_seen_at = @now WHERE id = @id`,
      ),
      // Guarded: an agent revoked or removed meanwhile is not seen (its session closes at this heartbeat).
      agentSeen: db.prepare("UPDATE agents SET resources_json = @resources, last_seen_at = @now WHERE id = @id AND revoked_at IS NULL AND removed_at IS NULL"),
      drain: db.prepare("UPDATE agents SET drained = 1, drain_reason = @reason, drained_by = @by, drained_at = @now WHERE id = @id AND removed_at IS NULL"),
      undrain: db.prepare(
        "UPDATE agents SET drained = 0, drain_reason = '', drained_by = '', drained_at = NULL, streak_since = @now WHERE id = @id AND removed_at IS NULL",
      ),
      setCapabilities: db.prepare("UPDATE agents SET capabilities_json = @capabilities WHERE id = @id"),
      // The agent's failed attempts after its last success (ties in time broken by id) and after
      // the streak was last reset.
      streak: db.prepare(`WITH last_ok AS (SELECT finished_at AS t, id FROM job_submits WHERE agent_id = @agent AND status = 'processed'
                                           ORDER BY finished_at DESC, id DESC LIMIT 1)
                          SELECT a.* FROM job_submits a
                          WHERE a.agent_id = @agent AND a.status IN (${sqlStates(STREAK_ATTEMPT_STATES)}) AND a.finished_at > @since
                            AND NOT EXISTS (SELECT 1 FROM last_ok WHERE a.finished_at < last_ok.t OR (a.finished_at = last_ok.t AND a.id < last_ok.id))
                          ORDER BY a.finished_at, a.id`),
      filesOfJob: db.prepare("SELECT f.* FROM files f JOIN job_files jf ON jf.file_id = f.id WHERE jf.job_id = ? ORDER BY f.filename"),
      markFileDeleted: db.prepare("UPDATE files SET status = 'deleted', details = @details, updated_at = @now WHERE id = @id"),
    };
  }

  /** Runs `fn` as one transaction (nested calls join the outer one), so its queries and moves land together. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    this.db.close();
  }

  // ---- jobs -------------------------------------------------------------------------------

  createJob(job: { beam: string; jobType: string; spec: unknown; reservation: Reservation; fileIds?: number[] }): number {
    return this.db.transaction(() => {
      const t = now();
      const id = Number(
        this.s.insertJob.run({
          beam: job.beam,
          job_type: job.jobType,
          spec_json: JSON.stringify(job.spec ?? {}),
          cores: job.reservation.cores,
          memory: job.reservation.memory,
          shm: job.reservation.shm,
          now: t,
        }).lastInsertRowid,
      );
      for (const f of job.fileIds ?? []) this.s.insertJobFile.run(id, f, t);
      return id;
    })();
  }

  /** Whether any job waits for an agent (one index probe: the dispatcher's first question, asked at every heartbeat). */
  anyWaiting(): boolean {
    return this.s.anyWaiting.get() !== undefined;
  }

  /**
   * Jobs waiting for an agent: retries first (as PALFA), then new ones, oldest first; only
   * those that could start now (of a type some agent runs, within what some agent has
   * free), so that jobs that fit nowhere never hold back the ones behind them.
   */
  waitingJobs(limit: number, within: { cores: number; memory: number; shm: number; types: readonly string[] }): JobRow[] {
    const q = { now: now(), cores: within.cores, memory: within.memory, shm: within.shm, types: JSON.stringify(within.types) };
    const retrying = this.s.waiting.all({ ...q, status: "retrying", limit }) as JobRow[];
    if (retrying.length >= limit) return retrying;
    return retrying.concat(this.s.waiting.all({ ...q, status: "new", limit: limit - retrying.length }) as JobRow[]);
  }

  job(id: number): JobRow | undefined {
    return this.s.job.get(id) as JobRow | undefined;
  }
  attempt(id: number): AttemptRow | undefined {
    return this.s.attempt.get(id) as AttemptRow | undefined;
  }
  attemptsOfJob(jobId: number): AttemptRow[] {
    return this.s.attemptsOfJob.all(jobId) as AttemptRow[];
  }
  agentsThatTried(jobId: number): Set<string> {
    return new Set((this.s.agentsOfJob.all(jobId) as { agent_id: string }[]).map((r) => r.agent_id));
  }
  filesOfJob(jobId: number): FileRow[] {
    return this.s.filesOfJob.all(jobId) as FileRow[];
  }
  stepsOf(attemptId: number): StepRow[] {
    return this.s.steps.all(attemptId) as StepRow[];
  }
  diagnosticsOfJob(jobId: number): DiagnosticRow[] {
    return this.s.diagnosticsOfJob.all(jobId) as DiagnosticRow[];
  }

  // ---- attempts: each one transaction, the attempt's and the job's moves together ----------

  /** Writes the attempt (and its accept deadline) before Assign is sent. */
  assign(jobId: number, agentId: string, r: Reservation, acceptDeadline: number): number {
    return this.db.transaction(() => {
      const t = now();
      const attempt = Number(this.s.insertAttempt.run({ job: jobId, agent: agentId, ...r, lease: acceptDeadline, now: t }).lastInsertRowid);
      this.moves.job("assign", jobId, attempt, {}, t);
      return attempt;
    })();
  }

  accept(attemptId: number, agentId: string, leaseExpiresAt: number): void {
    this.moves.attempt("accept", attemptId, agentId, { lease_expires_at: leaseExpiresAt });
  }

  /** Not accepted in time or refused: the job waits again, nothing counted. */
  withdraw(attemptId: number, reason: string): JobOutcome {
    return this.endUncounted("withdraw", attemptId, "withdrawn", reason);
  }

  /** The lease ran out (or the agent came back without the attempt): requeue, nothing counted. */
  lose(attemptId: number, reason: string): JobOutcome {
    return this.endUncounted("lose", attemptId, "lost", reason);
  }

  succeed(attemptId: number, agentId: string): JobOutcome {
    return this.db.transaction(() => {
      const a = this.requireAttempt(attemptId);
      this.moves.attempt("succeed", attemptId, agentId);
      const jobType = this.moves.job("succeed", a.job_id, attemptId);
      return { job: a.job_id, status: "processed" as JobState, jobType, attempt: attemptId };
    })();
  }

  /**
   * A payload failure: counted; the job retries while attempts are left, else fails for good.
   * A failure whose class is the node's fault (NODE_FAULTS) is not counted (failOnNode), unless
   * the beam already failed that way on NODE_FAULT_OTHER_NODES_LIMIT other nodes. A failure that
   * no retry can mend (TERMINAL_FAULTS: bad input, too short) fails the job for good at once; a
   * retry waits `retryBackoffS`, doubled for each earlier counted failure.
   */
  fail(attemptId: number, agentId: string, errorClass: string, details: string, maxAttempts: number, retryBackoffS = 0): JobOutcome {
    return this.db.transaction(() => {
      const a = this.requireAttempt(attemptId);
      if (isNodeFault(errorClass)) {
        const elsewhere = (this.s.nodeFaultsElsewhere.get(a.job_id, agentId) as { n: number }).n;
        if (elsewhere < NODE_FAULT_OTHER_NODES_LIMIT) return this.failOnNode(attemptId, agentId, errorClass, details);
        details += ` (counted: the beam failed through "the node's fault" on ${elsewhere} other nodes already)`;
      }
      this.moves.attempt("fail", attemptId, agentId);
      this.s.setAttemptError.run({ id: attemptId, error_class: errorClass, details });
      if (isTerminalFault(errorClass)) {
        const jobType = this.moves.job("failAtOnce", a.job_id, attemptId);
        this.s.setJobDetails.run({ id: a.job_id, details: `attempt ${attemptId} failed (${errorClass}, not retried: trying again cannot help): ${details}` });
        return { job: a.job_id, status: "terminal_failure" as JobState, jobType, attempt: attemptId };
      }
      return this.failJob(a.job_id, attemptId, `attempt ${attemptId} failed: ${details}`, maxAttempts, retryBackoffS);
    })();
  }

  /** The node could not run the attempt: the job waits for another node, nothing counted. */
  failOnNode(attemptId: number, agentId: string, errorClass: string, details: string): JobOutcome {
    return this.db.transaction(() => {
      const a = this.requireAttempt(attemptId);
      this.moves.attempt("failOnNode", attemptId, agentId);
      this.s.setAttemptError.run({ id: attemptId, error_class: errorClass, details });
      const jobType = this.moves.job("requeueAfterNodeFault", a.job_id, attemptId);
      this.s.setJobDetails.run({ id: a.job_id, details: `attempt ${attemptId} failed on agent ${agentId}, not counted (the node's fault): ${details}` });
      return { job: a.job_id, status: "retrying" as JobState, jobType, attempt: attemptId };
    })();
  }

  /** Operator stop of a running job (PALFA stop_processing_jobs): polite requeues, --fail counts. */
  stop(jobId: number, countAsFailure: boolean, maxAttempts: number): { outcome: JobOutcome; attempt: AttemptRow } {
    return this.db.transaction(() => {
      const job = this.job(jobId);
      if (!job) throw new NotFound("job", jobId);
      if (job.status !== "submitted" || job.current_attempt_id == null) {
        throw new RefusedAction(`job ${jobId} is ${job.status}: only a submitted job can be stopped`);
      }
      const attemptId = job.current_attempt_id;
      const attempt = this.requireAttempt(attemptId);
      this.moves.attempt(countAsFailure ? "stop" : "cancel", attemptId, null);
      const why = countAsFailure ? "stopped by an operator (counted as a failure)" : "stopped politely by an operator";
      this.s.setAttemptError.run({ id: attemptId, error_class: "stopped", details: why });
      const outcome = countAsFailure
        ? this.failJob(jobId, attemptId, `attempt ${attemptId} ${why}`, maxAttempts)
        : { job: jobId, status: "retrying" as JobState, jobType: this.moves.job("requeue", jobId, attemptId), attempt: attemptId };
      return { outcome, attempt };
    })();
  }

  kill(jobId: number): JobOutcome {
    return this.db.transaction(() => {
      const job = this.job(jobId);
      if (!job) throw new NotFound("job", jobId);
      if (job.status !== "new" && job.status !== "retrying") {
        throw new RefusedAction(
          `job ${jobId} is ${job.status}: only new or retrying jobs can be killed${job.status === "submitted" ? " (stop it first)" : ""}`,
        );
      }
      const jobType = this.moves.job("kill", jobId, null);
      this.s.setJobDetails.run({ id: jobId, details: "killed by an operator" });
      return { job: jobId, status: "terminal_failure" as JobState, jobType, attempt: null };
    })();
  }

  failPrecheck(jobId: number, details: string): JobOutcome {
    return this.db.transaction(() => {
      const jobType = this.moves.job("failPrecheck", jobId, null);
      this.s.setJobDetails.run({ id: jobId, details });
      return { job: jobId, status: "terminal_failure" as JobState, jobType, attempt: null };
    })();
  }

  retry(jobId: number): JobOutcome {
    return this.db.transaction(() => {
      const job = this.job(jobId);
      if (!job) throw new NotFound("job", jobId);
      if (job.status === "upload_failed") {
        const jobType = this.moves.job("retryUpload", jobId, null);
        return { job: jobId, status: "processed" as JobState, jobType, attempt: job.current_attempt_id };
      }
      if (job.status !== "terminal_failure")
        throw new RefusedAction(`job ${jobId} is ${job.status}: only a job in terminal_failure or upload_failed can be retried`);
      const gone = this.filesOfJob(jobId).filter((f) => f.status === "deleted");
      if (gone.length) throw new RefusedAction(`job ${jobId} cannot be searched again: its raw data was deleted (${gone.map((f) => f.filename).join(", ")})`);
      const jobType = this.moves.job("retry", jobId, null);
      return { job: jobId, status: "retrying" as JobState, jobType, attempt: null };
    })();
  }

  private failJob(jobId: number, attemptId: number, details: string, maxAttempts: number, retryBackoffS = 0): JobOutcome {
    const job = this.job(jobId)!;
    const last = job.failures + 1 >= maxAttempts;
    const notBefore = now() + retryBackoffS * 2 ** job.failures;
    const jobType = this.moves.job(last ? "failForGood" : "failAndRetry", jobId, attemptId, { max_attempts: maxAttempts, not_before: notBefore });
    this.s.setJobDetails.run({ id: jobId, details });
    return { job: jobId, status: last ? "terminal_failure" : "retrying", jobType, attempt: attemptId };
  }

  private endUncounted(move: "withdraw" | "lose", attemptId: number, errorClass: string, reason: string): JobOutcome {
    return this.db.transaction(() => {
      const a = this.requireAttempt(attemptId);
      this.moves.attempt(move, attemptId, null);
      this.s.setAttemptError.run({ id: attemptId, error_class: errorClass, details: reason });
      const jobType = this.moves.job("requeue", a.job_id, attemptId);
      return { job: a.job_id, status: "retrying" as JobState, jobType, attempt: attemptId };
    })();
  }

  private requireAttempt(id: number): AttemptRow {
    const a = this.attempt(id);
    if (!a) throw new NotFound("attempt", id);
    return a;
  }

  // ---- leases -----------------------------------------------------------------------------

  /** Renews the leases of the attempts an agent reports; returns those that are not its (any more). */
  renewLeases(agentId: string, attemptIds: number[], leaseExpiresAt: number): number[] {
    const stale: number[] = [];
    this.db.transaction(() => {
      for (const id of attemptIds) {
        if (this.s.renew.run({ id, agent: agentId, lease: leaseExpiresAt }).changes === 0) stale.push(id);
      }
    })();
    return stale;
  }

  /** After a coordinator restart: leases may have run out while nobody could renew them. */
  extendLiveLeases(until: number): number {
    return this.s.extendAll.run({ lease: until }).changes;
  }

  liveAttempts(): AttemptRow[] {
    return this.s.liveAttempts.all() as AttemptRow[];
  }
  expiredAttempts(at: number): AttemptRow[] {
    return this.s.expired.all(at) as AttemptRow[];
  }
  nextLeaseExpiry(): number | null {
    return (this.s.nextExpiry.get() as { t: number | null }).t;
  }

  // ---- steps and diagnostics --------------------------------------------------------------

  /**
   * Live step reports of running attempts, several attempts' at once, in one transaction.
   * Each row is written only while its attempt is the reporting agent's: a report that
   * arrives after the attempt went elsewhere touches nothing.
   */
  recordLiveSteps(reports: readonly LiveStepReport[]): void {
    this.db.transaction(() => {
      for (const r of reports) this.s.upsertOwnStep.run({ ...stepParams(r.attemptId, r.step), agent: r.agentId });
    })();
  }

  /**
   * An attempt's steps as its result lists them; rows already stored as they are (its live
   * reports wrote most of them) are not written again.
   */
  recordSteps(attemptId: number, steps: readonly NewStep[]): void {
    this.db.transaction(() => {
      const stored = new Map((this.s.steps.all(attemptId) as StepRow[]).map((r) => [r.idx, r]));
      for (const step of steps) {
        const params = stepParams(attemptId, step);
        if (!sameStep(stored.get(step.idx), params)) this.s.upsertStep.run(params);
      }
    })();
  }

  /** Where the attempt's agent keeps its results (set with the result, before the state moves). */
  recordOutputDir(attemptId: number, dir: string): void {
    this.s.setOutputDir.run(dir, attemptId);
  }

  /** A raw data file was removed from disk (PALFA's files status 'deleted'). */
  markFileDeleted(fileId: number, details: string): void {
    this.s.markFileDeleted.run({ id: fileId, details, now: now() });
  }

  recordDiagnostic(attemptId: number, name: string, value: number | null, text: string): void {
    this.s.upsertDiagnostic.run({ attempt: attemptId, name, value, text, now: now() });
  }

  // ---- agents -----------------------------------------------------------------------------

  /** Registers an agent and returns its token (only the hash is kept). */
  registerAgent(id: string, rotate: boolean): string {
    const token = crypto.randomBytes(24).toString("base64url");
    const existing = this.agent(id);
    if (existing && existing.removed_at == null && !rotate)
      throw new RefusedAction(
        existing.revoked_at != null
          ? `agent ${id} is revoked (use --rotate to issue a new token and re-admit it)`
          : `agent ${id} is registered already (use --rotate to issue a new token)`,
      );
    if (existing) this.s.rotateAgent.run(hashToken(token), id);
    else this.s.insertAgent.run(id, hashToken(token), now());
    return token;
  }

  /** Registers an agent with a token chosen by the caller (for `beamflow up`'s local agent). */
  ensureAgent(id: string, token: string): void {
    const existing = this.agent(id);
    if (!existing) this.s.insertAgent.run(id, hashToken(token), now());
    else if (existing.token_hash !== hashToken(token)) this.s.rotateAgent.run(hashToken(token), id);
  }

  agent(id: string): AgentRow | undefined {
    return this.s.agent.get(id) as AgentRow | undefined;
  }
  agents(): AgentRow[] {
    return this.s.agents.all() as AgentRow[];
  }

  /** At most `limit` agents after the id `after` ("" for the first), in id order; only those of `ids` when given. */
  agentsPage(after: string, limit: number, ids?: readonly string[]): AgentRow[] {
    return this.s.agentsPage.all({ after, limit, ids: ids?.length ? JSON.stringify(ids) : null }) as AgentRow[];
  }

  /** What the metrics' agent gauges read of every agent. */
  agentGaugeRows(): AgentGaugeRow[] {
    return this.s.agentGaugeRows.all() as AgentGaugeRow[];
  }

  agentCount(): number {
    return (this.s.agentCount.get() as { n: number }).n;
  }

  recordHello(id: string, hello: { hostname: string; version: string; labels: Record<string, string>; resources: unknown }): void {
    this.s.agentHello.run({
      id,
      hostname: hello.hostname,
      version: hello.version,
      labels: JSON.stringify(hello.labels),
      resources: JSON.stringify(hello.resources ?? {}),
      now: now(),
    });
  }

  /** Records a heartbeat; false when the agent was revoked or removed meanwhile (its credential no longer counts). */
  recordSeen(id: string, resources: unknown, at = now()): boolean {
    return this.s.agentSeen.run({ id, resources: JSON.stringify(resources ?? {}), now: at }).changes === 1;
  }

  /** Records many agents' heartbeats in one transaction; returns the agents refused (revoked or removed meanwhile). */
  recordSeenMany(seen: readonly { id: string; resources: unknown; at: number }[]): string[] {
    const refused: string[] = [];
    this.db.transaction(() => {
      for (const s of seen) if (!this.recordSeen(s.id, s.resources, s.at)) refused.push(s.id);
    })();
    return refused;
  }

  /** What the agent last reported it can run (kept across restarts, so `agents` can say why a disconnected agent gets no beams); undefined if it never did. */
  capabilitiesOf(id: string): { toolchain?: string } | undefined {
    const json = this.agent(id)?.capabilities_json;
    return json ? (JSON.parse(json) as { toolchain?: string }) : undefined;
  }

  recordCapabilities(id: string, capabilities: unknown): void {
    this.s.setCapabilities.run({ id, capabilities: capabilities === undefined ? "" : JSON.stringify(capabilities) });
  }

  /** Stops beams to an agent, recording why and who decided (replacing an earlier reason). */
  drain(id: string, reason: string, by: DrainedBy): void {
    if (this.s.drain.run({ id, reason, by, now: now() }).changes === 0) throw new NotFound("agent", id);
  }

  /** Lets an agent take beams again; its failure streak starts over. */
  undrain(id: string): void {
    if (this.s.undrain.run({ id, now: now() }).changes === 0) throw new NotFound("agent", id);
  }

  /** The agent's failed attempts in a row: since its last processed attempt and its last undrain, oldest first. */
  failureStreak(agentId: string): AttemptRow[] {
    const since = this.agent(agentId)?.streak_since ?? 0;
    return this.s.streak.all({ agent: agentId, since }) as AttemptRow[];
  }
}

export class NotFound extends Error {
  constructor(
    readonly kind: string,
    readonly id: number | string,
  ) {
    super(`no ${kind} ${id}`);
    this.name = "NotFound";
  }
}

/** An operator action that the job's state does not allow; says why. */
export class RefusedAction extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedAction";
  }
}
