// A small tmpfs for tests of full disks: mounted in a before hook, unmounted (lazily, so an
// open file cannot keep it) after. Mounting needs root; without it the suite skips, saying so.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Mounts a tmpfs of `size` (e.g. "256k") for the enclosing describe; `dir()` is where. */
export function useTmpfs(size: string): { dir: () => string } {
  let mnt = "";
  before(function () {
    mnt = fs.mkdtempSync(path.join(os.tmpdir(), "bf-tmpfs-"));
    const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mnt], { encoding: "utf8" });
    if (r.status !== 0) {
      console.warn(`skipped: cannot mount a tmpfs (${r.stderr.trim()})`);
      this.skip();
    }
  });
  after(() => {
    if (!mnt) return;
    spawnSync("umount", ["-l", mnt]);
    fs.rmSync(mnt, { recursive: true, force: true });
  });
  return { dir: () => mnt };
}
