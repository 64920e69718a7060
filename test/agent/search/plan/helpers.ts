// Shared helpers for the search-plan tests: where the real fixtures are, PRESTO
// readfile's "label = value" output as a map, and a scratch directory.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** Real Mock PSRFITS files: two halves and combine_mocks' output (psrfits_utils cfc9430). */
export const PSRFITS_DIR = path.join(__dirname, "..", "..", "..", "fixtures", "psrfits");
export const COMBINED = path.join(PSRFITS_DIR, "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits");
export const HALF_S0 = path.join(PSRFITS_DIR, "p2030.20230225.G037.00-00.10.C.b0s0g0.00000.fits");
export const HALF_S1 = path.join(PSRFITS_DIR, "p2030.20230225.G037.00-00.10.C.b0s1g0.00000.fits");

/** Copies of real PRESTO outputs for these tests (see fixtures/README.md). */
export const PLAN_FIXTURES = path.join(__dirname, "fixtures");
/** The 40 s beam's search products (PRESTO v6.0.1). */
export const BEAM_DIR = path.join(__dirname, "..", "..", "..", "fixtures", "presto", "beam_J1903");

export function planFixture(name: string): string {
  return fs.readFileSync(path.join(PLAN_FIXTURES, name), "utf8");
}

/** readfile's "label = value" lines (first occurrence of each label), values trimmed. */
export function readfileValues(name: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of planFixture(name).split("\n")) {
    const eq = line.indexOf(" = ");
    if (eq < 0) continue;
    const label = line.slice(0, eq).trim();
    if (!out.has(label)) out.set(label, line.slice(eq + 3).trim());
  }
  return out;
}

export function get(values: Map<string, string>, label: string): string {
  const v = values.get(label);
  if (v === undefined) throw new Error(`readfile output has no "${label}"`);
  return v;
}

/** A temporary directory for one test file. */
export class Scratch {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-plan-"));

  path(name: string): string {
    return path.join(this.dir, name);
  }

  /** A copy of `src` cut to its first `bytes` bytes. */
  truncatedCopy(src: string, bytes: number, name: string): string {
    const p = this.path(name);
    fs.writeFileSync(p, fs.readFileSync(src).subarray(0, bytes));
    return p;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
