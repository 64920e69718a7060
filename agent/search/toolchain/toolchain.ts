// The resolved toolchain of one agent: where each program is, which flags the
// installed versions accept, and what to record as provenance. Built once and
// reused by every palfa-search attempt on the agent.
import { harmpolishFlags, optionalFlag, parseUsageFlags, readUsage, requiredFlag, type FlagSet } from "./flags";
import { MOCK_ONLY, SEARCH_PROGRAM_NAMES, type SearchProgram } from "./programs";
import { provenance, type Provenance } from "./provenance";
import { resolveProgram, type ResolvedProgram, type ToolchainSettings } from "./resolve";
import { toolchainStepEnv } from "./step-env";
import { checkPlotPython } from "./python";
import { PFD_PLOT_SCRIPT } from "../plots/pfd-plot-script";

/** Programs whose usage text lists their flags (PRESTO's clig programs). */
const FLAG_PROGRAMS: readonly SearchProgram[] = ["rfifind", "prepsubband", "prepdata", "accelsearch", "prepfold"];

export interface ToolchainConfig extends ToolchainSettings {
  prestoDir: string;
  psrfitsUtilsDir: string;
}

export class Toolchain {
  private constructor(
    private readonly programs: Map<SearchProgram, ResolvedProgram>,
    private readonly flags: Map<SearchProgram, FlagSet>,
    readonly provenance: Provenance,
    /** added to every step's environment (PATH, PRESTO, PYTHONPATH for a configured prefix) */
    readonly env: Record<string, string>,
  ) {}

  /** Resolves every program the search needs (Mock-only ones only when asked) and reads their flags. */
  static async load(cfg: ToolchainConfig, opts: { mock: boolean }): Promise<Toolchain> {
    const needed = SEARCH_PROGRAM_NAMES.filter((p) => opts.mock || !MOCK_ONLY.includes(p));
    const programs = new Map<SearchProgram, ResolvedProgram>();
    for (const name of needed) programs.set(name, resolveProgram(name, cfg));
    const flags = new Map<SearchProgram, FlagSet>();
    const env = toolchainStepEnv(cfg);
    await Promise.all([
      ...FLAG_PROGRAMS.filter((p) => programs.has(p)).map(async (p) => {
        flags.set(p, parseUsageFlags(await readUsage(programs.get(p)!)));
      }),
      // The candidate plots need PRESTO's package and matplotlib: known now, not after the search.
      ...(programs.has("python") ? [checkPlotPython(programs.get("python")!, env)] : []),
    ]);
    // The plot script is recorded beside the programs (its SHA-256 says which version drew the plots).
    const recorded = [...programs.values(), { name: "pfd_plot.py", argv: [PFD_PLOT_SCRIPT], file: PFD_PLOT_SCRIPT }];
    return new Toolchain(programs, flags, provenance(recorded, { presto: cfg.prestoDir, psrfitsUtils: cfg.psrfitsUtilsDir }, cfg.wrapper), env);
  }

  /** argv prefix that starts a program */
  cmd(p: SearchProgram): string[] {
    const r = this.programs.get(p);
    if (!r) throw new Error(`${p} was not resolved for this search`);
    return r.argv;
  }

  flagsOf(p: SearchProgram): FlagSet {
    return this.flags.get(p) ?? new Set();
  }

  /** PALFA's data-type flag (-psrfits), where the installed program still knows it. */
  datatype(p: SearchProgram, flag: string): string[] {
    return optionalFlag(this.flagsOf(p), flag);
  }

  /** -ncpus N for the OpenMP programs that have it, when more than one core is reserved. */
  ncpus(p: SearchProgram, cores: number): string[] {
    return cores > 1 && this.flagsOf(p).has("-ncpus") ? ["-ncpus", String(cores)] : [];
  }

  harmpolish(): string[] {
    return harmpolishFlags(this.flagsOf("accelsearch"));
  }

  locpow(wanted: boolean): string[] {
    return wanted ? requiredFlag("accelsearch", this.flagsOf("accelsearch"), "-locpow", "search.accel_locpow is set") : [];
  }
}
