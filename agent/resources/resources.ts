// What this node has free, for the coordinator's dispatcher. systeminformation
// for memory (it knows "available", not just "free"); statfs for /dev/shm and
// scratch, because systeminformation leaves tmpfs out of its filesystem list.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import si from "systeminformation";
import type { Resources } from "../../shared/gen/agent";

/** statfs of the nearest existing ancestor, so a work dir not yet created still reports its filesystem. */
export function diskSpace(dir: string): { total: number; free: number } {
  let p = path.resolve(dir);
  for (;;) {
    try {
      const s = fs.statfsSync(p);
      return { total: s.blocks * s.bsize, free: s.bavail * s.bsize };
    } catch (err) {
      const parent = path.dirname(p);
      if ((err as NodeJS.ErrnoException).code !== "ENOENT" || parent === p) return { total: 0, free: 0 };
      p = parent;
    }
  }
}

/** Bytes allocated to the files under dir (what it takes from its filesystem); 0 when it is gone. */
export function diskUsage(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += diskUsage(p);
    else {
      try {
        total += fs.lstatSync(p).blocks * 512;
      } catch {
        /* removed meanwhile */
      }
    }
  }
  return total;
}

export interface ResourceSettings {
  cores?: number;
  workBase: string;
  scratchDir: string;
}

export async function measureResources(s: ResourceSettings): Promise<Resources> {
  const mem = await si.mem();
  const shm = diskSpace(s.workBase);
  return {
    cores: s.cores ?? os.availableParallelism(),
    load1: os.loadavg()[0],
    memoryTotal: mem.total,
    memoryFree: mem.available,
    shmTotal: shm.total,
    shmFree: shm.free,
    scratchFree: diskSpace(s.scratchDir).free,
  };
}
