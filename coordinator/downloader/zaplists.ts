// Zaplists that follow the archive: each pass asks the archive for its zaplists tarball
// with the ETag of the version held (GET <url>/zaplists, If-None-Match), so an unchanged
// list costs one 304. A changed one is written beside the others under
// <data_dir>/zaplists/, checked as a tarball, and recorded as a new zaplist_versions row;
// searches assigned from then on use it, and each attempt records the version it was sent.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../../shared/logging/logger";
import { listTarball } from "../../shared/files/tarball";
import type { Tracker } from "../tracker/tracker";
import type { ArchiveClient } from "./archive-client";
import { classify } from "./errors";

export class ZaplistFollower {
  lastError = "";
  private lastCheck = 0;

  constructor(
    readonly source: string,
    private readonly client: ArchiveClient,
    private readonly tracker: Tracker,
    private readonly dataDir: string,
    private readonly log: Logger,
    private readonly everyS = 60,
  ) {}

  /** Fetches the archive's zaplists if they changed (at most every `everyS`); returns the new version's id, if any. */
  async check(force = false): Promise<number | null> {
    if (!force && Date.now() - this.lastCheck < this.everyS * 1000) return null;
    this.lastCheck = Date.now();
    const held = this.tracker.downloads.latestZaplist(this.source);
    try {
      const got = await this.client.zaplists(held?.etag ?? "");
      if (!got) return null;
      const sha256 = crypto.createHash("sha256").update(got.body).digest("hex");
      if (held && held.sha256 === sha256) return null;
      const dir = path.join(this.dataDir, "zaplists");
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, `${this.source}-${sha256.slice(0, 16)}.tar.gz`);
      const tmp = `${file}.part`;
      fs.writeFileSync(tmp, got.body);
      await listTarball(tmp); // a tarball that does not list is not kept
      fs.renameSync(tmp, file);
      const id = this.tracker.downloads.addZaplistVersion({ source: this.source, etag: got.etag, sha256, path: file });
      this.lastError = "";
      this.log.info({ version: id, sha256, file }, "new zaplists from the archive");
      return id;
    } catch (err) {
      const f = classify(err);
      this.lastError = `${f.errorClass}: ${f.message}`;
      this.log.warn({ error_class: f.errorClass }, `fetching the archive's zaplists failed: ${f.message}`);
      return null;
    }
  }
}
