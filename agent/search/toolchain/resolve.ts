// Finds the search's programs: in configured directories, under a prefix's
// bin/, on PATH, or inside a wrapper such as `apptainer exec IMAGE` (then the
// program is looked up inside the image by running `WRAPPER sh -c 'command -v P'`).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export interface ToolchainSettings {
  /** directories searched first, in order */
  path: string[];
  /** an install prefix: <prefix>/bin is searched after `path` */
  prefix: string;
  /** a command every program runs under, e.g. ["apptainer", "exec", "/images/presto.sif"] */
  wrapper: string[];
}

export interface ResolvedProgram {
  name: string;
  /** argv that starts it: wrapper words then the program */
  argv: string[];
  /** the file, where it can be seen from the agent */
  file?: string;
}

export class MissingProgramError extends Error {
  constructor(
    readonly program: string,
    readonly searched: string[],
    readonly hint: string,
  ) {
    super(`${program} not found (looked in ${searched.join(", ")}): ${hint}`);
    this.name = "MissingProgramError";
  }
}

function isExecutable(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function searchDirs(s: ToolchainSettings, envPath = process.env.PATH ?? ""): string[] {
  return [...s.path, ...(s.prefix ? [path.join(s.prefix, "bin")] : []), ...envPath.split(":").filter(Boolean)];
}

export function resolveProgram(name: string, s: ToolchainSettings): ResolvedProgram {
  if (s.wrapper.length) {
    const r = spawnSync(s.wrapper[0], [...s.wrapper.slice(1), "sh", "-c", `command -v ${JSON.stringify(name).slice(1, -1)}`], {
      encoding: "utf8",
      timeout: 60_000,
    });
    if (r.status === 0 && r.stdout.trim()) return { name, argv: [...s.wrapper, name] };
    throw new MissingProgramError(
      name,
      [`inside '${s.wrapper.join(" ")}'`],
      r.error ? `the wrapper itself failed: ${r.error.message}` : "install it in the image, or fix agent.toolchain.wrapper",
    );
  }
  const dirs = searchDirs(s);
  for (const d of dirs) {
    const file = path.join(d, name);
    if (isExecutable(file)) return { name, argv: [file], file };
  }
  throw new MissingProgramError(
    name,
    dirs.length ? dirs : ["(empty PATH)"],
    "put PRESTO's and psrfits_utils' bin directories on PATH, or set agent.toolchain.prefix / agent.toolchain.path, or run them through agent.toolchain.wrapper",
  );
}
