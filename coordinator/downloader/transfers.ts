// The files of every restore-api source: starting transfers within `numdownloads` and
// the space budget, verifying each (size and SHA-256 computed while writing), moving
// it into place and registering it (jobs for the beams it completes, as add-files),
// and after a restart re-verifying what a vanished transfer left on disk.
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../../shared/config/schema";
import type { Logger } from "../../shared/logging/logger";
import { createJobsForNewFiles } from "../ingest/register";
import type { DownloadFileRow } from "../tracker/downloads";
import type { Tracker } from "../tracker/tracker";
import { type SpaceBudget, fmt } from "./budget";
import { DownloadFailure, classify } from "./errors";
import { ftpTransfer, type FtpLogin } from "./ftp-transfer";
import { httpTransfer } from "./http-transfer";
import { freshState, hashPrefix, type PartState } from "./part-file";

/** A running transfer, as `beamflow downloads` shows it. */
export interface ActiveTransfer {
  attemptId: number;
  fileId: number;
  requestId: number | null;
  source: string;
  name: string;
  url: string;
  size: number;
  resumedFrom: number;
  bytes: number;
  startedAt: number;
  /** bytes per second over the last few seconds */
  rate: number;
  abort: AbortController;
  lastBytes: number;
  lastAt: number;
}

export interface SourceAccess {
  headers: Record<string, string>;
  ftp: FtpLogin;
  insecureTls: boolean;
}

export const partDir = (dir: string) => path.join(dir, ".partial");
export const partPathOf = (dir: string, f: { id: number; filename: string }) => path.join(partDir(dir), `${f.id}.${path.basename(f.filename)}.part`);

export function backoff(cfg: Config["downloader"]): (tries: number) => number {
  return (tries) => Math.min(cfg.retry_max_s, cfg.retry_initial_s * 2 ** Math.max(0, tries - 1));
}

export class Transfers {
  readonly active = new Map<number, ActiveTransfer>();
  private rateTimer: NodeJS.Timeout | null = null;
  /** why the next due file is not started, when it is not (shown by `beamflow downloads`) */
  blocked = "";

  constructor(
    private readonly tracker: Tracker,
    private readonly config: Config,
    private readonly budget: SpaceBudget,
    private readonly access: (source: string) => SourceAccess | undefined,
    private readonly log: Logger,
    private readonly changed: (jobIds: number[]) => void,
  ) {}

  start(): void {
    fs.mkdirSync(partDir(this.cfg.dir), { recursive: true });
    this.rateTimer = setInterval(() => this.measure(), 1000);
    this.rateTimer.unref();
  }

  private get cfg() {
    return this.config.downloader;
  }
  private get records() {
    return this.tracker.downloads;
  }

  /** Bytes the running transfers still have to write. */
  inflight(): number {
    let n = 0;
    for (const t of this.active.values()) n += Math.max(0, t.size - t.bytes);
    return n;
  }

  private measure(): void {
    const now = Date.now();
    for (const t of this.active.values()) {
      const dt = (now - t.lastAt) / 1000;
      if (dt <= 0) continue;
      const inst = (t.bytes - t.lastBytes) / dt;
      t.rate = t.rate ? 0.5 * t.rate + 0.5 * inst : inst;
      t.lastBytes = t.bytes;
      t.lastAt = now;
    }
  }

  private stopping = false;

  /** Aborts the running transfers without recording them: the next start re-verifies and resumes them. */
  stop(): void {
    this.stopping = true;
    if (this.rateTimer) clearInterval(this.rateTimer);
    for (const t of this.active.values()) t.abort.abort();
  }

  /** Starts due files of the given sources, retries first, while slots and the budget allow. */
  startDue(sources: string[]): void {
    this.blocked = "";
    for (const source of sources) {
      for (const f of this.records.dueFiles(source)) {
        if (this.active.size >= this.cfg.numdownloads) return;
        const have = fileSize(partPathOf(this.cfg.dir, f));
        let activeSizes = 0;
        for (const t of this.active.values()) activeSizes += t.size;
        const why = this.budget.whyNotStart(f.size, Math.max(0, f.size - have), activeSizes);
        if (why) {
          this.blocked = why;
          return;
        }
        this.begin(f, have);
      }
    }
  }

  private begin(f: DownloadFileRow, have: number): void {
    const attemptId = this.records.startAttempt(f.id, have);
    const now = Date.now();
    const t: ActiveTransfer = {
      attemptId,
      fileId: f.id,
      requestId: f.request_id,
      source: f.source,
      name: path.basename(f.filename),
      url: f.remote_url,
      size: f.size,
      resumedFrom: have,
      bytes: have,
      startedAt: now / 1000,
      rate: 0,
      abort: new AbortController(),
      lastBytes: have,
      lastAt: now,
    };
    this.active.set(attemptId, t);
    this.log.info({ file: f.filename, attempt: attemptId, from: have, size: f.size }, have ? "resuming a download" : "starting a download");
    void this.run(f, t).finally(() => {
      this.active.delete(attemptId);
      this.changed([]);
    });
  }

  private async run(f: DownloadFileRow, t: ActiveTransfer): Promise<void> {
    const part = partPathOf(this.cfg.dir, f);
    let state: PartState | undefined;
    try {
      // The bytes already on disk are hashed first (read once), then the transfer goes on from their end.
      state = await hashPrefix(part);
      t.bytes = t.lastBytes = state.bytes;
      const acc = this.access(f.source);
      if (!acc) throw new DownloadFailure("bad_answer", `source '${f.source}' is no longer configured`);
      const req = {
        url: f.remote_url,
        partPath: part,
        expectedSize: f.size,
        state,
        headers: f.remote_url.startsWith("http") ? acc.headers : {},
        stallMs: this.cfg.stall_timeout_s * 1000,
        onBytes: (n: number) => {
          t.bytes += n;
        },
        signal: t.abort.signal,
        insecureTls: acc.insecureTls,
        restart: () => {
          t.bytes = 0;
          state?.hash.dispose();
          state = freshState();
          return state;
        },
      };
      const proto = new URL(f.remote_url).protocol;
      state = proto === "ftp:" || proto === "ftps:" ? await ftpTransfer(req, acc.ftp) : await httpTransfer(req);
      await this.finish(f, t.attemptId, part, state);
    } catch (err) {
      state?.hash.dispose();
      if (this.stopping) return;
      const failure = classify(err, t.bytes > t.resumedFrom);
      // A clean end short of the size: the connection dropped; the next try resumes.
      this.failed(f, t.attemptId, part, failure, false);
    }
  }

  /** Checks size and SHA-256, moves the file into place and registers it, with its jobs, in one transaction. */
  private async finish(f: DownloadFileRow, attemptId: number | null, part: string, state: PartState): Promise<void> {
    if (state.bytes < f.size) {
      state.hash.dispose();
      throw new DownloadFailure("dropped", `the transfer ended after ${state.bytes} of ${f.size} bytes`);
    }
    const sha256 = await state.hash.digest();
    if (f.sha256 && sha256 !== f.sha256) {
      fs.rmSync(part, { force: true }); // corrupt bytes somewhere: fetched again from zero
      throw new DownloadFailure("checksum", `SHA-256 ${sha256} is not the listed ${f.sha256}`);
    }
    fs.mkdirSync(path.dirname(f.filename), { recursive: true });
    fs.renameSync(part, f.filename);
    this.settleDownloaded(f, attemptId, sha256, state.bytes, f.sha256 ? "size and SHA-256 verified" : "size verified (no SHA-256 listed)");
  }

  private settleDownloaded(f: DownloadFileRow, attemptId: number | null, sha256: string, bytes: number, details: string): void {
    const jobs = this.tracker.transaction(() => {
      if (attemptId != null) this.records.moveAttempt("succeed", attemptId, { bytes });
      this.records.moveFile("downloaded", f.id, { sha256, details });
      return createJobsForNewFiles(this.tracker, this.config).jobsCreated;
    });
    this.log.info({ file: f.filename, jobs }, "downloaded and verified");
    this.changed(jobs);
  }

  private failed(f: DownloadFileRow, attemptId: number | null, part: string, failure: DownloadFailure, verification: boolean): void {
    const bytes = fileSize(part);
    const verif = verification || failure.errorClass === "checksum" || failure.errorClass === "size_mismatch";
    const to = this.records.transferFailed(
      attemptId,
      f.id,
      { errorClass: failure.errorClass, details: failure.message, bytes, verification: verif },
      this.cfg.numretries,
      backoff(this.cfg),
    );
    if (failure.errorClass === "size_mismatch" || to === "terminal_failure") fs.rmSync(part, { force: true });
    this.log.warn({ file: f.filename, attempt: attemptId, error_class: failure.errorClass, bytes, now: to }, `download failed: ${failure.message}`);
  }

  /**
   * After a restart: transfers that were running lost their worker. Each file's bytes on disk
   * are verified again: a complete, verified file (in place or still partial) is kept and
   * registered; a partial one is resumed from its end; nothing is fetched again from zero.
   */
  async recover(): Promise<void> {
    const orphans = this.records.orphanRunning();
    const unverified = this.records.filesIn("unverified");
    const attemptOf = new Map(orphans.map((o) => [o.file.id, o.attempt.id]));
    for (const f of unverified) await this.reverify(f, attemptOf.get(f.id) ?? null);
  }

  private async reverify(f: DownloadFileRow, attemptId: number | null): Promise<void> {
    const part = partPathOf(this.cfg.dir, f);
    try {
      // Renamed into place just before the coordinator stopped?
      if (fileSize(f.filename) === f.size) {
        const st = await hashPrefix(f.filename);
        const sha256 = await st.hash.digest();
        if (!f.sha256 || sha256 === f.sha256) {
          fs.rmSync(part, { force: true });
          this.settleDownloaded(f, attemptId, sha256, st.bytes, "re-verified after a restart: complete and in place");
          return;
        }
      }
      const st = await hashPrefix(part);
      if (st.bytes === f.size) {
        await this.finish(f, attemptId, part, st);
        return;
      }
      if (st.bytes > f.size) throw new DownloadFailure("size_mismatch", `the partial file holds ${st.bytes} bytes, more than the ${f.size} listed`);
      st.hash.dispose();
      this.records.moveFile("resume", f.id, { details: `re-verified after a restart: ${fmt(st.bytes)} of ${fmt(f.size)} on disk, resumed from there` });
      this.log.info({ file: f.filename, bytes: st.bytes }, "a download interrupted by a restart will resume");
    } catch (err) {
      this.failed(f, attemptId, part, classify(err), true);
    }
  }
}

function fileSize(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}
