// Moves processed palfa-search jobs on to `uploaded`: parses the current attempt's
// results dir on the coordinator, stores it in the results DB in one transaction
// (upload.ts), then makes the tracker move. PALFA's JobUploader loop, event-driven:
// a job is taken when it becomes processed (and at start for those already
// processed); the only timers are retry delays.
//
// Two kinds of failure, never confused:
//  - the results are wrong (UploadError: checksum, parse, mismatch, compare) or the
//    upload broke in a way nobody expected: counted against results.upload_max_attempts,
//    retried after upload_retry_s, then `upload_failed`. The beam is never searched again.
//  - the results DB is down or busy (DbUnavailable): not counted, the job stays
//    processed and the same upload is tried again with exponential backoff.
import { EventEmitter } from "node:events";
import type { Logger } from "../../shared/logging/logger";
import type { JobOutcome, Tracker } from "../tracker/tracker";
import { IllegalTransition } from "../tracker/transitions";
// Survey beams only: canary runs' results are judged and kept apart, never uploaded.
import { SEARCH_JOB_TYPE } from "../../shared/protocol/job-types";
import type { ResultsDb } from "./db";
import { UploadError, classifyDbError } from "./errors";
import { parseResultsDir } from "./parse";
import { upload, type UploadResult } from "./upload";

export interface JobUploaderSettings {
  /** results.upload_max_attempts */
  maxAttempts: number;
  /** results.upload_retry_s */
  retryS: number;
  /** results.db_backoff_max_s */
  dbBackoffMaxS: number;
  /** first pause after the DB was found unavailable (default 1 s) */
  dbBackoffInitialS?: number;
}

/** One try at an upload, for metrics: how long it took and how it ended. */
export interface UploadTry {
  job: number;
  seconds: number;
  outcome: "uploaded" | "already_uploaded" | "upload_failed" | "db_unavailable";
}

export class JobUploader extends EventEmitter<{ finished: [UploadTry] }> {
  private readonly ready = new Set<number>();
  private readonly timers = new Map<number, NodeJS.Timeout>();
  private draining: Promise<void> | null = null;
  private db: Promise<ResultsDb> | null = null;
  private dbBackoffS = 0;
  private stopped = false;

  constructor(
    private readonly tracker: Tracker,
    private readonly openDb: () => Promise<ResultsDb>,
    private readonly settings: JobUploaderSettings,
    private readonly log: Logger,
    /** told when the uploader moves a job out of processed (uploaded, upload_failed) */
    private readonly onMove: (o: JobOutcome) => void,
  ) {
    super();
  }

  /** Takes up the jobs left processed by an earlier run. */
  start(): void {
    const abandoned = this.tracker.uploads.abandonUnfinished();
    if (abandoned) this.log.warn({ abandoned }, "uploads interrupted by a coordinator stop will be tried again");
    for (const job of this.tracker.uploads.waiting(SEARCH_JOB_TYPE)) this.add(job.id);
  }

  /** A job became processed (or an operator asked for a new round of uploads). */
  add(jobId: number): void {
    if (this.stopped) return;
    const t = this.timers.get(jobId);
    if (t) {
      clearTimeout(t);
      this.timers.delete(jobId);
    }
    this.ready.add(jobId);
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
    });
  }

  /** Waits for the upload in progress, cancels the timers and closes the results DB. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.ready.clear();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await this.draining;
    const db = this.db;
    this.db = null;
    if (db) await db.then((d) => d.close()).catch(() => undefined);
  }

  /** Resolves when nothing is ready to upload (timers may still be pending). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private later(jobId: number, seconds: number): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(jobId);
      this.add(jobId);
    }, seconds * 1000);
    t.unref();
    this.timers.set(jobId, t);
  }

  private async drain(): Promise<void> {
    for (let next = this.first(); next !== undefined && !this.stopped; next = this.first()) {
      this.ready.delete(next);
      await this.uploadJob(next);
    }
  }

  private first(): number | undefined {
    return this.ready.values().next().value;
  }

  private database(): Promise<ResultsDb> {
    this.db ??= this.openDb().catch((err: unknown) => {
      this.db = null; // open (and migrate) again on the next try
      throw err;
    });
    return this.db;
  }

  private async uploadJob(jobId: number): Promise<void> {
    const job = this.tracker.job(jobId);
    if (!job || job.status !== "processed" || job.job_type !== SEARCH_JOB_TYPE || job.current_attempt_id == null) return;
    const attempt = this.tracker.attempt(job.current_attempt_id);
    if (!attempt) return;
    const log = this.log.child({ job: jobId, attempt: attempt.id });
    const uploadId = this.tracker.uploads.begin(jobId, attempt.id);
    const started = Date.now();
    let result: UploadResult;
    try {
      if (!attempt.output_dir) throw new UploadError("parse", `attempt ${attempt.id} has no results directory on the coordinator`);
      const parsed = await parseResultsDir(attempt.output_dir);
      result = await upload(await this.database(), parsed);
    } catch (err) {
      const dbDown = this.failed(err, { jobId, attemptId: attempt.id, uploadId, log });
      this.emit("finished", { job: jobId, seconds: (Date.now() - started) / 1000, outcome: dbDown ? "db_unavailable" : "upload_failed" });
      return;
    }
    this.dbBackoffS = 0;
    const details =
      result.status === "uploaded"
        ? `uploaded as results upload ${result.id} (${Object.entries(result.rows)
            .map(([t, n]) => `${n} ${t}`)
            .join(", ")})`
        : `already in the results DB as upload ${result.id}`;
    this.move(log, () => this.tracker.uploads.uploaded(uploadId, jobId, attempt.id, result.id, details));
    log.info({ upload: result.id, ms: Date.now() - started, already: result.status === "already_uploaded" }, "results uploaded");
    this.emit("finished", { job: jobId, seconds: (Date.now() - started) / 1000, outcome: result.status });
  }

  /** Records a failed try; returns true when it was the DB that was unavailable. */
  private failed(err: unknown, at: { jobId: number; attemptId: number; uploadId: number; log: Logger }): boolean {
    const message = err instanceof Error ? err.message : String(err);
    if (classifyDbError(err) === "DbUnavailable") {
      this.tracker.uploads.dbUnavailable(at.uploadId, message);
      const initial = this.settings.dbBackoffInitialS ?? 1;
      this.dbBackoffS = Math.min(this.settings.dbBackoffMaxS, this.dbBackoffS ? this.dbBackoffS * 2 : initial);
      at.log.warn({ err: message, retryInS: this.dbBackoffS }, "results DB unavailable: the upload waits, nothing counted");
      this.later(at.jobId, this.dbBackoffS);
      return true;
    }
    // Anything unexpected is counted too: retried without limit it would only repeat.
    const errorClass = err instanceof UploadError ? err.errorClass : "unexpected";
    const outcome = this.move(at.log, () => this.tracker.uploads.failed(at.uploadId, at.jobId, at.attemptId, errorClass, message, this.settings.maxAttempts));
    at.log.warn({ err: message, errorClass, next: outcome?.status }, "upload failed");
    if (outcome?.status === "processed") this.later(at.jobId, this.settings.retryS);
    return false;
  }

  private move(log: Logger, fn: () => JobOutcome): JobOutcome | undefined {
    try {
      const outcome = fn();
      // A counted failure leaves the job processed: its retry is our own timer, not news.
      if (outcome.status !== "processed") this.onMove(outcome);
      return outcome;
    } catch (err) {
      // An operator moved the job meanwhile (e.g. retried it): the upload is no longer wanted.
      if (!(err instanceof IllegalTransition)) throw err;
      log.warn({ err: err.message }, "upload outcome not recorded: the job moved meanwhile");
      return undefined;
    }
  }
}
