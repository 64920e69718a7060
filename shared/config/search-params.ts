// Parameters of the PALFA search (palfa-search jobs), with PALFA V-2's defaults
// (config/searching_example.py). Set in the config under `search:`, and
// overridable per job; the values used are recorded with every result.
import { z } from "zod";

/** One DDplan row: PALFA's (lodm, dmstep, DMs per call, calls, subbands, downsample). */
export const ddplanStep = z.strictObject({
  lodm: z.number().nonnegative(),
  dmstep: z.number().positive(),
  dms_per_call: z.number().int().positive(),
  calls: z.number().int().positive(),
  nsub: z.number().int().positive(),
  downsamp: z.number().int().positive(),
});
export type DDplanStep = z.infer<typeof ddplanStep>;

export const searchParamsSchema = z.strictObject({
  // Which DDplan: PALFA's hard-coded Mock or WAPP plan, one derived from the beam's own
  // header (as DDplan.py does), or the explicit `ddplan` rows below.
  ddplan_source: z.enum(["auto", "mock", "wapp", "derived", "explicit"]).default("auto"),
  ddplan: z.array(ddplanStep).default([]),
  // For a derived plan: DM range, subbands and time resolution (PALFA's commented-out inputs).
  derived_lodm: z.number().nonnegative().default(0),
  derived_hidm: z.number().positive().default(1000),
  derived_resolution_ms: z.number().positive().default(0.1),
  derived_nsub: z.number().int().positive().default(96),

  use_subbands: z.boolean().default(true),
  fold_rawdata: z.boolean().default(true),
  // PALFA's second, zero-DM-filtered search is not carried over yet: refused rather than ignored.
  use_zerodm: z.literal(false, { error: "use_zerodm (PALFA's repeated -zerodm search) is not supported yet" }).default(false),
  datatype_flag: z.string().default("-psrfits"),
  rfifind_chunk_time: z
    .number()
    .positive()
    .default(2 ** 15 * 0.000064),

  singlepulse_threshold: z.number().positive().default(5.0),
  singlepulse_plot_SNR: z.number().positive().default(6.0),
  singlepulse_maxwidth: z.number().positive().default(0.1),

  to_prepfold_sigma: z.number().positive().default(6.0),
  max_cands_to_fold: z.number().int().nonnegative().default(100),
  numhits_to_fold: z.number().int().positive().default(2),
  low_DM_cutoff: z.number().nonnegative().default(2.0),

  lo_accel_numharm: z.number().int().positive().default(16),
  lo_accel_sigma: z.number().positive().default(2.0),
  lo_accel_zmax: z.number().int().nonnegative().default(0),
  lo_accel_flo: z.number().positive().default(2.0),
  hi_accel_numharm: z.number().int().positive().default(8),
  hi_accel_sigma: z.number().positive().default(3.0),
  hi_accel_zmax: z.number().int().nonnegative().default(50),
  hi_accel_flo: z.number().positive().default(1.0),
  // PALFA used accelsearch's default normalisation; `-locpow` is available by choice.
  accel_locpow: z.boolean().default(false),

  low_T_to_search: z.number().nonnegative().default(20.0),

  // Sifting: PALFA's `sifting_sigma_threshold` is to_prepfold_sigma - 1.
  sifting_sigma_threshold: z.number().positive().optional(),
  sifting_c_pow_threshold: z.number().nonnegative().default(100.0),
  sifting_r_err: z.number().positive().default(1.1),
  sifting_short_period: z.number().positive().default(0.0005),
  sifting_long_period: z.number().positive().default(15.0),
  sifting_harm_pow_cutoff: z.number().nonnegative().default(8.0),

  // Cal-row removal for Mock data: rows whose DM-0 median is this many MADs above the
  // median of medians are cut (plus one either side) when in the first/last 10 %.
  calrow_threshold_mads: z.number().positive().default(50),
});

export type SearchParamsInput = z.input<typeof searchParamsSchema>;
export type SearchParams = z.output<typeof searchParamsSchema>;

export function siftingSigmaThreshold(p: SearchParams): number {
  return p.sifting_sigma_threshold ?? p.to_prepfold_sigma - 1.0;
}
