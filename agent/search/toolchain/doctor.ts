// `beamflow doctor`: checks what a palfa-search needs on this node and says
// exactly what is missing and how to point beamflow at it. The agent runs the
// same program checks to tell the coordinator whether it can search at all.
import path from "node:path";
import { diskSpace } from "../../resources/resources";
import { probeWorkDir } from "../../resources/work-dir";
import { formatSize } from "../../../shared/config/sizes";
import { harmpolishFlags, parseUsageFlags, readUsage } from "./flags";
import { MOCK_ONLY, SEARCH_PROGRAMS, SEARCH_PROGRAM_NAMES } from "./programs";
import { gitHead } from "./provenance";
import { checkPlotPython, PLOT_PYTHON_FIX, PlotPythonError } from "./python";
import { MissingProgramError, resolveProgram, searchDirs } from "./resolve";
import { toolchainStepEnv } from "./step-env";
import type { ToolchainConfig } from "./toolchain";

export interface Check {
  what: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Minimum tmpfs free space worth calling usable for a beam (a Mock beam is ~1 GB, times the shm factor). */
const SHM_WARN_BYTES = 4 * 2 ** 30;

export interface ProgramsReport {
  checks: Check[];
  /** programs not found */
  missing: string[];
  /** programs found that cannot be used, and why (cannot run, not PRESTO's) */
  broken: { name: string; why: string }[];
}

/** Where programs are looked for, in words. */
export function whereLooked(cfg: ToolchainConfig): string {
  return cfg.wrapper.length ? `inside '${cfg.wrapper.join(" ")}'` : searchDirs(cfg).join(":");
}

/**
 * Every program of the search: found, (accelsearch) PRESTO's, with the flags it takes, and
 * (python) able to import PRESTO's package and matplotlib for the candidate plots.
 */
export async function checkPrograms(cfg: ToolchainConfig): Promise<ProgramsReport> {
  const report: ProgramsReport = { checks: [], missing: [], broken: [] };
  for (const name of SEARCH_PROGRAM_NAMES) {
    const what = `${name}${MOCK_ONLY.includes(name) ? " (Mock data only)" : ""}`;
    try {
      const p = resolveProgram(name, cfg);
      let detail = p.argv.join(" ");
      if (name === "accelsearch") {
        const flags = parseUsageFlags(await readUsage(p));
        const polish = harmpolishFlags(flags);
        detail += polish.length ? " (accepts -harmpolish: PRESTO < 4)" : " (polishes harmonics by default: -harmpolish is not passed)";
      }
      if (name === "python") detail += ` (${await checkPlotPython(p, toolchainStepEnv(cfg))})`;
      report.checks.push({ what, ok: true, detail });
    } catch (err) {
      const e = err as Error;
      if (err instanceof MissingProgramError) report.missing.push(name);
      else report.broken.push({ name, why: e.message });
      report.checks.push({
        what,
        ok: false,
        detail: err instanceof MissingProgramError ? `not found (${SEARCH_PROGRAMS[name]})` : e.message,
        ...(err instanceof PlotPythonError ? { fix: PLOT_PYTHON_FIX } : {}),
      });
    }
  }
  if (report.missing.length || report.broken.length) {
    report.checks.push({
      what: "where programs are looked for",
      ok: false,
      detail: whereLooked(cfg),
      fix: "put PRESTO's and psrfits_utils' bin directories on PATH, set agent.toolchain.prefix or agent.toolchain.path, or run them in a container with agent.toolchain.wrapper (e.g. [apptainer, exec, presto.sif]); gs comes from Debian's ghostscript package",
    });
  }
  return report;
}

export async function doctor(cfg: ToolchainConfig, workBase: string): Promise<Check[]> {
  const checks: Check[] = [...(await checkPrograms(cfg)).checks];

  const presto = cfg.prestoDir ? gitHead(cfg.prestoDir) : undefined;
  checks.push({
    what: "PRESTO version",
    // Not fatal: results still record each program's SHA-256.
    ok: true,
    detail: presto ? `commit ${presto} (${cfg.prestoDir})` : "unknown",
    fix: presto ? undefined : "set agent.toolchain.presto_dir (or $PRESTO) to PRESTO's git checkout so results record its commit",
  });

  const space = diskSpace(workBase);
  const work = probeWorkDir(workBase, { create: false });
  checks.push({
    what: `work dir ${workBase}`,
    ok: work.ok && space.total > 0,
    detail: `${work.ok ? "writable" : work.why}; ${formatSize(space.free)} free of ${formatSize(space.total)}`,
    fix: work.ok ? undefined : `create ${path.resolve(workBase)} writable by the agent's user, or set agent.work_base`,
  });
  if (space.free < SHM_WARN_BYTES) {
    checks.push({
      what: "tmpfs size",
      ok: false,
      detail: `only ${formatSize(space.free)} free under ${workBase}`,
      fix: "a beam stages into the work dir and keeps its subbands and DM trials there: enlarge /dev/shm (mount -o remount,size=…) or point agent.work_base at a larger tmpfs",
    });
  }
  return checks;
}
