// The tracker's record of getting data in: restore requests, the files they list and
// each try to download one (PALFA's requests, files, download_attempts). Every move
// is a row of download-states.ts run as one guarded UPDATE; each public method that
// changes more than one row is one transaction.
import crypto from "node:crypto";
import type Database from "better-sqlite3";
import {
  DOWNLOAD_ATTEMPT_TRANSITIONS,
  DOWNLOAD_ERRORS,
  DOWNLOAD_FILE_TRANSITIONS,
  type DownloadAttemptTransition,
  type DownloadError,
  type DownloadFileTransition,
  OPEN_REQUEST_STATES,
  PENDING_FILE_STATES,
  REQUEST_TRANSITIONS,
  type RequestTransition,
} from "./download-states";
import { sqlStates, type Transition } from "./states";
import { guardedUpdate, IllegalTransition } from "./transitions";

export interface RequestRow {
  id: number;
  guid: string;
  source: string;
  size: number | null;
  numbits: number | null;
  numrequested: number | null;
  file_type: string | null;
  status: string;
  details: string;
  attempts: number;
  next_try_at: number | null;
  error_class: string;
  waiting_since: number | null;
  cleanup_error: string;
  created_at: number;
  updated_at: number;
}
/** A request with how many of its files are in each state (`beamflow requests`). */
export type RequestListRow = RequestRow & { files: number; downloaded: number; pending: number; failed: number };

export interface DownloadFileRow {
  id: number;
  request_id: number | null;
  source: string;
  remote_filename: string | null;
  remote_url: string;
  filename: string;
  size: number;
  sha256: string | null;
  status: string;
  details: string;
  tries: number;
  next_try_at: number | null;
  error_class: string;
  created_at: number;
  updated_at: number;
}

export interface DownloadAttemptRow {
  id: number;
  file_id: number;
  status: string;
  details: string;
  resumed_from: number;
  bytes: number;
  error_class: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}
/** An attempt with its file, for `beamflow downloads`. */
export type DownloadAttemptListRow = DownloadAttemptRow & { filename: string; size: number; request_id: number | null; source: string; remote_url: string };

export interface NewDownloadFile {
  requestId: number;
  source: string;
  remoteName: string;
  remoteUrl: string;
  filename: string;
  size: number;
  sha256: string | null;
}

type Params = Record<string, string | number | null>;
const now = () => Date.now() / 1000;
const PENDING = sqlStates(PENDING_FILE_STATES);

export class DownloadRecords {
  private readonly s;
  private readonly moves = new Map<string, { stmt: Database.Statement; t: Transition<string>; state: Database.Statement; kind: string }>();

  constructor(private readonly db: Database.Database) {
    const table = (kind: string, tbl: string, transitions: Record<string, Transition<string>>) => {
      const state = db.prepare(`SELECT status, NULL AS owner FROM ${tbl} WHERE id = ?`);
      for (const [name, t] of Object.entries(transitions)) this.moves.set(`${kind}.${name}`, { stmt: db.prepare(guardedUpdate(tbl, "id", t)), t, state, kind });
    };
    table("request", "requests", REQUEST_TRANSITIONS);
    table("file", "files", DOWNLOAD_FILE_TRANSITIONS);
    table("download", "download_attempts", DOWNLOAD_ATTEMPT_TRANSITIONS);
    this.s = {
      insertRequest: db.prepare(`INSERT INTO requests (guid, source, numbits, numrequested, file_type, status, created_at, updated_at)
                                 VALUES (@guid, @source, @numbits, @numrequested, @file_type, 'requesting', @now, @now)`),
      request: db.prepare("SELECT * FROM requests WHERE id = ?"),
      requestsIn: db.prepare("SELECT * FROM requests WHERE source = @source AND status = @status ORDER BY id"),
      dueRequests: db.prepare(`SELECT * FROM requests WHERE source = @source AND (status = 'requesting' OR (status = 'retrying' AND next_try_at <= @now))
                               ORDER BY id`),
      toCleanUp: db.prepare(`SELECT * FROM requests WHERE source = @source AND (status = 'finished' OR (status = 'failed' AND guid NOT LIKE 'local:%'))
                             ORDER BY id`),
      setCleanupError: db.prepare("UPDATE requests SET cleanup_error = @error, updated_at = @now WHERE id = @id"),
      listRequests: db.prepare(`SELECT r.*,
                                  (SELECT COUNT(*) FROM files f WHERE f.request_id = r.id) AS files,
                                  (SELECT COUNT(*) FROM files f WHERE f.request_id = r.id AND f.status IN ('downloaded', 'added', 'deleted')) AS downloaded,
                                  (SELECT COUNT(*) FROM files f WHERE f.request_id = r.id AND f.status IN (${PENDING})) AS pending,
                                  (SELECT COUNT(*) FROM files f WHERE f.request_id = r.id AND f.status = 'terminal_failure') AS failed
                                FROM requests r ORDER BY r.id DESC LIMIT @limit`),
      openRequestBeams: db.prepare(`SELECT COALESCE(SUM(numrequested), 0) AS n FROM requests
                                    WHERE source = @source AND status IN ('requesting', 'waiting', 'retrying')`),
      openRequests: db.prepare(`SELECT COUNT(*) AS n FROM requests WHERE source = @source AND status IN (${sqlStates(OPEN_REQUEST_STATES)})`),
      insertFile: db.prepare(`INSERT INTO files (request_id, source, remote_filename, remote_url, filename, size, sha256, status, created_at, updated_at)
                              VALUES (@requestId, @source, @remoteName, @remoteUrl, @filename, @size, @sha256, 'new', @now, @now)`),
      file: db.prepare("SELECT * FROM files WHERE id = ?"),
      filesOfRequest: db.prepare("SELECT * FROM files WHERE request_id = ? ORDER BY id"),
      dueFiles:
        db.prepare(`SELECT * FROM files WHERE source = @source AND (status = 'new' OR (status = 'retrying' AND (next_try_at IS NULL OR next_try_at <= @now)))
                            ORDER BY CASE status WHEN 'retrying' THEN 0 ELSE 1 END, created_at, id`),
      filesIn: db.prepare("SELECT * FROM files WHERE status = ? AND source != '' ORDER BY id"),
      pendingFiles: db.prepare(`SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM files WHERE source = @source AND status IN (${PENDING})`),
      allPendingBytes: db.prepare(`SELECT COALESCE(SUM(size), 0) AS bytes FROM files WHERE source != '' AND status IN (${PENDING})`),
      usedBytes: db.prepare("SELECT COALESCE(SUM(size), 0) AS bytes FROM files WHERE source != '' AND status IN ('downloaded', 'added')"),
      filesPerBeam: db.prepare(`SELECT COUNT(f.id) * 1.0 / NULLIF((SELECT SUM(numrequested) FROM requests r2 WHERE r2.source = @source
                                  AND EXISTS (SELECT 1 FROM files f2 WHERE f2.request_id = r2.id)), 0) AS k,
                                  COALESCE(SUM(f.size), 0) * 1.0 / NULLIF((SELECT SUM(numrequested) FROM requests r2 WHERE r2.source = @source
                                  AND EXISTS (SELECT 1 FROM files f2 WHERE f2.request_id = r2.id)), 0) AS beam_bytes
                                FROM files f WHERE f.source = @source AND f.request_id IS NOT NULL`),
      insertAttempt: db.prepare(`INSERT INTO download_attempts (file_id, status, resumed_from, bytes, created_at, updated_at)
                                 VALUES (@file, 'downloading', @resumed_from, @resumed_from, @now, @now)`),
      attempt: db.prepare("SELECT * FROM download_attempts WHERE id = ?"),
      attemptsOfFile: db.prepare("SELECT * FROM download_attempts WHERE file_id = ? ORDER BY id"),
      attemptsIn: db.prepare("SELECT * FROM download_attempts WHERE status = ? ORDER BY id"),
      listAttempts: db.prepare(`SELECT a.*, f.filename, f.size, f.request_id, f.source, f.remote_url FROM download_attempts a JOIN files f ON f.id = a.file_id
                                ORDER BY CASE a.status WHEN 'downloading' THEN 0 ELSE 1 END, a.id DESC LIMIT @limit`),
      // Observed rate: bytes moved per second of the newest successful transfers.
      rate: db.prepare(`SELECT SUM(bytes - resumed_from) AS bytes, SUM(finished_at - created_at) AS secs FROM
                          (SELECT * FROM download_attempts WHERE status = 'downloaded' AND finished_at > created_at ORDER BY id DESC LIMIT 20)`),
      insertZaplist: db.prepare(`INSERT INTO zaplist_versions (source, etag, sha256, path, fetched_at) VALUES (@source, @etag, @sha256, @path, @now)`),
      latestZaplist: db.prepare("SELECT * FROM zaplist_versions WHERE source = ? ORDER BY id DESC LIMIT 1"),
      newestZaplist: db.prepare("SELECT * FROM zaplist_versions ORDER BY id DESC LIMIT 1"),
      setAttemptZaplist: db.prepare("UPDATE job_submits SET zaplist_version = ? WHERE id = ?"),
    };
  }

  private move(kind: string, name: string, id: number, extra: Params = {}): void {
    const m = this.moves.get(`${kind}.${name}`)!;
    if (m.stmt.run({ id, to: m.t.to, now: now(), owner: null, ...extra }).changes !== 1) {
      throw new IllegalTransition(kind as "job", id, name, m.state.get(id) as never, { from: m.t.from });
    }
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- requests ----------------------------------------------------------------------------

  /** Written before the archive is asked, so a failed ask is on record; its guid is a placeholder until then. */
  beginRequest(source: string, numrequested: number, fileType: string, numbits: number | null): number {
    return Number(
      this.s.insertRequest.run({ guid: `local:${crypto.randomUUID()}`, source, numbits, numrequested, file_type: fileType, now: now() }).lastInsertRowid,
    );
  }
  moveRequest(name: RequestTransition, id: number, extra: Params = {}): void {
    this.move("request", name, id, extra);
  }
  /** A failed ask, poll or listing: retrying after `backoffS`, or failed for good on the last try. Returns the state now. */
  requestFailed(id: number, errorClass: DownloadError, details: string, maxTries: number, backoffS: (attempt: number) => number): "retrying" | "failed" {
    return this.transaction(() => {
      const r = this.request(id)!;
      const last = r.attempts + 1 >= maxTries || errorClass === "archive_failed";
      const params = { error_class: errorClass, details, max_tries: maxTries, next_try_at: now() + backoffS(r.attempts + 1) };
      this.move("request", last ? "failForGood" : "retry", id, params);
      return last ? "failed" : "retrying";
    });
  }
  request(id: number): RequestRow | undefined {
    return this.s.request.get(id) as RequestRow | undefined;
  }
  requestsIn(source: string, status: string): RequestRow[] {
    return this.s.requestsIn.all({ source, status }) as RequestRow[];
  }
  /** Requests to ask the archive for (new, or retrying whose backoff ran out). */
  dueRequests(source: string): RequestRow[] {
    return this.s.dueRequests.all({ source, now: now() }) as RequestRow[];
  }
  /** Requests whose restore should be deleted on the archive. A request that never got a restore id has none: it is closed here. */
  toCleanUp(source: string): RequestRow[] {
    return this.s.toCleanUp.all({ source }) as RequestRow[];
  }
  setCleanupError(id: number, error: string): void {
    this.s.setCleanupError.run({ id, error, now: now() });
  }
  listRequests(limit = 200): RequestListRow[] {
    return this.s.listRequests.all({ limit }) as RequestListRow[];
  }
  /** Beams asked for whose files are not listed yet. */
  openRequestBeams(source: string): number {
    return (this.s.openRequestBeams.get({ source }) as { n: number }).n;
  }
  openRequests(source: string): number {
    return (this.s.openRequests.get({ source }) as { n: number }).n;
  }
  /** Files per beam and bytes per beam observed in this source's past restores (null with no history). */
  beamShape(source: string): { filesPerBeam: number | null; bytesPerBeam: number | null } {
    const r = this.s.filesPerBeam.get({ source }) as { k: number | null; beam_bytes: number | null };
    return { filesPerBeam: r.k, bytesPerBeam: r.beam_bytes };
  }

  /** The restore is ready: its accepted files are written `new` and the request moves to downloading, together. */
  restoreReady(requestId: number, files: NewDownloadFile[], details: string): number[] {
    return this.transaction(() => {
      const t = now();
      const ids = files.map((f) => Number(this.s.insertFile.run({ ...f, now: t }).lastInsertRowid));
      this.move("request", "ready", requestId, { size: files.reduce((n, f) => n + f.size, 0), details });
      return ids;
    });
  }

  /** Settles a downloading request whose files are all settled; false when some are still pending. */
  settle(requestId: number): boolean {
    try {
      this.move("request", "settle", requestId);
      return true;
    } catch (err) {
      if (err instanceof IllegalTransition) return false;
      throw err;
    }
  }

  // ---- files and attempts ------------------------------------------------------------------

  file(id: number): DownloadFileRow | undefined {
    return this.s.file.get(id) as DownloadFileRow | undefined;
  }
  filesOfRequest(requestId: number): DownloadFileRow[] {
    return this.s.filesOfRequest.all(requestId) as DownloadFileRow[];
  }
  /** Files of a source that may start a transfer now: retries first (as PALFA), then new ones, oldest first. */
  dueFiles(source: string): DownloadFileRow[] {
    return this.s.dueFiles.all({ source, now: now() }) as DownloadFileRow[];
  }
  filesIn(status: string): DownloadFileRow[] {
    return this.s.filesIn.all(status) as DownloadFileRow[];
  }
  pendingFiles(source: string): { n: number; bytes: number } {
    return this.s.pendingFiles.get({ source }) as { n: number; bytes: number };
  }
  /** Bytes restored but not yet downloaded, every source. */
  pendingBytes(): number {
    return (this.s.allPendingBytes.get() as { bytes: number }).bytes;
  }
  /** Bytes of downloaded files on disk (the downloader's own, not add-files'). */
  usedBytes(): number {
    return (this.s.usedBytes.get() as { bytes: number }).bytes;
  }

  /** The file moves to downloading and its attempt is written, together; returns the attempt id. */
  startAttempt(fileId: number, resumedFrom: number): number {
    return this.transaction(() => {
      this.move("file", "start", fileId);
      return Number(this.s.insertAttempt.run({ file: fileId, resumed_from: resumedFrom, now: now() }).lastInsertRowid);
    });
  }
  moveFile(name: DownloadFileTransition, id: number, extra: Params = {}): void {
    this.move("file", name, id, extra);
  }
  moveAttempt(name: DownloadAttemptTransition, id: number, extra: Params = {}): void {
    this.move("download", name, id, extra);
  }

  /**
   * A transfer (or its re-verification) failed: the attempt ends, the file retries after
   * its backoff or fails for good. A class that is not the file's fault is not counted.
   */
  transferFailed(
    attemptId: number | null,
    fileId: number,
    how: { errorClass: DownloadError; details: string; bytes: number; verification: boolean },
    maxTries: number,
    backoffS: (tries: number) => number,
  ): "retrying" | "terminal_failure" {
    return this.transaction(() => {
      const f = this.file(fileId)!;
      const counted = DOWNLOAD_ERRORS[how.errorClass].counted ? 1 : 0;
      if (attemptId != null) {
        const a = this.attempt(attemptId)!;
        const name = how.verification || a.status === "unknown" ? "failVerification" : "fail";
        this.move("download", name, attemptId, { bytes: how.bytes, error_class: how.errorClass, details: how.details });
      }
      const last = f.tries + counted >= maxTries;
      const params = { counted, error_class: how.errorClass, details: how.details, max_tries: maxTries, next_try_at: now() + backoffS(f.tries + counted) };
      this.move("file", last ? "failForGood" : "retry", fileId, params);
      return last ? "terminal_failure" : "retrying";
    });
  }

  attempt(id: number): DownloadAttemptRow | undefined {
    return this.s.attempt.get(id) as DownloadAttemptRow | undefined;
  }
  attemptsOfFile(fileId: number): DownloadAttemptRow[] {
    return this.s.attemptsOfFile.all(fileId) as DownloadAttemptRow[];
  }
  attemptsIn(status: string): DownloadAttemptRow[] {
    return this.s.attemptsIn.all(status) as DownloadAttemptRow[];
  }
  listAttempts(limit = 200): DownloadAttemptListRow[] {
    return this.s.listAttempts.all({ limit }) as DownloadAttemptListRow[];
  }
  /** Bytes per second of the newest successful transfers; null before the first. */
  observedRate(): number | null {
    const r = this.s.rate.get() as { bytes: number | null; secs: number | null };
    return r.bytes && r.secs ? r.bytes / r.secs : null;
  }

  /** After a restart: transfers that were running have no worker any more; their files are re-verified. */
  orphanRunning(): { attempt: DownloadAttemptRow; file: DownloadFileRow }[] {
    return this.transaction(() => {
      const out: { attempt: DownloadAttemptRow; file: DownloadFileRow }[] = [];
      for (const a of this.attemptsIn("downloading")) {
        this.move("download", "vanish", a.id);
        const f = this.file(a.file_id)!;
        if (f.status === "downloading") this.move("file", "orphaned", f.id);
        out.push({ attempt: this.attempt(a.id)!, file: this.file(f.id)! });
      }
      return out;
    });
  }

  // ---- zaplists ----------------------------------------------------------------------------

  addZaplistVersion(v: { source: string; etag: string; sha256: string; path: string }): number {
    return Number(this.s.insertZaplist.run({ ...v, now: now() }).lastInsertRowid);
  }
  latestZaplist(source?: string): ZaplistVersionRow | undefined {
    return (source ? this.s.latestZaplist.get(source) : this.s.newestZaplist.get()) as ZaplistVersionRow | undefined;
  }
  recordAttemptZaplist(attemptId: number, versionId: number): void {
    this.s.setAttemptZaplist.run(versionId, attemptId);
  }
}

export interface ZaplistVersionRow {
  id: number;
  source: string;
  etag: string;
  sha256: string;
  path: string;
  fetched_at: number;
}
