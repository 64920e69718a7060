// The search parameters as they travel in SearchSpec: the coordinator validates them
// once (the config's `search` at load, a job's overrides at add-files) and ships the
// resolved values; the agent reads them as they come. Every field is spelt out both
// ways so that a parameter added to the schema but not to proto/agent.proto fails to compile.
import { DDplanSource, type SearchParams as WireSearchParams } from "../gen/agent";
import type { SearchParams } from "../config/search-params";

const DDPLAN_SOURCES = {
  auto: DDplanSource.DDPLAN_SOURCE_AUTO,
  mock: DDplanSource.DDPLAN_SOURCE_MOCK,
  wapp: DDplanSource.DDPLAN_SOURCE_WAPP,
  derived: DDplanSource.DDPLAN_SOURCE_DERIVED,
  explicit: DDplanSource.DDPLAN_SOURCE_EXPLICIT,
} as const satisfies Record<SearchParams["ddplan_source"], DDplanSource>;

/** Search parameters off the wire that the schema would not have let through. */
export class BadWireParams extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadWireParams";
  }
}

export function searchParamsToWire(p: SearchParams): WireSearchParams {
  return {
    ddplanSource: DDPLAN_SOURCES[p.ddplan_source],
    ddplan: p.ddplan.map((s) => ({ lodm: s.lodm, dmstep: s.dmstep, dmsPerCall: s.dms_per_call, calls: s.calls, nsub: s.nsub, downsamp: s.downsamp })),
    derivedLodm: p.derived_lodm,
    derivedHidm: p.derived_hidm,
    derivedResolutionMs: p.derived_resolution_ms,
    derivedNsub: p.derived_nsub,
    useSubbands: p.use_subbands,
    foldRawdata: p.fold_rawdata,
    useZerodm: p.use_zerodm,
    datatypeFlag: p.datatype_flag,
    rfifindChunkTime: p.rfifind_chunk_time,
    singlepulseThreshold: p.singlepulse_threshold,
    singlepulsePlotSNR: p.singlepulse_plot_SNR,
    singlepulseMaxwidth: p.singlepulse_maxwidth,
    toPrepfoldSigma: p.to_prepfold_sigma,
    maxCandsToFold: p.max_cands_to_fold,
    numhitsToFold: p.numhits_to_fold,
    lowDMCutoff: p.low_DM_cutoff,
    loAccelNumharm: p.lo_accel_numharm,
    loAccelSigma: p.lo_accel_sigma,
    loAccelZmax: p.lo_accel_zmax,
    loAccelFlo: p.lo_accel_flo,
    hiAccelNumharm: p.hi_accel_numharm,
    hiAccelSigma: p.hi_accel_sigma,
    hiAccelZmax: p.hi_accel_zmax,
    hiAccelFlo: p.hi_accel_flo,
    accelLocpow: p.accel_locpow,
    lowTToSearch: p.low_T_to_search,
    siftingSigmaThreshold: p.sifting_sigma_threshold,
    siftingCPowThreshold: p.sifting_c_pow_threshold,
    siftingRErr: p.sifting_r_err,
    siftingShortPeriod: p.sifting_short_period,
    siftingLongPeriod: p.sifting_long_period,
    siftingHarmPowCutoff: p.sifting_harm_pow_cutoff,
    calrowThresholdMads: p.calrow_threshold_mads,
  };
}

export function searchParamsFromWire(w: WireSearchParams): SearchParams {
  const source = (Object.keys(DDPLAN_SOURCES) as SearchParams["ddplan_source"][]).find((k) => DDPLAN_SOURCES[k] === w.ddplanSource);
  if (!source) throw new BadWireParams(`ddplan_source ${w.ddplanSource} is not one this agent knows`);
  if (w.useZerodm) throw new BadWireParams("use_zerodm (PALFA's repeated -zerodm search) is not supported by this agent");
  return {
    ddplan_source: source,
    ddplan: w.ddplan.map((s) => ({ lodm: s.lodm, dmstep: s.dmstep, dms_per_call: s.dmsPerCall, calls: s.calls, nsub: s.nsub, downsamp: s.downsamp })),
    derived_lodm: w.derivedLodm,
    derived_hidm: w.derivedHidm,
    derived_resolution_ms: w.derivedResolutionMs,
    derived_nsub: w.derivedNsub,
    use_subbands: w.useSubbands,
    fold_rawdata: w.foldRawdata,
    use_zerodm: false,
    datatype_flag: w.datatypeFlag,
    rfifind_chunk_time: w.rfifindChunkTime,
    singlepulse_threshold: w.singlepulseThreshold,
    singlepulse_plot_SNR: w.singlepulsePlotSNR,
    singlepulse_maxwidth: w.singlepulseMaxwidth,
    to_prepfold_sigma: w.toPrepfoldSigma,
    max_cands_to_fold: w.maxCandsToFold,
    numhits_to_fold: w.numhitsToFold,
    low_DM_cutoff: w.lowDMCutoff,
    lo_accel_numharm: w.loAccelNumharm,
    lo_accel_sigma: w.loAccelSigma,
    lo_accel_zmax: w.loAccelZmax,
    lo_accel_flo: w.loAccelFlo,
    hi_accel_numharm: w.hiAccelNumharm,
    hi_accel_sigma: w.hiAccelSigma,
    hi_accel_zmax: w.hiAccelZmax,
    hi_accel_flo: w.hiAccelFlo,
    accel_locpow: w.accelLocpow,
    low_T_to_search: w.lowTToSearch,
    sifting_sigma_threshold: w.siftingSigmaThreshold,
    sifting_c_pow_threshold: w.siftingCPowThreshold,
    sifting_r_err: w.siftingRErr,
    sifting_short_period: w.siftingShortPeriod,
    sifting_long_period: w.siftingLongPeriod,
    sifting_harm_pow_cutoff: w.siftingHarmPowCutoff,
    calrow_threshold_mads: w.calrowThresholdMads,
  };
}
