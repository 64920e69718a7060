// Can attempt work dirs be made under work_base? Tried for real (a probe dir
// created, written and removed), because permission bits say nothing when the
// agent runs as root, nor about a read-only filesystem or a file in the way.
import fs from "node:fs";
import path from "node:path";

const FULL = ["ENOSPC", "EDQUOT"];

export type WorkDirCheck = { ok: true } | { ok: false; why: string };

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message}` : e.message;
}

/**
 * `create`: make work_base if it is missing, as the agent does (never from a shell that
 * may not be the agent's user: then a missing work_base only needs a writable parent).
 */
export function probeWorkDir(workBase: string, opts: { create: boolean }): WorkDirCheck {
  const base = path.resolve(workBase);
  try {
    if (opts.create) fs.mkdirSync(base, { recursive: true, mode: 0o700 });
    else if (!fs.existsSync(base)) return writableAncestor(base);
    const probe = fs.mkdtempSync(path.join(base, ".probe-"));
    try {
      fs.writeFileSync(path.join(probe, "w"), "beamflow work dir probe\n");
    } finally {
      fs.rmSync(probe, { recursive: true, force: true });
    }
    return { ok: true };
  } catch (err) {
    // Full is not broken: the dispatcher already weighs the free space every heartbeat reports,
    // and a tmpfs filled by running beams frees up when they end.
    if (FULL.includes((err as NodeJS.ErrnoException).code ?? "")) return { ok: true };
    return { ok: false, why: `cannot create or write work dirs under ${base} (${errorText(err)})` };
  }
}

function writableAncestor(base: string): WorkDirCheck {
  let dir = base;
  while (!fs.existsSync(dir)) dir = path.dirname(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return { ok: true };
  } catch {
    return { ok: false, why: `${base} does not exist and ${dir} is not writable` };
  }
}
