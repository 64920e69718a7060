// What produced a result: each program's file and SHA-256 (or the wrapper that
// ran it), PRESTO's and psrfits_utils' git commits where their source trees are
// known, and beamflow's own version. Recorded with every result.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { BEAMFLOW_VERSION } from "../../../shared/version";
import type { ResolvedProgram } from "./resolve";

export interface Provenance {
  beamflow: string;
  presto: string;
  psrfits_utils: string;
  wrapper: string[];
  programs: Record<string, { argv: string[]; sha256?: string }>;
}

/** HEAD's commit of a git checkout, read from .git without running git. */
export function gitHead(dir: string): string | undefined {
  try {
    const gitDir = path.join(dir, ".git");
    const head = fs.readFileSync(path.join(gitDir, "HEAD"), "utf8").trim();
    if (!head.startsWith("ref: ")) return head;
    const ref = head.slice(5);
    try {
      return fs.readFileSync(path.join(gitDir, ref), "utf8").trim();
    } catch {
      const packed = fs.readFileSync(path.join(gitDir, "packed-refs"), "utf8");
      return packed
        .split("\n")
        .find((l) => l.endsWith(` ${ref}`))
        ?.split(" ")[0];
    }
  } catch {
    return undefined;
  }
}

const hashes = new Map<string, string>();
function fileSha256(file: string): string | undefined {
  if (hashes.has(file)) return hashes.get(file);
  try {
    const h = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    hashes.set(file, h);
    return h;
  } catch {
    return undefined;
  }
}

export function provenance(programs: ResolvedProgram[], dirs: { presto: string; psrfitsUtils: string }, wrapper: string[]): Provenance {
  const version = (dir: string) => (dir ? (gitHead(dir) ?? `unknown (no git checkout at ${dir})`) : "unknown (source tree not configured)");
  return {
    beamflow: BEAMFLOW_VERSION,
    presto: version(dirs.presto),
    psrfits_utils: version(dirs.psrfitsUtils),
    wrapper,
    programs: Object.fromEntries(programs.map((p) => [p.name, { argv: p.argv, ...(p.file ? { sha256: fileSha256(p.file) } : {}) }])),
  };
}
