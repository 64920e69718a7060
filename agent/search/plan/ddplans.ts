/**
 * PALFA's hard-coded dedispersion plans, and the choice of plan for a beam.
 *
 * Public API:
 *   PALFA_MOCK_PLAN, PALFA_WAPP_PLAN: readonly DDplanStep[]
 *   chooseDDplan(params, header, options?): ChosenPlan
 *   planDmRange(steps): { lodm, hidm, trials, passes }
 *   class PlanError
 *
 * PALFA2_presto_search.obs_info.set_DDplan picked the plan by backend: 'pdev' (the
 * Mock spectrometers) or 'wapp', and raised for anything else. We keep those two
 * plans as data (V-2 branch, palfa-reference.md section 5.4) and add the other
 * sources the config allows: explicit rows, or a plan derived from the beam's own
 * header by DDplan.py's algorithm (derive.ts) - which is also what `auto` falls
 * back to for a backend PALFA had no plan for, instead of failing the job.
 */

import { type DDplanStep, type SearchParams } from "../../../shared/config/search-params";
import { type PsrfitsHeader } from "../../../shared/psrfits";
import { type DerivedPlan, type SmearingModel, derivePlan, derivedPlanSteps } from "./derive";

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanError";
  }
}

const row = (lodm: number, dmstep: number, dmsPerCall: number, calls: number, nsub: number, downsamp: number) =>
  Object.freeze({ lodm, dmstep, dms_per_call: dmsPerCall, calls, nsub, downsamp });

/**
 * Mock (backend 'pdev'), pipeline2.0 V-2: DM 0-5090.4 in 85 prepsubband passes and
 * 6276 trials. (master stopped at the 990.4 row with 1 call; the 2019 fork extends
 * the last row to 10 calls and adds 5546.4/5.0/72/12/96/30.)
 */
export const PALFA_MOCK_PLAN: readonly DDplanStep[] = Object.freeze([
  //  lodm  dmstep dms/call calls nsub downsamp
  row(0.0, 0.1, 76, 28, 96, 1),
  row(212.8, 0.3, 64, 12, 96, 2),
  row(443.2, 0.3, 76, 4, 96, 3),
  row(534.4, 0.5, 76, 9, 96, 5),
  row(876.4, 0.5, 76, 3, 96, 6),
  row(990.4, 1.0, 76, 11, 96, 10),
  row(1826.4, 2.0, 72, 10, 96, 15),
  row(3266.4, 3.0, 76, 8, 96, 30),
]);

/** WAPP: DM 0-1725.2 in 15 passes and 1140 trials. */
export const PALFA_WAPP_PLAN: readonly DDplanStep[] = Object.freeze([
  row(0.0, 0.3, 76, 9, 96, 1),
  row(205.2, 2.0, 76, 5, 96, 5),
  row(965.2, 10.0, 76, 1, 96, 25),
]);

export type PlanSource = "explicit" | "mock" | "wapp" | "derived";

export interface ChosenPlan {
  source: PlanSource;
  steps: DDplanStep[];
  /** One line saying why, for the job log. */
  reason: string;
  /** The DDplan.py-style computation, for a derived plan. */
  derived: DerivedPlan | null;
}

export interface ChooseOptions {
  /** Smearing model for a derived plan (see derive.ts); default "exact" (PRESTO v6). */
  smearing?: SmearingModel;
}

/** The header fields a plan depends on (a PsrfitsHeader has them all). */
export type PlanHeader = Pick<PsrfitsHeader, "backend" | "bandwidthMhz" | "centreFreqMhz" | "chanDm"> & {
  subint: Pick<PsrfitsHeader["subint"], "tbin" | "nchan" | "nsblk">;
};

function backendKind(backend: string): "mock" | "wapp" | null {
  const b = backend.trim().toLowerCase();
  if (b === "pdev") return "mock";
  if (b === "wapp") return "wapp";
  return null;
}

export function chooseDDplan(params: SearchParams, header: PlanHeader, options: ChooseOptions = {}): ChosenPlan {
  const copy = (steps: readonly DDplanStep[]): DDplanStep[] => steps.map((s) => ({ ...s }));
  switch (params.ddplan_source) {
    case "explicit":
      if (params.ddplan.length === 0) throw new PlanError("ddplan_source is 'explicit' but no ddplan rows are given");
      return { source: "explicit", steps: copy(params.ddplan), reason: "explicit ddplan rows from the search parameters", derived: null };
    case "mock":
      return { source: "mock", steps: copy(PALFA_MOCK_PLAN), reason: "PALFA's Mock plan (ddplan_source: mock)", derived: null };
    case "wapp":
      return { source: "wapp", steps: copy(PALFA_WAPP_PLAN), reason: "PALFA's WAPP plan (ddplan_source: wapp)", derived: null };
    case "derived":
      return derived(params, header, options, "ddplan_source: derived");
    case "auto": {
      const kind = backendKind(header.backend);
      if (kind !== null) {
        const [plan, name] = kind === "mock" ? [PALFA_MOCK_PLAN, "Mock"] : [PALFA_WAPP_PLAN, "WAPP"];
        // PALFA's plans were made for its spectrometers' channels: prepsubband refuses a
        // subband count that does not divide the channel count, so other data get a plan of their own.
        const misfit = plan.find((row) => header.subint.nchan % row.nsub !== 0);
        if (misfit) {
          return derived(
            params,
            header,
            options,
            `backend '${header.backend}', but PALFA's ${name} plan (${misfit.nsub} subbands) does not fit ${header.subint.nchan} channels`,
          );
        }
        return { source: kind, steps: copy(plan), reason: `backend '${header.backend}' is the ${name}: PALFA's ${name} plan`, derived: null };
      }
      return derived(params, header, options, `no PALFA plan for backend '${header.backend}'`);
    }
  }
}

function derived(params: SearchParams, header: PlanHeader, options: ChooseOptions, why: string): ChosenPlan {
  // prepsubband needs a subband count that divides the channel count: the largest one
  // up to derived_nsub. DDplan.py takes fctr from OBSFREQ; we take the centre of the
  // channels actually in the file (the same for Mock data; see psrfits-header.ts).
  const nsub = subbandsFor(header.subint.nchan, params.derived_nsub);
  const plan = derivePlan({
    lodm: params.derived_lodm,
    hidm: params.derived_hidm,
    dt: header.subint.tbin,
    nchan: header.subint.nchan,
    bw: header.bandwidthMhz,
    fctr: header.centreFreqMhz,
    nsub,
    resolutionMs: params.derived_resolution_ms,
    blocklen: header.subint.nsblk,
    cdm: header.chanDm,
    smearing: options.smearing ?? "exact",
  });
  return {
    source: "derived",
    steps: derivedPlanSteps(plan),
    reason: `${why}: derived as DDplan.py does for DM ${params.derived_lodm}-${params.derived_hidm}, ` + `${params.derived_resolution_ms} ms, ${nsub} subbands`,
    derived: plan,
  };
}

/** The largest divisor of nchan that is at most `wanted`. */
export function subbandsFor(nchan: number, wanted: number): number {
  for (let n = Math.min(wanted, nchan); n > 1; n--) if (nchan % n === 0) return n;
  return 1;
}

/** DM coverage and size of a plan. */
export function planDmRange(steps: readonly DDplanStep[]): { lodm: number; hidm: number; trials: number; passes: number } {
  if (steps.length === 0) return { lodm: 0, hidm: 0, trials: 0, passes: 0 };
  const last = steps[steps.length - 1];
  return {
    lodm: steps[0].lodm,
    hidm: last.lodm + last.calls * last.dms_per_call * last.dmstep,
    trials: steps.reduce((n, s) => n + s.calls * s.dms_per_call, 0),
    passes: steps.reduce((n, s) => n + s.calls, 0),
  };
}
