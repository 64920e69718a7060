// A downloader in this process over a real tracker (SQLite file) and a real reference
// archive on loopback (test/support/reference-archive.ts): beams of random bytes.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Downloader } from "../../../coordinator/downloader/downloader";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker } from "../../../coordinator/tracker/tracker";
import { defaultConfig } from "../../../shared/config/load";
import type { Config, ConfigInput } from "../../../shared/config/schema";
import { createLogger } from "../../../shared/logging/logger";
import { type ArchiveOptions, type ReferenceArchive, startReferenceArchive } from "../../support/reference-archive";
import { waitFor } from "../../support/cluster";

export interface Rig {
  dir: string;
  archive: ReferenceArchive;
  tracker: Tracker;
  downloader: Downloader;
  config: Config;
  jobs: number[];
  close(): Promise<void>;
}

/** `count` single-file beams of `bytes` random bytes each, named as WAPP-less default beams. */
export function makeBeams(dir: string, count: number, bytes: number, prefix = "beam"): string[][] {
  fs.mkdirSync(dir, { recursive: true });
  return Array.from({ length: count }, (_, i) => {
    const f = path.join(dir, `${prefix}${String(i).padStart(2, "0")}.fits`);
    fs.writeFileSync(f, crypto.randomBytes(bytes));
    return [f];
  });
}

export async function rig(
  beams: (dir: string) => string[][],
  downloader: NonNullable<ConfigInput["downloader"]> & Record<string, unknown> = {},
  archiveOpts: Partial<ArchiveOptions> = {},
  sourceExtra: Record<string, unknown> = {},
): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-dl-"));
  const archive = await startReferenceArchive({ beams: beams(path.join(dir, "archive")), ...archiveOpts });
  const config = defaultConfig(path.join(dir, "data"), {
    jobs: { type: "commands", commands: [{ name: "true", argv: ["true"] }] },
    downloader: {
      poll_s: 0.1,
      retry_initial_s: 0.1,
      retry_max_s: 0.5,
      min_free_space: 0,
      stall_timeout_s: 5,
      ...downloader,
      sources: [{ name: "archive", type: "restore-api", url: archive.url, ...sourceExtra }],
    },
  } as ConfigInput);
  createTracker(config.coordinator.db);
  const tracker = new Tracker(openTracker(config.coordinator.db));
  const jobs: number[] = [];
  const d = new Downloader(tracker, config, createLogger("downloader", process.env.BEAMFLOW_TEST_LOGS ? "debug" : "silent"), (ids) => jobs.push(...ids));
  const r: Rig = {
    dir,
    archive,
    tracker,
    downloader: d,
    config,
    jobs,
    async close() {
      await d.stop();
      await archive.close();
      tracker.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return r;
}

/** Waits until `n` files are downloaded (and their requests settled). */
export function downloaded(r: Rig, n: number, timeoutMs = 20000): Promise<void> {
  return waitFor(
    `${n} files downloaded`,
    () => r.tracker.downloads.usedBytes() > 0 && r.tracker.files.tracked().filter((f) => f.status === "downloaded").length >= n,
    timeoutMs,
    20,
  ).then(() => undefined);
}

/** Bytes in a directory tree (what is on disk, partial files included). */
export function du(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += du(p);
    else if (e.isFile()) n += fs.statSync(p).size;
  }
  return n;
}
