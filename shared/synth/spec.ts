/**
 * What `beamflow synth` is asked for, with defaults, checked, and turned into a
 * plan: the channel frequencies, the rows, the files and their names.
 *
 *   interface SynthOptions      every knob (all optional; SYNTH_DEFAULTS fills them)
 *   planBeam(options): BeamPlan     throws Error naming the bad option
 *
 * The band: `bwMhz` around `fctrMhz`, cut into channels that run from high to low
 * frequency (negative CHAN_BW), as Mock data do. A single file has `nchan`
 * channels. A Mock pair (`mock`) has `nchan` channels in each half, the halves
 * sharing `overlap` channels, so the band holds 2*nchan - overlap distinct
 * channels of width bwMhz / (2*nchan - overlap).
 *
 * The bandpass: DAT_SCL = 1 + 0.15 cos(pi x) (x = -1 at the band's bottom, +1 at
 * its top) and DAT_OFFS = DAT_SCL * the raw noise mean, so PRESTO applies both and
 * the halves of a pair agree where they overlap; DAT_WTS = 1.
 */

import { defaultOverlap, palfaName, splitChannels } from "./mock";
import { type Bits, LEVELS } from "./quantize";
import { type BirdieOptions, type BurstOptions, type NarrowbandOptions, validateInterference } from "./rfi";
import { calendar, galactic, lstSeconds, palfaSourceName, parseDec, parseRa, splitMjd, ARECIBO } from "./sky";
import { validatePulsar } from "./pulsar";

export interface SynthPulsarOptions {
  periodS: number;
  dm?: number;
  /** FWHM / period (default 0.05). */
  duty?: number;
  /** Pulse phase at infinite frequency at the first sample (default 0). */
  phase?: number;
  /** Peak of the unsmeared pulse in units of the per-channel noise rms. */
  ampSigma?: number;
  /** Target S/N (snr.ts's definition); used when ampSigma is not given (default 30). */
  snr?: number;
}

export interface SynthOptions {
  seed?: number;
  bits?: Bits;
  /** Channels per file (per half with `mock`). */
  nchan?: number;
  fctrMhz?: number;
  bwMhz?: number;
  tsampS?: number;
  nsblk?: number;
  lengthS?: number;
  mock?: boolean;
  overlap?: number;
  beam?: number;
  source?: string;
  ra?: string;
  dec?: string;
  startMjd?: number;
  pulsar?: SynthPulsarOptions;
  bursts?: BurstOptions;
  narrowband?: NarrowbandOptions;
  birdie?: BirdieOptions;
}

export const SYNTH_DEFAULTS = {
  seed: 1,
  bits: 4 as Bits,
  nchan: 128,
  fctrMhz: 1375.5,
  bwMhz: 322.6,
  tsampS: 65.476e-6,
  nsblk: 2048,
  lengthS: 10,
  beam: 0,
  ra: "19:03:05.8",
  dec: "+03:27:19.0",
  startMjd: 60000.25,
  duty: 0.05,
  snr: 30,
} as const;

export interface FilePlan {
  kind: "single" | "s0" | "s1";
  /** PALFA name for a pair; for a single file the name chosen by the caller. */
  name: string | null;
  /** First channel (file order, whole band) and channel count. */
  first: number;
  nchan: number;
}

export interface BeamPlan {
  seed: number;
  bits: Bits;
  nsblk: number;
  tsampS: number;
  rows: number;
  samples: number;
  durationS: number;
  /** Distinct channels across the band (= nchan for a single file). */
  totalChannels: number;
  chanBwMhz: number;
  fctrMhz: number;
  bwMhz: number;
  /** Channel centres of the whole band, file order (descending). */
  freqs: Float64Array;
  scales: Float32Array;
  offsets: Float32Array;
  weights: Float32Array;
  files: FilePlan[];
  mock: boolean;
  overlap: number;
  beam: number;
  source: string;
  raText: string;
  decText: string;
  raDeg: number;
  decDeg: number;
  glon: number;
  glat: number;
  startMjd: number;
  imjd: number;
  smjd: number;
  offs: number;
  dateObs: string;
  yyyymmdd: string;
  lstStart: number;
  beamFwhmDeg: number;
  pulsar: (Required<Omit<SynthPulsarOptions, "ampSigma" | "snr">> & { ampSigma?: number; snr?: number }) | null;
  bursts: BurstOptions | null;
  narrowband: NarrowbandOptions | null;
  birdie: BirdieOptions | null;
}

function need(cond: boolean, message: string): void {
  if (!cond) throw new Error(message);
}

export function planBeam(o: SynthOptions): BeamPlan {
  const seed = o.seed ?? SYNTH_DEFAULTS.seed;
  need(Number.isSafeInteger(seed) && seed >= 0, `--seed must be a non-negative integer, got ${seed}`);
  const bits = o.bits ?? SYNTH_DEFAULTS.bits;
  need(bits === 4 || bits === 8, `--bits must be 4 or 8, got ${bits}`);
  const nchan = o.nchan ?? SYNTH_DEFAULTS.nchan;
  need(Number.isInteger(nchan) && nchan >= 2 && nchan <= 8192 && nchan % 2 === 0, `--nchan must be an even integer from 2 to 8192, got ${nchan}`);
  const fctr = o.fctrMhz ?? SYNTH_DEFAULTS.fctrMhz;
  const bw = o.bwMhz ?? SYNTH_DEFAULTS.bwMhz;
  need(Number.isFinite(fctr) && fctr > 0, `--fctr must be a positive frequency in MHz, got ${fctr}`);
  need(Number.isFinite(bw) && bw > 0, `--bw must be a positive bandwidth in MHz, got ${bw}`);
  need(fctr - bw / 2 > 0, `the band (--fctr ${fctr} MHz, --bw ${bw} MHz) reaches below 0 MHz`);
  const tsamp = o.tsampS ?? SYNTH_DEFAULTS.tsampS;
  need(Number.isFinite(tsamp) && tsamp > 0 && tsamp < 1, `--tsamp must be between 0 and 1 s (given in microseconds on the command line), got ${tsamp} s`);
  const nsblk = o.nsblk ?? SYNTH_DEFAULTS.nsblk;
  need(Number.isInteger(nsblk) && nsblk >= 1 && nsblk <= 1 << 20, `--nsblk must be an integer from 1 to 1048576, got ${nsblk}`);
  const length = o.lengthS ?? SYNTH_DEFAULTS.lengthS;
  need(Number.isFinite(length) && length > 0 && length <= 86400, `--length must be positive seconds (at most a day), got ${length}`);
  const rows = Math.max(1, Math.ceil(length / (nsblk * tsamp) - 1e-9));
  need(rows * nsblk <= 2 ** 31 - 1, `--length ${length} s makes ${rows * nsblk} samples, more than PRESTO's 2^31 - 1`);
  const mock = o.mock ?? false;
  const overlap = mock ? (o.overlap ?? defaultOverlap(nchan)) : 0;
  if (!mock && o.overlap !== undefined) throw new Error("--overlap only applies to a Mock pair (--mock)");
  const split = mock ? splitChannels(nchan, overlap) : null;
  const total = split ? split.total : nchan;
  const beam = o.beam ?? SYNTH_DEFAULTS.beam;
  need(Number.isInteger(beam) && beam >= 0 && beam <= 99, `--beam must be an integer from 0 to 99, got ${beam}`);

  const raText = (o.ra ?? SYNTH_DEFAULTS.ra).trim();
  const decText = (o.dec ?? SYNTH_DEFAULTS.dec).trim();
  const raDeg = parseRa(raText);
  const decDeg = parseDec(decText);
  const { l, b } = galactic(raDeg, decDeg);
  const source = o.source ?? palfaSourceName(l, b);
  need(
    /^[\x21-\x7e]{1,24}$/.test(source) && !source.includes("/") && !source.includes("'"),
    `--source must be 1-24 printable characters without spaces, quotes or slashes, got ${JSON.stringify(source)}`,
  );

  const startMjd = o.startMjd ?? SYNTH_DEFAULTS.startMjd;
  need(Number.isFinite(startMjd) && startMjd >= 40587 && startMjd < 100000, `--mjd must be an MJD from 40587 (1970) on, got ${startMjd}`);
  const { imjd, smjd, offs } = splitMjd(startMjd);
  const cal = calendar(imjd, smjd + offs);

  const chanBw = -bw / total;
  const top = fctr + bw / 2;
  const freqs = new Float64Array(total);
  const scales = new Float32Array(total);
  const offsets = new Float32Array(total);
  const weights = new Float32Array(total).fill(1);
  const mean = LEVELS[bits].mean;
  for (let c = 0; c < total; c++) {
    freqs[c] = top - (c + 0.5) * Math.abs(chanBw);
    const x = (freqs[c] - fctr) / (bw / 2);
    scales[c] = 1 + 0.15 * Math.cos(Math.PI * x);
    offsets[c] = scales[c] * mean;
  }

  let pulsar: BeamPlan["pulsar"] = null;
  if (o.pulsar) {
    const p = o.pulsar;
    pulsar = { periodS: p.periodS, dm: p.dm ?? 0, duty: p.duty ?? SYNTH_DEFAULTS.duty, phase: p.phase ?? 0 };
    validatePulsar(pulsar);
    if (p.ampSigma !== undefined) {
      need(Number.isFinite(p.ampSigma) && p.ampSigma >= 0, `--amp must be zero or positive (noise rms units), got ${p.ampSigma}`);
      if (p.snr !== undefined) throw new Error("give the pulsar's --amp or its --snr, not both");
      pulsar.ampSigma = p.ampSigma;
    } else {
      const snr = p.snr ?? SYNTH_DEFAULTS.snr;
      need(Number.isFinite(snr) && snr >= 0, `--snr must be zero or positive, got ${snr}`);
      pulsar.snr = snr;
    }
    need(pulsar.periodS >= 2 * tsamp, `the pulsar's period (${pulsar.periodS} s) must be at least two samples (${2 * tsamp} s)`);
  }
  validateInterference({ bursts: o.bursts, narrowband: o.narrowband, birdie: o.birdie }, total);

  const files: FilePlan[] = split
    ? [
        { kind: "s0", name: palfaName("s0", cal.yyyymmdd, source, beam), first: split.s0.first, nchan: split.s0.count },
        { kind: "s1", name: palfaName("s1", cal.yyyymmdd, source, beam), first: split.s1.first, nchan: split.s1.count },
      ]
    : [{ kind: "single", name: null, first: 0, nchan }];

  return {
    seed,
    bits,
    nsblk,
    tsampS: tsamp,
    rows,
    samples: rows * nsblk,
    durationS: rows * nsblk * tsamp,
    totalChannels: total,
    chanBwMhz: chanBw,
    fctrMhz: fctr,
    bwMhz: bw,
    freqs,
    scales,
    offsets,
    weights,
    files,
    mock,
    overlap,
    beam,
    source,
    raText,
    decText,
    raDeg,
    decDeg,
    glon: l,
    glat: b,
    startMjd,
    imjd,
    smjd,
    offs,
    dateObs: cal.dateTime,
    yyyymmdd: cal.yyyymmdd,
    lstStart: lstSeconds(startMjd, ARECIBO.eastLongitudeDeg),
    // ALFA's beams are 3.35 arcmin wide at 1.4 GHz; scale with wavelength.
    beamFwhmDeg: Number(((3.35 / 60) * (1400 / fctr)).toFixed(5)),
    pulsar,
    bursts: o.bursts && o.bursts.count > 0 ? { ...o.bursts } : null,
    narrowband: o.narrowband && o.narrowband.channels.length > 0 ? { ...o.narrowband, channels: [...o.narrowband.channels] } : null,
    birdie: o.birdie ? { ...o.birdie } : null,
  };
}

/** The merged name combine_mocks will give a pair (and a single file written into a directory). */
export function mergedName(plan: BeamPlan): string {
  return palfaName("merged", plan.yyyymmdd, plan.source, plan.beam);
}
