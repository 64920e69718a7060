// A palfa-search attempt: PALFA's search_job as code, in PALFA's order, with
// independent DM-trial chains running concurrently up to the reserved cores.
//
//   inputs    PSRFITS header check; Mock halves: combine_mocks, cal rows (prepdata DM 0 →
//             fitsdelrow), the observation-length check
//   rfifind   the mask (RFI mask % streamed as soon as known)
//   passes    per DDplan pass: prepsubband (subbands, then DM trials), then per DM trial
//             realfft → zapbirds -baryv → rednoise → accelsearch lo (and hi outside the
//             zero-DM pass); each .fft deleted once searched, each pass's .dat deleted
//             after its single-pulse search, so /dev/shm holds at most two passes
//   products  single-pulse plots, sifting (TypeScript), folding, plots to PNG
//   results   search_params.txt, the .report, provenance, tarballs, manifest
import fs from "node:fs";
import path from "node:path";
import type { Assign, SearchSpec } from "../../shared/gen/agent";
import { siftingSigmaThreshold, type SearchParams } from "../../shared/config/search-params";
import { BadWireParams, searchParamsFromWire } from "../../shared/protocol/search-params-wire";
import type { Logger } from "../../shared/logging/logger";
import { plainName } from "../../shared/files/safe-path";
import type { StepEvents } from "../runner";
import { StepExecutor, type StepOptions } from "../runner/step-executor";
import type { Toolchain } from "./toolchain/toolchain";
import { MissingProgramError } from "./toolchain/resolve";
import { readPsrfitsHeader, writeHeaderOnlyCopy, PsrfitsError, type PsrfitsHeader } from "../../shared/psrfits";
import { chooseDDplan, expandPasses, prepfoldArgs, type Pass } from "./plan";
import { selectCandidatesToFold } from "../../shared/search/fold-selection";
import { findCalRows } from "./calrows";
import { siftFiles, formatCandlist, PALFA_SIFT_OPTIONS } from "./sifting";
import { readAccelcandsFile, readBestprofFile, readRfifindOutput, readZaplist, ParseError } from "../../shared/presto";
import {
  rfiDiagnostics,
  siftingDiagnostics,
  zaplistDiagnostics,
  paramDiagnostics,
  allDiagnostics,
  calRowsDiagnostics,
  type DiagnosticValue,
} from "../../shared/diagnostics";
import { collectResults, writeReport } from "./results";
import { writeSearchParamsFile } from "../../shared/results/search-params-file";
import { writeSiftingProducts } from "./sifting-products";
import { ProgressReporter, type SearchProgress } from "./progress";
import { pfdPlotArgv } from "./plots/pfd-plot";

/**
 * A search that cannot go on, with the class an operator filters failures by. missing_program,
 * toolchain and workdir are the node's fault, not the beam's: the coordinator does not count them.
 */
export class SearchFailure extends Error {
  constructor(
    message: string,
    readonly errorClass: "bad_input" | "too_short" | "missing_program" | "toolchain" | "workdir" | "shm_full" | "bad_output" | "bad_params",
  ) {
    super(message);
    this.name = "SearchFailure";
  }
}

export interface SearchContext {
  assign: Assign;
  spec: SearchSpec;
  stagedFiles: string[];
  workDir: string;
  resultsDir: string;
  cores: number;
  toolchain: (opts: { mock: boolean }) => Promise<Toolchain>;
  killGraceS: number;
  stepTimeoutS: number;
  idleTimeoutS: number;
  log: Logger;
  events: StepEvents;
  onDiagnostic: (d: DiagnosticValue) => void;
  /** where the search stands (phase, pass, DM trials), rate-limited by ProgressReporter */
  onProgress?: (p: SearchProgress) => void;
  /** the attempt's executor (the attempt cancels through it) with this many parallel slots */
  newExecutor: (slots: number) => StepExecutor;
}

const AVG_TOPO_VELOCITY = /Average topocentric velocity \(c\)\s*=\s*([-+0-9.eE]+)/;

/** The parameters the coordinator resolved and validated; refused only where this agent cannot carry them out. */
function paramsOf(spec: SearchSpec): SearchParams {
  if (!spec.params) throw new SearchFailure("the assignment has no search parameters", "bad_params");
  try {
    return searchParamsFromWire(spec.params);
  } catch (err) {
    if (err instanceof BadWireParams) throw new SearchFailure(`bad search parameters: ${err.message}`, "bad_params");
    throw err;
  }
}

export async function runSearch(ctx: SearchContext): Promise<void> {
  const progress = new ProgressReporter((x) => ctx.onProgress?.(x));
  try {
    await search(ctx, progress);
  } finally {
    progress.stop();
  }
}

async function search(ctx: SearchContext, progress: ProgressReporter): Promise<void> {
  const p = paramsOf(ctx.spec);
  const base = plainName(ctx.assign.beam);
  const work = ctx.workDir;
  const tmp = path.join(work, "tmp");
  for (const dir of [tmp, ctx.resultsDir]) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOSPC") throw err;
      throw new SearchFailure(`cannot create ${dir}: ${e.message}`, "workdir");
    }
  }
  const mock = ctx.stagedFiles.length === 2;
  let tc: Toolchain;
  try {
    tc = await ctx.toolchain({ mock });
  } catch (err) {
    throw new SearchFailure((err as Error).message, err instanceof MissingProgramError ? "missing_program" : "toolchain");
  }
  const z = ctx.spec.zaplist;
  const record = { ...tc.provenance, zaplist: z ? { name: z.name, rule: z.rule, source: z.source } : null };
  fs.writeFileSync(path.join(ctx.resultsDir, "provenance.json"), JSON.stringify(record, null, 2) + "\n");

  const ex = ctx.newExecutor(ctx.cores);
  // PRESTO's barycentring writes fixed-name temporary files under $TMPDIR: one per attempt.
  const procTmp = path.join(work, "proc-tmp");
  fs.mkdirSync(procTmp, { recursive: true });
  const env = { ...tc.env, TMPDIR: procTmp };
  const step = (name: string, argv: string[], opts: StepOptions = {}) => ex.run({ name, argv, cwd: work, env }, opts);
  const diag = (ds: DiagnosticValue[]) => {
    for (const d of ds) ctx.onDiagnostic(d);
  };
  const started = Date.now();

  // ---- inputs ---------------------------------------------------------------------------
  for (const f of ctx.stagedFiles) checkHeader(f);
  let raw = ctx.stagedFiles;
  if (mock) {
    progress.phase("preprocessing");
    raw = [await preprocessMock(ctx, tc, p, step, base)];
  }
  const header = checkHeader(raw[0]);
  if (header.durationS < p.low_T_to_search) {
    throw new SearchFailure(`the beam is ${header.durationS.toFixed(2)} s long, shorter than low_T_to_search = ${p.low_T_to_search} s`, "too_short");
  }
  const zaplist = path.join(work, `${base}.zaplist`);
  fs.writeFileSync(zaplist, ctx.spec.zaplist?.text ?? "");
  diag(zaplistDiagnostics(zaplist, p));
  // PRESTO's zapbirds crashes (SIGSEGV) on a list of comments only, and with no
  // birdies there is nothing to zap: the DM trials then skip it.
  const birdies = countBirdies(zaplist, ctx.spec.zaplist?.name ?? "");
  if (birdies === 0) ctx.log.info({ zaplist: ctx.spec.zaplist?.name ?? "" }, "the zaplist has no birdies: zapbirds is skipped");
  const zapfile = birdies > 0 ? zaplist : null;

  // ---- rfifind ----------------------------------------------------------------------------
  progress.phase("rfifind");
  const rfiOut = path.join(work, `${base}_rfifind.out`);
  await step(
    "rfifind",
    [
      ...tc.cmd("rfifind"),
      ...tc.datatype("rfifind", p.datatype_flag),
      ...tc.ncpus("rfifind", ctx.cores),
      "-time",
      String(p.rfifind_chunk_time),
      "-o",
      base,
      ...raw,
    ],
    { teeTo: rfiOut, stage: "rfifind" },
  );
  diag(rfiDiagnostics(rfiOut));
  const mask = `${base}_rfifind.mask`;
  const run: SearchRun = { tc, p, ex, step, work, tmp, base, cores: ctx.cores };
  const input: SearchInput = { raw, mask };

  // ---- dedispersion passes and the per-DM searches ------------------------------------------
  const passes = expandPasses(chooseDDplan(p, header), header);
  const allDms: string[] = passes.flatMap((x) => x.dms);
  let baryv: string | undefined;
  let pendingSp: Promise<void> = Promise.resolve();
  progress.phase("searching", { pass: 0, passes: passes.length, dmTrials: allDms.length });
  for (const [i, pass] of passes.entries()) {
    progress.phase("searching", { pass: i + 1 });
    const outs = await dedisperse(run, input, pass, i);
    if (baryv === undefined) {
      const m = AVG_TOPO_VELOCITY.exec(fs.readFileSync(outs, "utf8"));
      if (!m) throw new SearchFailure(`prepsubband did not print the average topocentric velocity (${outs})`, "bad_output");
      baryv = formatG6(Number(m[1]));
    }
    const dats = pass.dms.map((dm) => path.join(tmp, `${base}_DM${dm}.dat`));
    for (const d of dats) if (!fs.existsSync(d)) throw new SearchFailure(`prepsubband did not write ${path.basename(d)}`, "bad_output");
    await ex.all(
      dats.map((dat) => async () => {
        await searchTrial(run, dat, { zaplist: zapfile, baryv: baryv!, zeroDm: pass.zeroDm });
        progress.trialDone();
      }),
    );
    // The single-pulse search of this pass overlaps the next pass's dedispersion.
    await pendingSp;
    pendingSp = singlePulse(tc, p, step, dats, pass.zeroDm, work);
  }
  await pendingSp;
  fs.rmSync(tmp, { recursive: true, force: true });

  // ---- single-pulse plots, sifting, folding -----------------------------------------------
  progress.phase("single-pulse plots");
  await singlePulsePlots(tc, p, step, work, base);
  const accelcands = path.join(work, `${base}.accelcands`);
  progress.phase("sifting");
  const siftStarted = Date.now();
  const lo = listFiles(work, (n) => n.endsWith(`_ACCEL_${p.lo_accel_zmax}`));
  const hi = p.hi_accel_zmax !== p.lo_accel_zmax ? listFiles(work, (n) => n.endsWith(`_ACCEL_${p.hi_accel_zmax}`)) : [];
  const sifted = siftFiles([lo, hi], allDms, {
    ...PALFA_SIFT_OPTIONS,
    sigmaThreshold: siftingSigmaThreshold(p),
    cPowThreshold: p.sifting_c_pow_threshold,
    rErr: p.sifting_r_err,
    shortPeriod: p.sifting_short_period,
    longPeriod: p.sifting_long_period,
    harmPowCutoff: p.sifting_harm_pow_cutoff,
    numHitsToFold: p.numhits_to_fold,
    lowDmCutoff: p.low_DM_cutoff,
  });
  fs.writeFileSync(accelcands, formatCandlist(sifted.candidates));
  writeSiftingProducts(work, base, sifted);
  ex.stageSeconds.set("sifting", (Date.now() - siftStarted) / 1000);
  diag(siftingDiagnostics(accelcands, p));

  progress.phase("folding");
  await fold(run, { ...input, header }, accelcands);
  await renderPlot(tc, step, path.join(work, `${base}_rfifind.ps`), path.join(work, `${base}_rfifind.png`));

  // ---- results ------------------------------------------------------------------------------
  progress.phase("results");
  writeSearchParamsFile(path.join(work, "search_params.txt"), p);
  diag(paramDiagnostics(path.join(work, "search_params.txt"), p));
  // PALFA left a header-only copy of the (merged) beam for the uploader.
  writeHeaderOnlyCopy(raw[0], path.join(ctx.resultsDir, `${base}.fits`));
  const folded = fs.readdirSync(work).filter((n) => n.endsWith(".pfd.png")).length;
  writeReport(
    path.join(work, `${base}.report`),
    [...ex.stageSeconds].map(([stage, seconds]) => ({ stage, seconds })),
    {
      files: raw.map((f) => path.basename(f)),
      maskedPercent: readRfifindOutput(rfiOut).maskedPercent,
      numCandsFolded: folded,
      totalSeconds: (Date.now() - started) / 1000,
      useSubbands: p.use_subbands,
    },
  );
  await collectResults(work, ctx.resultsDir, base, { loZmax: p.lo_accel_zmax, hiZmax: p.hi_accel_zmax });
  const all = allDiagnostics(ctx.resultsDir, p);
  for (const d of all) ctx.onDiagnostic(d);
  if (!all.complete) throw new SearchFailure(`diagnostics failed: ${all.errors.map((e) => e.message).join("; ")}`, "bad_output");
}

/** A float parameter as PALFA's Python wrote it into a command line (str(2.0) is "2.0"). */
export function pyFloat(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}

/** Python's "%.6g", as PALFA formatted baryv for zapbirds. */
export function formatG6(x: number): string {
  if (x === 0) return "0";
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 6) {
    const [m, e] = x.toExponential(5).split("e");
    const mant = m.replace(/\.?0+$/, "");
    const n = Number(e);
    return `${mant}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  return Number(x.toPrecision(6)).toString();
}

function checkHeader(file: string): PsrfitsHeader {
  try {
    return readPsrfitsHeader(file);
  } catch (err) {
    if (err instanceof PsrfitsError) throw new SearchFailure(err.message, "bad_input");
    throw err;
  }
}

function countBirdies(file: string, name: string): number {
  try {
    return readZaplist(file).length;
  } catch (err) {
    if (err instanceof ParseError) throw new SearchFailure(`the zaplist ${name} is malformed: ${err.message}`, "bad_params");
    throw err;
  }
}

function listFiles(dir: string, keep: (name: string) => boolean): string[] {
  return fs
    .readdirSync(dir)
    .filter(keep)
    .sort()
    .map((n) => path.join(dir, n));
}

type Step = (name: string, argv: string[], opts?: StepOptions) => Promise<unknown>;

/** What every stage of one search works with: the programs, the parameters, how it runs a step, and where. */
interface SearchRun {
  tc: Toolchain;
  p: SearchParams;
  ex: StepExecutor;
  step: Step;
  /** the attempt's work dir */
  work: string;
  /** the dir of the DM trials' time series (removed after the searches) */
  tmp: string;
  /** the beam's base name, for the output files */
  base: string;
  cores: number;
}

/** The beam as the search reads it: the raw files (merged for Mock data) and rfifind's mask. */
interface SearchInput {
  raw: string[];
  mask: string;
}

/** PALFA's MockPsrfitsData.preprocess: merge the halves, cut cal rows at the ends. */
async function preprocessMock(ctx: SearchContext, tc: Toolchain, p: SearchParams, step: Step, base: string): Promise<string> {
  const work = ctx.workDir;
  const [s0, s1] = [...ctx.stagedFiles].sort();
  // combine_mocks finds the other half by swapping s0/s1 anywhere in the path it is
  // given, so it gets bare names (the step runs in the work dir), options first.
  await step("combine_mocks", [...tc.cmd("combine_mocks"), "-o", base, path.basename(s0), path.basename(s1)], {
    teeTo: path.join(work, `${base}_merge.out`),
    stage: "combine_mocks",
  });
  const produced = path.join(work, `${base}_0001.fits`);
  if (!fs.existsSync(produced)) throw new SearchFailure(`combine_mocks did not write ${path.basename(produced)}`, "bad_output");
  const merged = path.join(work, `${base}.fits`);
  fs.renameSync(produced, merged);
  // The halves are not needed any more: give their /dev/shm back.
  for (const f of [s0, s1]) fs.rmSync(f, { force: true });

  const pre = `${base}_pre_DM0.00`;
  await step("prepdata", [...tc.cmd("prepdata"), ...tc.datatype("prepdata", p.datatype_flag), "-noclip", "-nobary", "-dm", "0", "-o", pre, merged], {
    stage: "cal_removal",
  });
  const header = checkHeader(merged);
  const cal = await findCalRows(path.join(work, `${pre}.dat`), {
    samplesPerRow: header.subint.nsblk,
    thresholdMads: p.calrow_threshold_mads,
    fitsFile: merged,
    expectedRows: header.subint.rows,
  });
  // Listed last rows first, so each deletion leaves the earlier row numbers valid.
  for (const d of cal.deletions) {
    await step("fitsdelrow", [...tc.cmd("fitsdelrow"), `${merged}[SUBINT]`, String(d.first), String(d.count)], { stage: "cal_removal" });
  }
  fs.writeFileSync(path.join(work, `${base}_calrows.txt`), cal.reportText);
  for (const d of calRowsDiagnostics(path.join(work, `${base}_calrows.txt`))) ctx.onDiagnostic(d);
  for (const f of fs.readdirSync(work)) if (f.startsWith(pre)) fs.rmSync(path.join(work, f), { force: true });
  await step(
    "prepdata",
    [...tc.cmd("prepdata"), ...tc.datatype("prepdata", p.datatype_flag), "-noclip", "-nobary", "-dm", "0", "-o", `${base}_post_DM0.00`, merged],
    { stage: "cal_removal" },
  );
  for (const f of fs.readdirSync(work)) if (f.startsWith(`${base}_post_DM0.00`)) fs.rmSync(path.join(work, f), { force: true });
  return merged;
}

/** One DDplan pass: subbands then DM trials (or straight from the raw data). Returns the stdout file with the velocity. */
async function dedisperse(run: SearchRun, input: SearchInput, pass: Pass, index: number): Promise<string> {
  const { tc, p, step, work, tmp, base, cores } = run;
  const { raw, mask } = input;
  // -numout 0 means prepsubband's own length (PALFA left it out for short series).
  const common = ["-nsub", String(pass.nsub), ...(pass.numout ? ["-numout", String(pass.numout)] : []), "-o", path.join(tmp, base)];
  const dmArgs = ["-lodm", pass.lodmStr, "-dmstep", pass.dmstepStr, "-numdms", String(pass.dms.length)];
  if (p.use_subbands) {
    const subDir = path.join(tmp, "subbands");
    fs.mkdirSync(subDir, { recursive: true });
    const subout = path.join(work, `${base}_DM${pass.subDmStr}.subout`);
    await step(
      `prepsubband subbands (pass ${index + 1})`,
      [
        ...tc.cmd("prepsubband"),
        ...tc.datatype("prepsubband", p.datatype_flag),
        ...tc.ncpus("prepsubband", cores),
        "-sub",
        "-subdm",
        pass.subDmStr,
        "-downsamp",
        String(pass.downsamp),
        "-nsub",
        String(pass.nsub),
        "-mask",
        mask,
        "-o",
        path.join(subDir, base),
        ...raw,
      ],
      { teeTo: subout, stage: "subbanding" },
    );
    const subs = fs
      .readdirSync(subDir)
      .filter((n) => n.startsWith(`${base}_DM${pass.subDmStr}.sub`) && /\.sub\d+$/.test(n))
      .sort()
      .map((n) => path.join(subDir, n));
    if (subs.length === 0) throw new SearchFailure(`prepsubband -sub wrote no subband files for subDM ${pass.subDmStr}`, "bad_output");
    const prepout = path.join(work, `${base}_DM${pass.subDmStr}.prepout`);
    await step(
      `prepsubband DMs ${pass.dms[0]}-${pass.dms[pass.dms.length - 1]}`,
      [...tc.cmd("prepsubband"), ...tc.ncpus("prepsubband", cores), ...dmArgs, "-downsamp", "1", ...common, ...subs],
      { teeTo: prepout, stage: "dedispersing" },
    );
    fs.rmSync(subDir, { recursive: true, force: true });
    return fs.readFileSync(subout, "utf8").match(AVG_TOPO_VELOCITY) ? subout : prepout;
  }
  const prepout = path.join(work, `${base}_lodm${pass.lodmStr}.prepout`);
  await step(
    `prepsubband DMs ${pass.dms[0]}-${pass.dms[pass.dms.length - 1]}`,
    [
      ...tc.cmd("prepsubband"),
      ...tc.datatype("prepsubband", p.datatype_flag),
      ...tc.ncpus("prepsubband", cores),
      "-mask",
      mask,
      ...dmArgs,
      "-downsamp",
      String(pass.downsamp),
      ...common,
      ...raw,
    ],
    { teeTo: prepout, stage: "dedispersing" },
  );
  return prepout;
}

/** One DM trial: FFT, zap (when there are birdies), de-redden, accelsearch lo and hi; the .fft is gone afterwards. */
async function searchTrial(run: SearchRun, dat: string, trial: { zaplist: string | null; baryv: string; zeroDm: boolean }): Promise<void> {
  const { tc, p, step, work } = run;
  const { zaplist, baryv, zeroDm } = trial;
  const stem = dat.slice(0, -4);
  const fft = `${stem}.fft`;
  const name = path.basename(stem);
  await step(`realfft ${name}`, [...tc.cmd("realfft"), dat], { stage: "FFT" });
  if (zaplist) await step(`zapbirds ${name}`, [...tc.cmd("zapbirds"), "-zap", "-zapfile", zaplist, "-baryv", baryv, fft], { stage: "FFT" });
  await step(`rednoise ${name}`, [...tc.cmd("rednoise"), fft], { stage: "FFT" });
  fs.renameSync(`${stem}_red.fft`, fft);
  fs.rmSync(`${stem}_red.inf`, { force: true });
  const accel = (lo: boolean) => [
    ...tc.cmd("accelsearch"),
    ...tc.locpow(p.accel_locpow),
    ...tc.harmpolish(),
    "-numharm",
    String(lo ? p.lo_accel_numharm : p.hi_accel_numharm),
    "-sigma",
    pyFloat(lo ? p.lo_accel_sigma : p.hi_accel_sigma),
    "-zmax",
    String(lo ? p.lo_accel_zmax : p.hi_accel_zmax),
    "-flo",
    pyFloat(lo ? p.lo_accel_flo : p.hi_accel_flo),
    fft,
  ];
  await step(`accelsearch lo ${name}`, accel(true), { stage: "lo-accelsearch" });
  keepAccel(stem, p.lo_accel_zmax, work);
  if (!zeroDm) {
    await step(`accelsearch hi ${name}`, accel(false), { stage: "hi-accelsearch" });
    keepAccel(stem, p.hi_accel_zmax, work);
  }
  fs.rmSync(fft, { force: true });
}

function keepAccel(stem: string, zmax: number, work: string): void {
  fs.rmSync(`${stem}_ACCEL_${zmax}.txtcand`, { force: true });
  for (const suffix of [`_ACCEL_${zmax}`, `_ACCEL_${zmax}.cand`]) {
    const from = `${stem}${suffix}`;
    if (fs.existsSync(from)) fs.renameSync(from, path.join(work, path.basename(from)));
  }
}

/** single_pulse_search.py over a pass's .dat files; keeps .singlepulse and .inf, frees the .dat. */
async function singlePulse(tc: Toolchain, p: SearchParams, step: Step, dats: string[], zeroDm: boolean, work: string): Promise<void> {
  await step(
    "single_pulse_search",
    [
      ...tc.cmd("single_pulse_search.py"),
      "-p",
      "-m",
      pyFloat(p.singlepulse_maxwidth),
      "-t",
      pyFloat(p.singlepulse_threshold),
      ...(zeroDm ? ["-b"] : []),
      ...dats,
    ],
    { stage: "single-pulse" },
  );
  for (const dat of dats) {
    const stem = dat.slice(0, -4);
    for (const suffix of [".singlepulse", ".inf"])
      if (fs.existsSync(stem + suffix)) fs.renameSync(stem + suffix, path.join(work, path.basename(stem) + suffix));
    fs.rmSync(dat, { force: true });
  }
}

/** PALFA's single-pulse plots per DM range, where the range has any events. */
const SP_RANGES: { label: string; lo: number; hi: number }[] = [
  { label: "0-110", lo: 0, hi: 110 },
  { label: "100-310", lo: 100, hi: 310 },
  { label: "300-1000+", lo: 300, hi: Infinity },
  { label: "1000-5000+", lo: 1000, hi: Infinity },
];

async function singlePulsePlots(tc: Toolchain, p: SearchParams, step: Step, work: string, base: string): Promise<void> {
  const files = fs.readdirSync(work).filter((n) => n.endsWith(".singlepulse"));
  for (const r of SP_RANGES) {
    const inRange = files.filter((n) => {
      const dm = Number(/_DM([0-9.]+)\.singlepulse$/.exec(n)?.[1]);
      return dm >= r.lo && dm <= r.hi && fs.statSync(path.join(work, n)).size > 0;
    });
    if (inRange.length === 0) continue;
    const before = new Set(fs.readdirSync(work).filter((n) => n.endsWith(".ps")));
    await step(`single_pulse plot DMs ${r.label}`, [...tc.cmd("single_pulse_search.py"), "-t", pyFloat(p.singlepulse_plot_SNR), ...inRange], {
      stage: "single-pulse",
    });
    const made = fs.readdirSync(work).filter((n) => n.endsWith("_singlepulse.ps") && !before.has(n));
    if (made.length !== 1) throw new SearchFailure(`single_pulse_search.py wrote ${made.length} plots for DMs ${r.label}`, "bad_output");
    const ps = path.join(work, `${base}_DMs${r.label}_singlepulse.ps`);
    fs.renameSync(path.join(work, made[0]), ps);
    await renderPlot(tc, step, ps, ps.replace(/\.ps$/, ".png"));
  }
}

/** PostScript → PNG of its last page (giza's PGPLOT writes a blank first page). */
async function renderPlot(tc: Toolchain, step: Step, ps: string, png: string): Promise<void> {
  if (!fs.existsSync(ps)) return;
  const text = fs.readFileSync(ps, "latin1").slice(0, 4096);
  const pages = Number(/%%Pages:\s*(\d+)/.exec(text)?.[1] ?? 1) || 1;
  await step(
    `render ${path.basename(ps)}`,
    [
      ...tc.cmd("gs"),
      "-q",
      "-dSAFER",
      "-dBATCH",
      "-dNOPAUSE",
      "-sDEVICE=png16m",
      "-r100",
      `-dFirstPage=${pages}`,
      `-dLastPage=${pages}`,
      `-sOutputFile=${png}`,
      ps,
    ],
    { stage: "plots" },
  );
}

/** Folds the selected candidates (PALFA's period-dependent options) and renders their plots. */
async function fold(run: SearchRun, input: SearchInput & { header: PsrfitsHeader }, accelcands: string): Promise<void> {
  const { tc, p, ex, step, work, base } = run;
  const { raw, mask, header } = input;
  const { toFold } = selectCandidatesToFold(readAccelcandsFile(accelcands), p);
  const attributes: string[] = [];
  await ex.all(
    toFold.map(({ candidate: c }) => async () => {
      const cmd = prepfoldArgs({
        candnum: c.candnum,
        accelFile: c.accelFile,
        dm: c.dm,
        periodS: c.periodMs / 1000,
        basename: base,
        backend: header.backend,
        nchan: header.subint.nchan,
        rows: header.subint.rows,
        mask,
        rawFiles: raw,
      });
      const out = `${cmd.outBase}_ACCEL_Cand_${c.candnum}`;
      await step(`prepfold ${out}`, [...tc.cmd("prepfold"), ...cmd.args], { teeTo: path.join(work, `${out}.prepfold.out`), stage: "folding" });
      const pfd = path.join(work, `${out}.pfd`);
      if (!fs.existsSync(`${pfd}.bestprof`)) throw new SearchFailure(`prepfold did not write ${out}.pfd.bestprof`, "bad_output");
      await step(`plot ${out}.pfd`, pfdPlotArgv(tc, pfd, work), { stage: "plots" });
      const prof = readBestprofFile(`${pfd}.bestprof`);
      attributes.push(`${out}.pfd prepfold_sigma=${prof.probNoise.sigma}`);
    }),
  );
  fs.writeFileSync(path.join(work, "candidate_attributes.txt"), attributes.sort().join("\n") + (attributes.length ? "\n" : ""));
}
