// Shared helpers for the results/diagnostics/zaplist tests: where the real PRESTO
// fixtures live, scratch directories, and clearly-labelled stand-ins for files our
// own pipeline makes (PNG plots, sifting summary/report) that no fixture can hold.

import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const PRESTO = path.join(__dirname, "..", "..", "..", "fixtures", "presto");

/** Real text outputs of the beam_J1903 search (see test/fixtures/presto and its shared README). */
export const BEAM = path.join(PRESTO, "beam_J1903");
export const ALL_DMS = path.join(BEAM, "all_dms");
/** Real binary outputs of the same search (rfifind mask/stats/..., accelsearch .cand). */

export function fixture(...parts: string[]): string {
  return path.join(BEAM, ...parts);
}

export function sha256(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** A temporary directory; remove with cleanup(). */
export class Scratch {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-results-"));

  /** A fresh subdirectory. */
  sub(name: string): string {
    const p = path.join(this.dir, name);
    fs.mkdirSync(p, { recursive: true });
    return p;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Copy `src` into `dir` under its own name (or `as`); returns the new path. */
export function copyInto(src: string, dir: string, as?: string): string {
  const dest = path.join(dir, as ?? path.basename(src));
  fs.copyFileSync(src, dest);
  return dest;
}

/**
 * Bytes that stand in for a file our own pipeline makes (a PNG rendered from a
 * PRESTO .ps, the sifting summary): obviously not real data, so no test can mistake
 * it for output of PRESTO. Only presence and pass-through are tested with these.
 */
export function syntheticBytes(label: string): Buffer {
  return Buffer.from(`SYNTHETIC TEST BYTES for ${label}; not a real plot or PRESTO output\n`);
}
