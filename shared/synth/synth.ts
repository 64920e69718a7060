/**
 * `beamflow synth`: write a synthetic PSRFITS search-mode beam, a single file or a
 * Mock s0/s1 pair, row by row (memory is a few rows whatever the length), and
 * optionally a JSON file with the true parameters.
 *
 *   writeSynthBeam(options, out, { paramsJson? }): SynthResult
 *       out: the file to write, or a directory (created if needed) for a pair, or
 *       for a single file named as combine_mocks would name the merged beam
 *   synthTruth(plan, ampSigma, snr, files)   the parameters file's content
 *
 * Each channel-sample is N(0,1) noise + interference + pulsar (units of the noise
 * rms), then quantised (quantize.ts). Noise, bursts and narrow-band RFI draw on
 * separate streams of the seed, so two beams with the same seed and geometry have
 * the same noise whatever signals they carry. Same options and seed: same bytes.
 */

import fs from "node:fs";
import path from "node:path";
import { BEAMFLOW_VERSION } from "../version";
import { FitsFileWriter, headerBytes } from "./fits-writer";
import { type PsrfitsFileSpec, SubintRow, primaryCards, subintCards } from "./psrfits-layout";
import { PulsarModel } from "./pulsar";
import { type Bits, LEVELS, quantisationGain, quantiseInto, quantisePairInto } from "./quantize";
import { Rng } from "./random";
import { planInterference } from "./rfi";
import { SNR_DEFINITION, type SnrChannel, snrPerUnitAmplitude } from "./snr";
import { type BeamPlan, type SynthOptions, mergedName, planBeam } from "./spec";

export interface SynthFile {
  kind: "single" | "s0" | "s1";
  path: string;
  bytes: number;
  nchan: number;
  /** Channel centres at the band's edges of this file, MHz. */
  lowMhz: number;
  highMhz: number;
}

export interface SynthResult {
  files: SynthFile[];
  paramsJson: string | null;
  plan: BeamPlan;
  truth: SynthTruth;
  elapsedMs: number;
}

export interface SynthTruth {
  generator: string;
  version: string;
  seed: number;
  files: Array<{ name: string; kind: string; bytes: number; nchan: number; first_channel: number; low_mhz: number; high_mhz: number }>;
  merged_name: string | null;
  observation: {
    telescope: string;
    backend: string;
    source: string;
    ra: string;
    dec: string;
    gal_l_deg: number;
    gal_b_deg: number;
    beam: number;
    start_mjd: number;
    date_obs: string;
    nbits: number;
    nchan_total: number;
    overlap_channels: number;
    fctr_mhz: number;
    bw_mhz: number;
    chan_bw_mhz: number;
    tsamp_s: number;
    nsblk: number;
    rows: number;
    samples: number;
    duration_s: number;
    noise_mean_raw: number;
    noise_rms_raw: number;
  };
  pulsar: null | {
    period_s: number;
    period_is: "topocentric";
    freq_hz: number;
    dm: number;
    duty_fwhm: number;
    phase: number;
    epoch_mjd: number;
    amp_sigma: number;
    snr: number;
    snr_definition: string;
  };
  rfi: {
    bursts: null | { count: number; amp_sigma: number; width_s: number; times_s: number[] };
    narrowband: null | { channels: number[]; channels_are: string; amp_sigma: number; tone_hz: number; on_s: Array<[number, number]> };
    birdie: null | { freq_hz: number; amp_sigma: number };
  };
}

/** Per-channel inputs to the S/N arithmetic for a synthetic beam (whole band). */
export function synthSnrChannels(plan: BeamPlan): SnrChannel[] {
  const q = quantisationGain(plan.bits);
  const out: SnrChannel[] = [];
  for (let c = 0; c < plan.totalChannels; c++) {
    out.push({ weight: plan.scales[c] * plan.weights[c], noiseRms: q.noiseRms, gain: q.efficiency });
  }
  return out;
}

function fileSpec(plan: BeamPlan, first: number, nchan: number): PsrfitsFileSpec {
  return {
    source: plan.source,
    observer: "beamflow synth",
    projid: "p2030",
    beam: plan.beam,
    raText: plan.raText,
    decText: plan.decText,
    raDeg: plan.raDeg,
    decDeg: plan.decDeg,
    glon: plan.glon,
    glat: plan.glat,
    imjd: plan.imjd,
    smjd: plan.smjd,
    offs: plan.offs,
    dateObs: plan.dateObs,
    lstStart: plan.lstStart,
    nbits: plan.bits,
    nchan,
    nsblk: plan.nsblk,
    rows: plan.rows,
    tbin: plan.tsampS,
    chanBw: plan.chanBwMhz,
    freqs: plan.freqs.slice(first, first + nchan),
    weights: plan.weights.slice(first, first + nchan),
    offsets: plan.offsets.slice(first, first + nchan),
    scales: plan.scales.slice(first, first + nchan),
    beamFwhmDeg: plan.beamFwhmDeg,
    comments: ["Synthetic beam written by beamflow synth (seeded; not an observation)", `seed ${plan.seed}`],
  };
}

function resolveOutputs(plan: BeamPlan, out: string): string[] {
  const isDir = out.endsWith("/") || (fs.existsSync(out) && fs.statSync(out).isDirectory());
  if (plan.mock) {
    if (fs.existsSync(out) && !fs.statSync(out).isDirectory()) throw new Error(`${out}: a Mock pair goes into a directory, and this is a file`);
    fs.mkdirSync(out, { recursive: true });
    return plan.files.map((f) => path.join(out, f.name!));
  }
  if (isDir) {
    fs.mkdirSync(out, { recursive: true });
    return [path.join(out, mergedName(plan))];
  }
  const dir = path.dirname(out);
  if (!fs.existsSync(dir)) throw new Error(`${out}: directory ${dir} does not exist`);
  return [out];
}

export function writeSynthBeam(options: SynthOptions, out: string, extra: { paramsJson?: string } = {}): SynthResult {
  const started = process.hrtime.bigint();
  const plan = planBeam(options);
  const paths = resolveOutputs(plan, out);
  const specs = plan.files.map((f) => fileSpec(plan, f.first, f.nchan));

  const total = plan.totalChannels;
  const model = plan.pulsar ? new PulsarModel(plan.pulsar, plan.freqs, plan.chanBwMhz, plan.tsampS) : null;
  let ampSigma = 0;
  let snr = 0;
  if (model && plan.pulsar) {
    const perUnit = snrPerUnitAmplitude(model, synthSnrChannels(plan), plan.samples);
    if (plan.pulsar.ampSigma !== undefined) {
      ampSigma = plan.pulsar.ampSigma;
      snr = ampSigma * perUnit;
    } else {
      snr = plan.pulsar.snr ?? 0;
      ampSigma = perUnit > 0 ? snr / perUnit : 0;
    }
  }
  const rfi = planInterference(
    { bursts: plan.bursts ?? undefined, narrowband: plan.narrowband ?? undefined, birdie: plan.birdie ?? undefined },
    plan.durationS,
    total,
    plan.seed,
  );

  const writers: FitsFileWriter[] = [];
  try {
    for (let i = 0; i < paths.length; i++) {
      const w = new FitsFileWriter(paths[i]);
      writers.push(w);
      w.write(headerBytes(primaryCards(specs[i])));
      w.write(headerBytes(subintCards(specs[i])));
    }
    const rows = specs.map((s) => new SubintRow(s));
    const nsblk = plan.nsblk;
    const noise = new Rng(plan.seed, "noise");
    const va = new Float32Array(nsblk);
    const vb = new Float32Array(nsblk);
    const common = new Float32Array(nsblk);
    const bits: Bits = plan.bits;
    const render = (c: number, first: number, hasCommon: boolean, vals: Float32Array): void => {
      noise.fillNormal(vals, nsblk);
      if (hasCommon) for (let i = 0; i < nsblk; i++) vals[i] += common[i];
      rfi.narrowband(c, first, nsblk, plan.tsampS, vals);
      if (model) model.add(c, first, nsblk, vals, ampSigma);
    };
    for (let r = 0; r < plan.rows; r++) {
      const first = r * nsblk;
      const hasCommon = rfi.common(first, nsblk, plan.tsampS, common);
      // Channels in pairs (every file starts on an even channel): a 4-bit pair is one byte.
      for (let c = 0; c < total; c += 2) {
        render(c, first, hasCommon, va);
        render(c + 1, first, hasCommon, vb);
        for (let f = 0; f < plan.files.length; f++) {
          const fp = plan.files[f];
          const k = c - fp.first;
          if (k < 0 || k >= fp.nchan) continue;
          const data = rows[f].data;
          if (bits === 4) {
            quantisePairInto(va, vb, nsblk, data, k >> 1, fp.nchan >> 1);
          } else {
            quantiseInto(va, nsblk, data, k, fp.nchan, 8);
            quantiseInto(vb, nsblk, data, k + 1, fp.nchan, 8);
          }
        }
      }
      for (let f = 0; f < writers.length; f++) {
        rows[f].set(r);
        writers[f].write(rows[f].bytes);
      }
    }
    const sizes = writers.map((w) => w.finish());
    const files: SynthFile[] = plan.files.map((f, i) => ({
      kind: f.kind,
      path: paths[i],
      bytes: sizes[i],
      nchan: f.nchan,
      lowMhz: plan.freqs[f.first + f.nchan - 1],
      highMhz: plan.freqs[f.first],
    }));
    const truth = synthTruth(plan, ampSigma, snr, files, rfi.burstTimesS, rfi.narrowbandOnS);
    let paramsJson: string | null = null;
    if (extra.paramsJson) {
      fs.writeFileSync(extra.paramsJson, JSON.stringify(truth, null, 2) + "\n");
      paramsJson = extra.paramsJson;
    }
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    return { files, paramsJson, plan, truth, elapsedMs };
  } catch (err) {
    for (const w of writers) w.abort();
    throw err;
  }
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

export function synthTruth(
  plan: BeamPlan,
  ampSigma: number,
  snr: number,
  files: SynthFile[],
  burstTimesS: number[],
  narrowbandOnS: Array<[number, number]>,
): SynthTruth {
  const lv = LEVELS[plan.bits];
  return {
    generator: "beamflow synth",
    version: BEAMFLOW_VERSION,
    seed: plan.seed,
    files: files.map((f, i) => ({
      name: path.basename(f.path),
      kind: f.kind,
      bytes: f.bytes,
      nchan: f.nchan,
      first_channel: plan.files[i].first,
      low_mhz: f.lowMhz,
      high_mhz: f.highMhz,
    })),
    merged_name: plan.mock ? mergedName(plan) : null,
    observation: {
      telescope: "Arecibo",
      backend: "pdev",
      source: plan.source,
      ra: plan.raText,
      dec: plan.decText,
      gal_l_deg: round(plan.glon, 6),
      gal_b_deg: round(plan.glat, 6),
      beam: plan.beam,
      start_mjd: plan.startMjd,
      date_obs: plan.dateObs,
      nbits: plan.bits,
      nchan_total: plan.totalChannels,
      overlap_channels: plan.overlap,
      fctr_mhz: plan.fctrMhz,
      bw_mhz: plan.bwMhz,
      chan_bw_mhz: plan.chanBwMhz,
      tsamp_s: plan.tsampS,
      nsblk: plan.nsblk,
      rows: plan.rows,
      samples: plan.samples,
      duration_s: plan.durationS,
      noise_mean_raw: lv.mean,
      noise_rms_raw: lv.rms,
    },
    pulsar: plan.pulsar
      ? {
          period_s: plan.pulsar.periodS,
          period_is: "topocentric",
          freq_hz: 1 / plan.pulsar.periodS,
          dm: plan.pulsar.dm,
          duty_fwhm: plan.pulsar.duty,
          phase: plan.pulsar.phase,
          epoch_mjd: plan.startMjd + (plan.pulsar.phase * plan.pulsar.periodS) / 86400,
          amp_sigma: round(ampSigma, 9),
          snr: round(snr, 4),
          snr_definition: SNR_DEFINITION,
        }
      : null,
    rfi: {
      bursts: plan.bursts
        ? { count: plan.bursts.count, amp_sigma: plan.bursts.ampSigma, width_s: plan.bursts.widthS, times_s: burstTimesS.map((t) => round(t, 6)) }
        : null,
      narrowband: plan.narrowband
        ? {
            channels: plan.narrowband.channels,
            channels_are: "PRESTO's numbering, 0 = lowest frequency, across the whole band",
            amp_sigma: plan.narrowband.ampSigma,
            tone_hz: plan.narrowband.toneHz,
            on_s: narrowbandOnS.map(([a, b]) => [round(a, 6), round(b, 6)] as [number, number]),
          }
        : null,
      birdie: plan.birdie ? { freq_hz: plan.birdie.freqHz, amp_sigma: plan.birdie.ampSigma } : null,
    },
  };
}
