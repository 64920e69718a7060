// PALFA's delete_rawdata: once a beam's results are uploaded, or it failed for
// good, its raw files are removed from disk and marked `deleted`. Called after the
// job's new state is committed (PALFA deleted first and could lose a beam whose
// state change then failed); a file that cannot be removed is logged and left,
// never undoing the state change.
import fs from "node:fs";
import type { Logger } from "../../shared/logging/logger";
import type { Tracker } from "../tracker/tracker";

export interface Deleted {
  deleted: string[];
  failed: { file: string; error: string }[];
}

export function deleteRawData(tracker: Tracker, jobId: number, reason: string, log: Logger): Deleted {
  const out: Deleted = { deleted: [], failed: [] };
  for (const f of tracker.filesOfJob(jobId)) {
    if (f.status === "deleted") continue;
    try {
      fs.rmSync(f.filename, { force: true });
      tracker.markFileDeleted(f.id, `deleted: ${reason}`);
      out.deleted.push(f.filename);
    } catch (err) {
      out.failed.push({ file: f.filename, error: (err as Error).message });
    }
  }
  if (out.deleted.length) log.info({ job: jobId, files: out.deleted }, `raw data deleted: ${reason}`);
  for (const f of out.failed) log.error({ job: jobId, file: f.file, err: f.error }, "raw data file could not be deleted");
  return out;
}
