/**
 * A port of PRESTO's DDplan.py: a dedispersion plan derived from the data.
 *
 * Public API:
 *   derivePlan(input: DerivePlanInput): DerivedPlan
 *   derivedPlanSteps(plan): DDplanStep[]          rows for passes.ts (needs nsub > 0)
 *   formatDDplanOutput(plan, fileLabel?): string  DDplan.py's stdout, byte for byte
 *   type SmearingModel = "exact" | "linear"
 *
 * PALFA hard-coded its Mock and WAPP plans (ddplans.ts); for any other backend, or
 * when asked, we plan the way DDplan.py does: start at the coarsest time
 * resolution the requested smearing allows, take the largest allowed DM step whose
 * smearing across the band stays under the sample time (with a 1.2 fudge factor),
 * make each prepsubband "call" cover as many DMs as subband smearing allows (in
 * pairs, while it stays under 0.8 of the other terms), and run until channel
 * smearing reaches twice everything else (smearfact 2), then double the
 * downsampling and coarsen the DM step. "WorkFract" is each row's DMs/downsamp
 * share of the total.
 *
 * Quirks reproduced, because the fixture (DDplan.py of PRESTO v6.0.1 on the 40 s
 * beam) needs them or because they change plans:
 *   - Smearing model: the DDplan.py sources we could read compute smearing as
 *     DM*BW/(0.0001205 f^3) (a first-order expansion). PRESTO v6.0.1 printed
 *     "Minimum smearing across BW : 0.00529 ms" and "initial dDM is 0.991" for
 *     this beam, which only the exact delay difference between the band edges,
 *     DM/0.000241 * (1/f_lo^2 - 1/f_hi^2), gives (the expansion gives 0.00514 and
 *     1.018). It matters: with the expansion the subband step becomes 24 DMs, not
 *     26. So "exact" (default) is what v6 does; "linear" reproduces older
 *     DDplan.py. The exact model's form is inferred from v6's printed numbers, not
 *     read from its source: the inverse (DM at which channel smearing is N times
 *     the rest) is taken as the same formula solved for DM.
 *   - The table's High DM is loDM + #DMs*dDM and can pass the requested high DM
 *     (156 > 150 here): #DMs is rounded up to whole calls of DMs/call.
 *   - choose_downsamps keeps divisors of the block length (NSBLK) up to 259,
 *     thinned to steps of 1.5-2x; prepsubband requires -downsamp to divide it.
 *   - DDplan.py indexes past the end of its downsample and dDM lists (IndexError)
 *     on extreme inputs; we stop at the last entry instead and note it.
 *   - With numprocs > 1 (mpiprepsubband), DMs/call may shrink after the call count
 *     is rounded up, while dsubDM keeps its old value, as in DDplan.py.
 */

import { type DDplanStep } from "../../../shared/config/search-params";
import { formatFixed, formatG } from "../../../shared/presto/pycompat";

export type SmearingModel = "exact" | "linear";

export interface DerivePlanInput {
  /** DM range to cover (DDplan.py -l / -d). */
  lodm: number;
  hidm: number;
  /** Sample time, seconds (TBIN). */
  dt: number;
  /** Channels, total bandwidth (MHz) and centre frequency (MHz). */
  nchan: number;
  bw: number;
  fctr: number;
  /** Subbands (-s); 0 plans without subbands (no DMs/call, no calls). */
  nsub: number;
  /** Acceptable time resolution in ms (-r); 0 = the best the data allow. */
  resolutionMs: number;
  /** Spectra per PSRFITS row (NSBLK): downsample factors must divide it (-k). */
  blocklen: number;
  /** Coherent dedispersion DM of the channels (CHAN_DM, -c); default 0. */
  cdm?: number;
  /** CPUs for mpiprepsubband (-p); default 1. */
  numprocs?: number;
  smearing?: SmearingModel;
}

export interface DerivedMethod {
  loDM: number;
  hiDM: number;
  dDM: number;
  downsamp: number;
  /** DM spacing of subband sets (= DMs/call * dDM), or dDM without subbands. */
  dsubDM: number;
  numDMs: number;
  /** DMs per prepsubband call and number of calls (0 without subbands). */
  dmsPerCall: number;
  calls: number;
  /** This method's share of the work: (numDMs/downsamp) / sum over methods. */
  workFract: number;
  /** Smearing terms, ms. */
  bwSmearingMs: number;
  subSmearingMs: number;
}

export interface DerivedPlan {
  input: Required<DerivePlanInput>;
  /** The values DDplan.py prints before the table. */
  minTotalSmearingMs: number;
  minChanSmearingMs: number;
  minBwSmearingMs: number;
  sampleTimeMs: number;
  okSmearingMs: number;
  /** Why the first downsample factor was raised, or null when it stayed 1. */
  downsampleNote: "ok_smearing" | "min_chan_smearing" | null;
  firstDownsamp: number;
  guessDDM: number;
  /** The allowed downsample factors for this block length. */
  allowedDownsamps: number[];
  methods: DerivedMethod[];
  /** Places where DDplan.py would have raised IndexError and we stopped at a list's end. */
  notes: string[];
}

const ALLOWED_DDMS: readonly number[] = [0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 50.0, 100.0, 200.0, 300.0];
/** "Fudge factor that softens the boundary defining if 2 time scales are equal or not." */
const FF = 1.2;
const SMEARFACT = 2.0;
const MAX_METHODS = 1000;

/** Smearing in ms per unit DM across `bw` MHz centred at `fctr` MHz. */
function unitSmearMs(model: SmearingModel, bw: number, fctr: number): number {
  if (bw === 0) return 0;
  if (model === "linear") return (1000.0 * bw) / (0.0001205 * fctr ** 3.0);
  const lo = fctr - 0.5 * bw;
  const hi = fctr + 0.5 * bw;
  return 1000.0 * (1.0 / (0.000241 * lo * lo) - 1.0 / (0.000241 * hi * hi));
}

function makeSmear(model: SmearingModel) {
  const dmSmear = (dm: number, bw: number, fctr: number, cdm = 0.0): number => Math.abs(dm - cdm) * unitSmearMs(model, bw, fctr);
  const bwSmear = (dmstep: number, bw: number, fctr: number): number => dmSmear(0.5 * dmstep, bw, fctr);
  const subbandSmear = (subDMstep: number, numsub: number, bw: number, fctr: number): number =>
    numsub === 0 ? 0.0 : dmSmear(0.5 * subDMstep, bw / numsub, fctr);
  /** The DM step whose smearing across the band equals dt (seconds). */
  const guessDMstep = (dt: number, bw: number, fctr: number): number => (2.0 * 1000.0 * dt) / unitSmearMs(model, bw, fctr);
  return { dmSmear, bwSmear, subbandSmear, guessDMstep };
}

/** choose_downsamps: divisors of blocklen below 260, thinned to ratios of 1.5-2 where possible. */
export function chooseDownsamps(blocklen: number): number[] {
  const x: number[] = [];
  for (let n = 1; n < 260; n++) if (blocklen % n === 0) x.push(n);
  if (x.length === 1) return x;
  let minRatio = Infinity;
  for (let i = 1; i < x.length; i++) minRatio = Math.min(minRatio, x[i] / x[i - 1]);
  if (minRatio >= 1.5) return x;
  const has = (v: number): boolean => x.includes(v);
  const newx = [1];
  if (has(2)) newx.push(2);
  if (has(3)) newx.push(3);
  let maxnewx = newx[newx.length - 1];
  const last = x[x.length - 1];
  while (maxnewx < last) {
    // Python's round() is half-to-even, but 1.5*n + 1e-7 is never a tie.
    const r = Math.round(1.5 * maxnewx + 1e-7);
    if (has(r)) newx.push(r);
    else if (has(2 * maxnewx)) newx.push(2 * maxnewx);
    else if (last > 1.5 * maxnewx) newx.push(Math.min(...x.filter((v) => v > 1.5 * maxnewx)));
    else return newx;
    maxnewx = newx[newx.length - 1];
  }
  return newx;
}

export function derivePlan(raw: DerivePlanInput): DerivedPlan {
  const input: Required<DerivePlanInput> = { cdm: 0, numprocs: 1, smearing: "exact", ...raw };
  const { lodm, hidm, dt, nchan, bw, fctr, nsub, blocklen, cdm, numprocs } = input;
  if (!(hidm > lodm)) throw new Error(`derivePlan: high DM ${hidm} must be above low DM ${lodm}`);
  if (!(dt > 0 && bw > 0 && fctr > 0 && nchan > 0 && blocklen > 0)) {
    throw new Error(`derivePlan: dt, BW, fctr, nchan and blocklen must be positive`);
  }
  const sm = makeSmear(input.smearing);
  const chanwidth = bw / nchan;
  const notes: string[] = [];
  const allowDownsamps = chooseDownsamps(blocklen);
  let iDs = 0;
  let iDdm = 0;
  let downsamp = allowDownsamps[iDs];
  let dDM = ALLOWED_DDMS[iDdm];
  const dtms = 1000.0 * dt;

  const minTotalSmearingMs = Math.sqrt(
    2 * (1000.0 * dt) ** 2.0 +
      sm.dmSmear(lodm + 0.5 * dDM, chanwidth, fctr, cdm) ** 2.0 +
      sm.subbandSmear(ALLOWED_DDMS[0], 0, bw, fctr) ** 2.0 +
      sm.bwSmear(dDM, bw, fctr) ** 2.0,
  );
  // numpy.linspace(loDM, hiDM, 10000): start + i*step, the last point exactly hiDM.
  let minChanSmearingMs = Infinity;
  const step = (hidm - lodm) / 9999;
  for (let i = 0; i < 10000; i++) {
    const dm = i === 9999 ? hidm : i * step + lodm;
    minChanSmearingMs = Math.min(minChanSmearingMs, sm.dmSmear(dm, chanwidth, fctr, cdm));
  }
  const minBwSmearingMs = sm.bwSmear(dDM, bw, fctr);
  const okSmearingMs = Math.max(input.resolutionMs, minChanSmearingMs, minBwSmearingMs, dtms);

  let downsampleNote: DerivedPlan["downsampleNote"] = null;
  if (FF * minChanSmearingMs > dtms || okSmearingMs > dtms) {
    let okval: number;
    if (okSmearingMs > FF * minChanSmearingMs) {
      downsampleNote = "ok_smearing";
      okval = okSmearingMs;
    } else {
      downsampleNote = "min_chan_smearing";
      okval = FF * minChanSmearingMs;
    }
    while (iDs + 1 < allowDownsamps.length && dtms * allowDownsamps[iDs + 1] < okval) iDs++;
    if (iDs + 1 >= allowDownsamps.length && dtms * allowDownsamps[iDs] < okval) {
      notes.push(`no downsample factor of ${blocklen} reaches ${okval} ms; using ${allowDownsamps[iDs]}`);
    }
    downsamp = allowDownsamps[iDs];
  }
  const firstDownsamp = downsamp;

  const guessDDM = sm.guessDMstep(dt * downsamp, bw, fctr);
  while (iDdm + 1 < ALLOWED_DDMS.length && ALLOWED_DDMS[iDdm + 1] < FF * guessDDM) iDdm++;

  const makeMethod = (ds: number, lo: number, step: number): Omit<DerivedMethod, "workFract"> => {
    const bwSmearingMs = sm.bwSmear(step, bw, fctr);
    let dsubDM = step;
    let dmsPerCall = 0;
    let subSmearingMs: number;
    if (nsub) {
      // The most DMs per call (in pairs) whose subband smearing stays below 0.8 of
      // the smaller of the DM-step smearing and the (downsampled) sample time.
      let perCall = 2;
      for (;;) {
        const nextDsubDM = (perCall + 2) * step;
        const nextSs = sm.subbandSmear(nextDsubDM, nsub, bw, fctr);
        if (nextSs > 0.8 * Math.min(bwSmearingMs, 1000.0 * dt * ds)) {
          dsubDM = perCall * step;
          dmsPerCall = perCall;
          subSmearingMs = sm.subbandSmear(dsubDM, nsub, bw, fctr);
          break;
        }
        perCall += 2;
      }
    } else {
      subSmearingMs = sm.subbandSmear(dsubDM, nsub, bw, fctr);
    }
    // Where channel smearing reaches SMEARFACT times all the other terms together.
    const otherSmear = Math.sqrt((1000.0 * dt) ** 2.0 + (1000.0 * dt * ds) ** 2.0 + bwSmearingMs ** 2.0 + subSmearingMs ** 2.0);
    let crossDM = (SMEARFACT * otherSmear) / unitSmearMs(input.smearing, chanwidth, fctr) + cdm;
    if (crossDM > hidm) crossDM = hidm;
    let numDMs = Math.ceil((crossDM - lo) / step);
    let calls = 0;
    if (nsub) {
      calls = Math.ceil((numDMs * step) / dsubDM);
      if (numprocs > 1 && calls % numprocs) {
        // mpiprepsubband: whole rounds of calls, then as few DMs per call as still cover the range.
        calls = (Math.floor(calls / numprocs) + 1) * numprocs;
        while (dmsPerCall > 1 && calls * dmsPerCall > numDMs) dmsPerCall -= 1;
      }
      numDMs = calls * dmsPerCall;
    }
    if (numprocs > 1 && numDMs % numprocs) numDMs = (Math.floor(numDMs / numprocs) + 1) * numprocs;
    return {
      loDM: lo,
      hiDM: lo + numDMs * step,
      dDM: step,
      downsamp: ds,
      dsubDM,
      numDMs,
      dmsPerCall,
      calls,
      bwSmearingMs,
      subSmearingMs,
    };
  };

  const methods: Omit<DerivedMethod, "workFract">[] = [makeMethod(downsamp, lodm, ALLOWED_DDMS[iDdm])];
  while (methods[methods.length - 1].hiDM < hidm) {
    if (methods.length >= MAX_METHODS) throw new Error(`derivePlan: no plan reaches DM ${hidm} (stuck)`);
    if (iDs + 1 < allowDownsamps.length) iDs++;
    else notes.push(`ran out of downsample factors of ${blocklen} at DM ${methods[methods.length - 1].hiDM}`);
    downsamp = allowDownsamps[iDs];
    const effDt = dtms * downsamp;
    while (iDdm + 1 < ALLOWED_DDMS.length && sm.bwSmear(ALLOWED_DDMS[iDdm + 1], bw, fctr) < FF * effDt) iDdm++;
    dDM = ALLOWED_DDMS[iDdm];
    methods.push(makeMethod(downsamp, methods[methods.length - 1].hiDM, dDM));
  }

  const work = methods.map((m) => m.numDMs / m.downsamp);
  const total = work.reduce((a, b) => a + b, 0);
  return {
    input,
    minTotalSmearingMs,
    minChanSmearingMs,
    minBwSmearingMs,
    sampleTimeMs: dtms,
    okSmearingMs,
    downsampleNote,
    firstDownsamp,
    guessDDM,
    allowedDownsamps: allowDownsamps,
    methods: methods.map((m, i) => ({ ...m, workFract: work[i] / total })),
    notes,
  };
}

/** The plan as PALFA-style rows (lodm, dmstep, DMs/call, calls, nsub, downsamp). */
export function derivedPlanSteps(plan: DerivedPlan): DDplanStep[] {
  if (!plan.input.nsub) throw new Error("derivedPlanSteps: a plan without subbands has no DMs/call or calls");
  return plan.methods.map((m) => ({
    lodm: m.loDM,
    dmstep: m.dDM,
    dms_per_call: m.dmsPerCall,
    calls: m.calls,
    nsub: plan.input.nsub,
    downsamp: m.downsamp,
  }));
}

const g3 = (x: number): string => formatG(x, 3);

/**
 * What DDplan.py prints (PRESTO v6 layout), from "Using:" when `fileLabel` is given
 * (the parameters read from that raw file), else from the smearing summary.
 */
export function formatDDplanOutput(plan: DerivedPlan, fileLabel?: string): string {
  const p = plan.input;
  const lines: string[] = [];
  if (fileLabel !== undefined) {
    lines.push(
      "",
      "Using:",
      `        dt = ${formatG(p.dt)} s`,
      `   numchan = ${p.nchan}`,
      `  blocklen = ${p.blocklen}`,
      `        BW = ${formatG(p.bw)} MHz`,
      `      fctr = ${formatG(p.fctr)} MHz`,
      `from '${fileLabel}'`,
      "",
    );
  }
  lines.push(
    "",
    `Minimum total smearing     : ${g3(plan.minTotalSmearingMs)} ms`,
    "--------------------------------------------",
    `Minimum channel smearing   : ${g3(plan.minChanSmearingMs)} ms`,
    `Minimum smearing across BW : ${g3(plan.minBwSmearingMs)} ms`,
    `Minimum sample time        : ${g3(plan.sampleTimeMs)} ms`,
    "",
    `Setting the new 'best' resolution to : ${g3(plan.okSmearingMs)} ms`,
  );
  if (plan.downsampleNote === "ok_smearing") {
    lines.push("   Note: ok_smearing > dt (i.e. data is higher resolution than needed)");
  } else if (plan.downsampleNote === "min_chan_smearing") {
    lines.push("   Note: min_chan_smearing > dt (i.e. data is higher resolution than needed)");
  }
  if (plan.downsampleNote !== null) {
    const ds = plan.firstDownsamp;
    lines.push(`         New dt is ${ds} x ${formatG(plan.sampleTimeMs, 12)} ms = ${formatG(plan.sampleTimeMs * ds, 12)} ms`);
  }
  lines.push(`Best guess for optimal initial dDM is ${formatFixed(plan.guessDDM, 3)}`);
  if (p.numprocs > 1) {
    lines.push(
      "",
      `Assuming we are using mpiprepsubband with ${p.numprocs} dedispersing CPUs:`,
      "Each line of the dedispersion plan is one or more distinct runs of",
      "mpiprepsubband, and each 'call' is the work that a single CPU is doing.",
    );
  }
  lines.push("");
  if (p.nsub) lines.push("  Low DM    High DM     dDM  DownSamp  dsubDM   #DMs  DMs/call  calls  WorkFract");
  else lines.push("  Low DM    High DM     dDM  DownSamp   #DMs  WorkFract");
  for (const m of plan.methods) {
    const f = (x: number, w: number, d: number): string => formatFixed(x, d, w);
    const d = (x: number, w: number): string => String(x).padStart(w);
    const row = p.nsub
      ? `${f(m.loDM, 9, 3)}  ${f(m.hiDM, 9, 3)}  ${f(m.dDM, 6, 2)}    ${d(m.downsamp, 4)}  ${f(m.dsubDM, 6, 2)}  ` +
        `${d(m.numDMs, 6)}  ${d(m.dmsPerCall, 6)}  ${d(m.calls, 6)} `
      : `${f(m.loDM, 9, 3)}  ${f(m.hiDM, 9, 3)}  ${f(m.dDM, 6, 2)}    ${d(m.downsamp, 4)}  ${d(m.numDMs, 6)}`;
    // print(method, "  %.4g" % fract): print() puts one space between the two.
    lines.push(`${row}   ${formatG(m.workFract, 4)}`);
  }
  lines.push("", "", "");
  return lines.join("\n") + "\n";
}
