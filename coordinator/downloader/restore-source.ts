// A `restore-api` source: PALFA's restore flow (§2) against any archive that speaks
// docs/archive-api.md. One pass, in PALFA's order: ask for the restores that are due,
// poll the waiting ones, list the files of the ready ones, settle the requests whose
// files are all settled, tell the archive to delete the settled restores, and ask for
// more when the budget allows. Files are fetched by Transfers. Every failure is
// classified and recorded on the request; a failed request is retried with backoff.
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../../shared/config/schema";
import type { RestoreApiSourceConfig } from "../../shared/config/downloader-schema";
import type { Logger } from "../../shared/logging/logger";
import { rejection } from "../ingest/beams";
import type { RequestRow } from "../tracker/downloads";
import type { Tracker } from "../tracker/tracker";
import { ArchiveClient } from "./archive-client";
import type { SpaceBudget } from "./budget";
import { classify as classifyError, DownloadFailure } from "./errors";
import { backoff, type SourceAccess } from "./transfers";

export class RestoreSource {
  readonly client: ArchiveClient;
  /** why no restore was asked for in the last pass ("" when one was) */
  idle = "";
  /** restores in a row that brought no file (the archive has nothing left): asks back off */
  private emptyStreak = 0;
  private nextAskAt = 0;

  constructor(
    readonly cfg: RestoreApiSourceConfig,
    private readonly tracker: Tracker,
    private readonly config: Config,
    private readonly budget: SpaceBudget,
    private readonly log: Logger,
  ) {
    this.client = new ArchiveClient({ url: cfg.url, token: readSecret(cfg.token_file) });
  }

  access(): SourceAccess {
    const token = readSecret(this.cfg.token_file);
    return {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ftp: { user: this.cfg.ftp_user, password: readSecret(this.cfg.ftp_password_file) ?? "" },
      insecureTls: this.cfg.insecure_tls,
    };
  }

  private get records() {
    return this.tracker.downloads;
  }
  private get dl() {
    return this.config.downloader;
  }

  private fail(r: RequestRow, err: unknown, what: string): void {
    const f = classifyError(err);
    const now = this.records.requestFailed(r.id, f.errorClass, `${what}: ${f.message}`, this.dl.request_retries, backoff(this.dl));
    this.log.warn({ request: r.id, guid: r.guid, error_class: f.errorClass, now }, `${what} failed: ${f.message}`);
  }

  /** One pass over this source's requests. */
  async pass(): Promise<void> {
    for (const r of this.records.dueRequests(this.cfg.name)) {
      if (r.status === "retrying" && !r.guid.startsWith("local:")) this.records.moveRequest("polledAgain", r.id);
      else await this.ask(r);
    }
    for (const r of this.records.requestsIn(this.cfg.name, "waiting")) await this.poll(r);
    for (const r of this.records.requestsIn(this.cfg.name, "downloading")) this.records.settle(r.id);
    for (const r of this.records.toCleanUp(this.cfg.name)) await this.cleanUp(r);
    this.maybeRequest();
  }

  private async ask(r: RequestRow): Promise<void> {
    try {
      const guid = await this.client.restore(r.numrequested ?? this.dl.request_size, this.cfg.file_type, this.cfg.numbits);
      this.records.moveRequest("asked", r.id, { guid, numrequested: r.numrequested });
      this.log.info({ request: r.id, guid, beams: r.numrequested }, "the archive accepted a restore request");
    } catch (err) {
      if ((err as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE")
        return this.fail(r, new DownloadFailure("bad_answer", "the archive named the restore with an id it gave before"), "asking for a restore");
      this.fail(r, err, "asking for a restore");
    }
  }

  private async poll(r: RequestRow): Promise<void> {
    try {
      const s = await this.client.status(r.guid);
      if (s.status === "failed") throw new DownloadFailure("archive_failed", s.message ?? "the archive says the restore failed");
      if (s.status === "pending") {
        if (r.waiting_since != null && Date.now() / 1000 - r.waiting_since > this.dl.request_timeout_s)
          throw new DownloadFailure("timeout", `not ready ${this.dl.request_timeout_s} s after it was asked for`);
        return;
      }
      const listed = await this.client.files(r.guid);
      this.accept(r, listed);
    } catch (err) {
      this.fail(r, err, `restore ${r.guid}`);
    }
  }

  /** PALFA's can_add_file: beam 7 and names tracked already are refused; the rest become `new` files, with the request, together. */
  private accept(r: RequestRow, listed: Awaited<ReturnType<ArchiveClient["files"]>>): void {
    const taken = new Set(this.tracker.files.tracked().map((f) => path.basename(f.filename)));
    const refused: string[] = [];
    const files = [];
    for (const f of listed) {
      if (taken.has(f.name)) {
        refused.push(`${f.name}: a file of the same name is tracked already`);
        continue;
      }
      const why = rejection(f.name, this.config.beams.rules);
      if (why) {
        refused.push(`${f.name}: ${why}`);
        continue;
      }
      taken.add(f.name);
      files.push({
        requestId: r.id,
        source: this.cfg.name,
        remoteName: f.name,
        remoteUrl: f.url,
        filename: path.join(this.dl.dir, f.name),
        size: f.size,
        sha256: f.sha256 ?? null,
      });
    }
    const details = `${files.length} files listed${refused.length ? `; refused: ${refused.join("; ")}` : ""}`;
    this.records.restoreReady(r.id, files, details);
    this.log.info({ request: r.id, guid: r.guid, files: files.length, refused: refused.length }, "restore ready: files listed");
    // No file to fetch: the request settles now and its restore is deleted in this pass; the
    // archive has nothing for us, so the next ask waits (backoff, as for a failure).
    this.records.settle(r.id);
    if (files.length === 0) {
      this.emptyStreak++;
      this.nextAskAt = Date.now() + backoff(this.dl)(this.emptyStreak) * 1000;
    } else this.emptyStreak = 0;
  }

  private async cleanUp(r: RequestRow): Promise<void> {
    try {
      await this.client.delete(r.guid);
      this.records.moveRequest("cleanUp", r.id);
      this.log.info({ request: r.id, guid: r.guid }, "the archive deleted the restore");
    } catch (err) {
      const f = classifyError(err);
      this.records.setCleanupError(r.id, `${f.errorClass}: ${f.message}`);
    }
  }

  /** Asks for more beams when nothing is asked for yet and the budget allows (one open ask at a time). */
  private maybeRequest(): void {
    const open = this.records.openRequestBeams(this.cfg.name);
    if (open > 0) {
      this.idle = "a restore request is open";
      return;
    }
    if (Date.now() < this.nextAskAt) {
      this.idle = `the archive's last ${this.emptyStreak} restores were empty: asking again at ${new Date(this.nextAskAt).toISOString()}`;
      return;
    }
    const pending = this.records.pendingFiles(this.cfg.name);
    const { beams, why } = this.budget.beamsToRequest(this.cfg.name, open, pending.n);
    if (beams <= 0) {
      this.idle = why;
      return;
    }
    this.idle = "";
    const id = this.records.beginRequest(this.cfg.name, beams, this.cfg.file_type, this.cfg.numbits);
    this.log.info({ request: id, beams, why }, "asking the archive for a restore");
  }
}

function readSecret(file: string): string | undefined {
  if (!file) return undefined;
  return fs.readFileSync(file, "utf8").trim();
}
