/**
 * A dedispersion plan expanded into prepsubband passes, as PALFA's search_job runs them.
 *
 * Public API:
 *   expandPasses(plan, data): PrepsubbandPass[]     plan: DDplanStep[] or a ChosenPlan; data: N or a header
 *   type Pass = PrepsubbandPass
 *   planProblems(steps, header): string[]       why prepsubband would refuse this plan for these data
 *   formatDm(dm): string                        "%.2f", as PRESTO names DM files
 *
 * For every DDplan row and every call i (PALFA2_presto_search.dedisp_plan):
 *   subDM   = lodm + (i + 0.5) * dms_per_call * dmstep   (the subbands' DM, -subdm)
 *   lodm_i  = lodm + i * dms_per_call * dmstep           (-lodm of the dedispersion)
 *   DMs     = lodm_i + k * dmstep, k < dms_per_call, each "%.2f" (the _DM<dm>.dat names)
 *   -numout = choose_N(orig_N / downsamp)                 (integer division: PALFA ran Python 2)
 * The subband pass downsamples by `downsamp` and the dedispersion pass by 1 (PALFA's
 * sub_downsamp / dd_downsamp). The pass whose DM list contains 0.00 is the zero-DM
 * pass: PALFA skips the high-z accelsearch there and runs single_pulse_search.py
 * with -b (no bad-block removal), since DM 0 is where broadband RFI lives.
 */

import { type DDplanStep } from "../../../shared/config/search-params";
import { formatFixed } from "../../../shared/presto/pycompat";
import { chooseN } from "./choose-n";

export interface PrepsubbandPass {
  /** 0-based index of the DDplan row, and of the call within it. */
  step: number;
  call: number;
  /** Running pass number over the whole plan, 0-based. */
  index: number;
  /** -subdm of the subband pass, as a number and as PRESTO formats it ("%.2f"). */
  subDm: number;
  subDmStr: string;
  /** -lodm / -dmstep / -numdms of the dedispersion pass. */
  lodm: number;
  lodmStr: string;
  dmstep: number;
  dmstepStr: string;
  numDms: number;
  /** The DM trials, "%.2f" as in <base>_DM<dm>.dat. */
  dms: string[];
  downsamp: number;
  nsub: number;
  /** -numout: choose_N(orig_N / downsamp); 0 means "leave -numout out" (< 10000 samples). */
  numout: number;
  /** True for the pass containing DM 0.00 (no high-z search; single_pulse_search.py -b). */
  zeroDm: boolean;
}

/** Python's "%.2f": the exact binary value rounded half to even. */
export function formatDm(dm: number): string {
  return formatFixed(dm, 2);
}

export type Pass = PrepsubbandPass;

/**
 * `data` is the number of spectra in the data (PRESTO's N: NAXIS2 * NSBLK for one
 * file, after any cal rows were removed), or a header carrying it as `samples`.
 */
export function expandPasses(plan: readonly DDplanStep[] | { steps: readonly DDplanStep[] }, data: number | { samples: number }): PrepsubbandPass[] {
  const steps = "steps" in plan ? plan.steps : plan;
  const origN = typeof data === "number" ? data : data.samples;
  if (!Number.isSafeInteger(origN) || origN < 0) throw new Error(`expandPasses: bad sample count ${origN}`);
  const passes: PrepsubbandPass[] = [];
  steps.forEach((s, stepIndex) => {
    const subDmStep = s.dms_per_call * s.dmstep;
    const numout = chooseN(Math.floor(origN / s.downsamp));
    for (let call = 0; call < s.calls; call++) {
      const lodm = s.lodm + call * subDmStep;
      // np.arange(dmsperpass)*dmstep + lodm: each DM from its index, not by accumulation.
      const dms: string[] = [];
      for (let k = 0; k < s.dms_per_call; k++) dms.push(formatDm(k * s.dmstep + lodm));
      const subDm = s.lodm + (call + 0.5) * subDmStep;
      passes.push({
        step: stepIndex,
        call,
        index: passes.length,
        subDm,
        subDmStr: formatDm(subDm),
        lodm,
        lodmStr: formatDm(lodm),
        dmstep: s.dmstep,
        dmstepStr: formatDm(s.dmstep),
        numDms: s.dms_per_call,
        dms,
        downsamp: s.downsamp,
        nsub: s.nsub,
        numout,
        zeroDm: dms.some((d) => Number(d) === 0),
      });
    }
  });
  return passes;
}

/** The header fields planProblems checks. */
export interface PassDataShape {
  subint: { nsblk: number; nchan: number };
}

/**
 * What prepsubband would exit on, or silently change, for these data: -downsamp
 * must divide the block length (NSBLK) - "The downsample factor (%d) must be a
 * factor of the blocklength" - and -nsub above the channel count is lowered to it.
 * PALFA's Mock plan assumes Mock rows; a beam with other NSBLK needs another plan.
 */
export function planProblems(steps: readonly DDplanStep[], data: PassDataShape): string[] {
  const problems: string[] = [];
  steps.forEach((s, i) => {
    if (data.subint.nsblk % s.downsamp !== 0) {
      problems.push(`row ${i + 1} (lodm ${s.lodm}): downsample ${s.downsamp} does not divide the ${data.subint.nsblk} spectra per row; prepsubband would exit`);
    }
    if (s.nsub > data.subint.nchan) {
      problems.push(`row ${i + 1} (lodm ${s.lodm}): ${s.nsub} subbands but only ${data.subint.nchan} channels; prepsubband would use ${data.subint.nchan}`);
    }
  });
  return problems;
}
