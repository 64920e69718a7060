// The environment a search's steps run in. Programs found through
// agent.toolchain.path or .prefix must also find their own helpers: PRESTO's
// Python scripts start with `#!/usr/bin/env python` and import PRESTO's package,
// and PRESTO's programs read their catalogues from $PRESTO. So the configured
// directories go first on PATH, the prefix's Python packages on PYTHONPATH, and
// $PRESTO is set, as PRESTO's own installation instructions have a shell do.
import fs from "node:fs";
import path from "node:path";
import type { ToolchainSettings } from "./resolve";

export interface StepEnvSettings extends ToolchainSettings {
  prestoDir: string;
}

/** Python package directories an install prefix may hold (Debian's and upstream's layouts). */
function prefixPythonDirs(prefix: string): string[] {
  const lib = path.join(prefix, "lib");
  let names: string[];
  try {
    names = fs
      .readdirSync(lib)
      .filter((n) => /^python3(\.\d+)?$/.test(n))
      .sort();
  } catch {
    return [];
  }
  const dirs: string[] = [];
  for (const n of names) {
    for (const kind of ["dist-packages", "site-packages"]) {
      const d = path.join(lib, n, kind);
      if (fs.existsSync(d)) dirs.push(d);
    }
  }
  return dirs;
}

function joinPaths(first: string[], rest: string | undefined): string {
  const seen = new Set<string>();
  const all = [...first, ...(rest ?? "").split(":")].filter((d) => d && !seen.has(d) && seen.add(d));
  return all.join(":");
}

/**
 * Variables added to the agent's own environment for every search step. Inside a
 * wrapper (a container) the image defines its own environment, so nothing is added.
 */
export function toolchainStepEnv(s: StepEnvSettings, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (s.wrapper.length) return {};
  const env: Record<string, string> = {};
  const bins = [...s.path, ...(s.prefix ? [path.join(s.prefix, "bin")] : [])];
  if (bins.length) env.PATH = joinPaths(bins, base.PATH);
  const presto = s.prestoDir || s.prefix;
  if (presto && !base.PRESTO) env.PRESTO = presto;
  const py = s.prefix ? prefixPythonDirs(s.prefix) : [];
  if (py.length) env.PYTHONPATH = joinPaths(py, base.PYTHONPATH);
  // PRESTO's Python plotting must not look for a display on a compute node.
  if (!base.MPLBACKEND) env.MPLBACKEND = "Agg";
  return env;
}
