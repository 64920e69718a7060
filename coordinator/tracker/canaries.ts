// The tracker's record of canary runs: one canary_runs row per run, made with its
// beam's file and its job in one transaction, and the run's verdict. A canary job
// that ends without success is taken out of the queue (states.ts: endCanary), so it
// is never searched again. Each public method is one short transaction.
import type Database from "better-sqlite3";
import { CANARY_JOB_TYPE } from "../../shared/protocol/job-types";
import type { CanaryRunRow, CanaryTrigger, Reservation } from "./rows";
import type { Transitions } from "./transitions";

export type { CanaryRunRow, CanaryTrigger } from "./rows";

export interface NewCanaryRun {
  agentId: string;
  trigger: CanaryTrigger;
  pulsar: { periodS: number; dm: number; snr: number };
}

const now = () => Date.now() / 1000;

export class CanaryRecords {
  private readonly s;

  constructor(
    private readonly db: Database.Database,
    private readonly moves: Transitions,
  ) {
    this.s = {
      insertRun: db.prepare(`INSERT INTO canary_runs (agent_id, trigger, period_s, dm, snr, status, started_at)
                             VALUES (@agent, @trigger, @period, @dm, @snr, 'running', @now)`),
      insertFile: db.prepare(`INSERT INTO files (filename, size, sha256, status, details, created_at, updated_at)
                              VALUES (@filename, @size, @sha256, 'downloaded', 'canary beam', @now, @now)`),
      insertJob: db.prepare(`INSERT INTO jobs (beam, job_type, spec_json, cores, memory, shm, status, created_at, updated_at)
                             VALUES (@beam, @job_type, @spec_json, @cores, @memory, @shm, 'new', @now, @now)`),
      linkFile: db.prepare("INSERT INTO job_files (job_id, file_id, created_at) VALUES (?, ?, ?)"),
      setJob: db.prepare("UPDATE canary_runs SET job_id = ? WHERE id = ?"),
      finish: db.prepare(`UPDATE canary_runs SET status = @status, summary = @summary, finished_at = @now
                          WHERE id = @id AND status = 'running'`),
      byId: db.prepare("SELECT * FROM canary_runs WHERE id = ?"),
      byJob: db.prepare("SELECT * FROM canary_runs WHERE job_id = ?"),
      running: db.prepare("SELECT * FROM canary_runs WHERE status = 'running' ORDER BY id"),
      runningOf: db.prepare("SELECT * FROM canary_runs WHERE status = 'running' AND agent_id = ? ORDER BY id"),
      latestOf: db.prepare("SELECT * FROM canary_runs WHERE agent_id = ? ORDER BY id DESC LIMIT 1"),
      lastStarted: db.prepare("SELECT MAX(started_at) AS t FROM canary_runs WHERE agent_id = ?"),
      jobStatus: db.prepare("SELECT status FROM jobs WHERE id = ?"),
      setJobDetails: db.prepare("UPDATE jobs SET details = @details WHERE id = @id"),
    };
  }

  /** Records a run before its beam exists (its id seeds the beam); the job follows with attachJob. */
  begin(run: NewCanaryRun): number {
    return Number(
      this.s.insertRun.run({
        agent: run.agentId,
        trigger: run.trigger,
        period: run.pulsar.periodS,
        dm: run.pulsar.dm,
        snr: run.pulsar.snr,
        now: now(),
      }).lastInsertRowid,
    );
  }

  /** The run's beam file and its job, pinned to the run's agent, in one transaction. */
  attachJob(runId: number, beam: string, file: { path: string; size: number; sha256: string }, spec: unknown, r: Reservation): number {
    return this.db.transaction(() => {
      const t = now();
      const fileId = Number(this.s.insertFile.run({ filename: file.path, size: file.size, sha256: file.sha256, now: t }).lastInsertRowid);
      const jobId = Number(
        this.s.insertJob.run({ beam, job_type: CANARY_JOB_TYPE, spec_json: JSON.stringify(spec), cores: r.cores, memory: r.memory, shm: r.shm, now: t })
          .lastInsertRowid,
      );
      this.s.linkFile.run(jobId, fileId, t);
      this.s.setJob.run(jobId, runId);
      return jobId;
    })();
  }

  /**
   * The verdict. A failed run's job, if it is still waiting (its attempt failed and it
   * would be retried), leaves the queue for good. Returns false when the run had ended.
   */
  finish(runId: number, passed: boolean, summary: string): boolean {
    return this.db.transaction(() => {
      if (this.s.finish.run({ id: runId, status: passed ? "passed" : "failed", summary, now: now() }).changes === 0) return false;
      const run = this.get(runId)!;
      if (!passed && run.job_id != null) {
        const job = this.s.jobStatus.get(run.job_id) as { status: string } | undefined;
        if (job && (job.status === "new" || job.status === "retrying")) this.moves.job("endCanary", run.job_id, null);
        this.s.setJobDetails.run({ id: run.job_id, details: `canary failed: ${summary}` });
      } else if (run.job_id != null) {
        this.s.setJobDetails.run({ id: run.job_id, details: `canary passed: ${summary}` });
      }
      return true;
    })();
  }

  get(runId: number): CanaryRunRow | undefined {
    return this.s.byId.get(runId) as CanaryRunRow | undefined;
  }
  ofJob(jobId: number): CanaryRunRow | undefined {
    return this.s.byJob.get(jobId) as CanaryRunRow | undefined;
  }
  running(): CanaryRunRow[] {
    return this.s.running.all() as CanaryRunRow[];
  }
  runningOf(agentId: string): CanaryRunRow[] {
    return this.s.runningOf.all(agentId) as CanaryRunRow[];
  }
  /** The agent's newest run. */
  latestOf(agentId: string): CanaryRunRow | undefined {
    return this.s.latestOf.get(agentId) as CanaryRunRow | undefined;
  }
  lastStartedAt(agentId: string): number | null {
    return (this.s.lastStarted.get(agentId) as { t: number | null }).t;
  }
}
