// The downloader's share of the disk and its pace, from the filesystem and the tracker
// together (PALFA's can_request_more, can_download and get_num_to_request, §2, with its
// fixed buckets replaced by the observed download rate).
//
//   used     bytes of the downloader's files on disk (tracker: downloaded, not deleted)
//   pending  bytes restored but not yet downloaded (tracker: new/downloading/unverified/retrying)
//   free     what statfs says is free on the download filesystem
//   inflight bytes the running transfers still have to write
//
// A transfer starts only if `free − inflight − its remaining bytes ≥ min_free_space`
// (so downloads never take the space searches' results need) and the downloader's own
// files stay within `space_to_use`; a restore is asked for only if what it brings fits
// both, and the cap on restored-but-not-downloaded files holds.
import fs from "node:fs";
import path from "node:path";
import type { DownloaderConfig } from "../../shared/config/downloader-schema";
import type { DownloadRecords } from "../tracker/downloads";

export interface BudgetSnapshot {
  spaceToUse: number;
  minFreeSpace: number;
  used: number;
  pending: number;
  free: number;
  inflight: number;
  /** bytes per second of the newest transfers, null before the first */
  rate: number | null;
}

/** Free bytes on the filesystem of `dir` (of its nearest existing parent, before it is made). */
export function freeBytes(dir: string): number {
  let d = dir;
  while (!fs.existsSync(d) && path.dirname(d) !== d) d = path.dirname(d);
  const s = fs.statfsSync(d);
  return s.bavail * s.bsize;
}

export class SpaceBudget {
  constructor(
    private readonly cfg: DownloaderConfig,
    private readonly records: DownloadRecords,
    private readonly dir: string,
    /** bytes the running transfers have still to write */
    private readonly inflight: () => number,
  ) {}

  snapshot(): BudgetSnapshot {
    return {
      spaceToUse: this.cfg.space_to_use,
      minFreeSpace: this.cfg.min_free_space,
      used: this.records.usedBytes(),
      pending: this.records.pendingBytes(),
      free: freeBytes(this.dir),
      inflight: this.inflight(),
      rate: this.records.observedRate(),
    };
  }

  /**
   * Why a transfer of a file of `size` bytes, `remaining` of them still to fetch, cannot start
   * now, or null if it can. `activeSizes`: the sizes of the files being transferred.
   */
  whyNotStart(size: number, remaining: number, activeSizes: number): string | null {
    const s = this.snapshot();
    if (s.used + activeSizes + size > s.spaceToUse)
      return `waiting for space_to_use: ${fmt(s.used)} downloaded, ${fmt(activeSizes)} being downloaded, ${fmt(size)} more would pass ${fmt(s.spaceToUse)}`;
    if (s.free - s.inflight - remaining < s.minFreeSpace)
      return `waiting for disk: ${fmt(s.free)} free, ${fmt(s.inflight)} still to write, ${fmt(remaining)} needed, ${fmt(s.minFreeSpace)} kept free`;
    return null;
  }

  /**
   * How many beams to ask for now (0: none). With no history, `request_size`; then what the
   * observed rate downloads in `request_horizon_s`; always within the space and the restored cap.
   */
  beamsToRequest(source: string, openBeams: number, pendingFiles: number): { beams: number; why: string } {
    const s = this.snapshot();
    const shape = this.records.beamShape(source);
    const filesPerBeam = shape.filesPerBeam ?? 1;
    const byCap = Math.floor((this.cfg.max_restored - pendingFiles - openBeams * filesPerBeam) / filesPerBeam);
    if (byCap <= 0) return { beams: 0, why: `${pendingFiles} files restored but not downloaded (max_restored ${this.cfg.max_restored})` };
    let want = this.cfg.request_size;
    let why = "no download seen yet: request_size";
    if (s.rate && shape.bytesPerBeam) {
      want = Math.floor((s.rate * this.cfg.request_horizon_s) / shape.bytesPerBeam);
      why = `${fmt(s.rate)}/s observed for ${this.cfg.request_horizon_s} s`;
    }
    let beams = Math.min(want, byCap, this.cfg.max_request_size);
    if (shape.bytesPerBeam) {
      const bySpace = Math.floor((this.cfg.space_to_use - s.used - s.pending) / shape.bytesPerBeam);
      // Conservative: a pending file's bytes already in a partial file are counted twice.
      const byFree = Math.floor((s.free - s.pending - s.minFreeSpace) / shape.bytesPerBeam);
      if (bySpace < beams) why = `space_to_use leaves room for ${Math.max(0, bySpace)}`;
      if (byFree < beams && byFree < bySpace) why = `free space leaves room for ${Math.max(0, byFree)}`;
      beams = Math.min(beams, bySpace, byFree);
    } else if (s.used + s.pending >= this.cfg.space_to_use || s.free - s.inflight < s.minFreeSpace) {
      return { beams: 0, why: "no room in the space budget" };
    }
    return { beams: Math.max(0, beams), why };
  }
}

export function fmt(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}
