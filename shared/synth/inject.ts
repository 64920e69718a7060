/**
 * `beamflow inject`: copy a real search-mode PSRFITS beam and add a dispersed
 * periodic pulsar to its samples, for measuring a search's sensitivity (PALFA did
 * this by hand).
 *
 *   injectPulsar(input, output, options): InjectResult
 *
 * What is kept: every byte outside the DATA column (headers, DAT_FREQ, DAT_WTS,
 * DAT_OFFS, DAT_SCL, the other columns, padding, any later HDU). What changes: the
 * samples near each pulse. For channel c in row r the pulse adds, in raw units,
 *
 *     a * rms_c * (scl_c / DAT_SCL[r,c]) * pulse(c, t)
 *
 * where a is the amplitude (peak of the unsmeared pulse in noise rms), rms_c the
 * channel's robust raw rms (interquartile range / 1.349 over up to `statsRows`
 * rows spread through the file) and scl_c its mean DAT_SCL: the pulsar is the
 * same in physical units whatever scale each row was written with. Each new sample
 * is floor(raw + delta + u) with u uniform in [0, 1) from the seed, so a pulse far
 * below one quantisation level still adds exactly delta on average, and the result
 * is clipped to 0..2^NBITS-1, never wrapped. Channels with DAT_WTS 0, DAT_SCL 0 or
 * no spread are left alone. Scales and weights count only when PRESTO would apply
 * them (it decides from the first row: all DAT_SCL 1 means no scaling).
 *
 * `snr` picks a from snr.ts's definition, with the measured rms, weights and the
 * share of each channel's samples already at the top level (which a positive pulse
 * cannot raise) counted in.
 */

import fs from "node:fs";
import path from "node:path";
import { BEAMFLOW_VERSION } from "../version";
import { type PsrfitsColumn, type PsrfitsHeader, PsrfitsError, readPsrfitsHeader } from "../psrfits";
import { FitsFileWriter } from "./fits-writer";
import { PulsarModel, type PulsarParams } from "./pulsar";
import { Rng } from "./random";
import { SNR_DEFINITION, type SnrChannel, snrPerUnitAmplitude } from "./snr";

export interface InjectOptions {
  periodS: number;
  dm: number;
  /** Target S/N (snr.ts); or give ampSigma. */
  snr?: number;
  ampSigma?: number;
  duty?: number;
  phase?: number;
  seed?: number;
  /** Rows read to measure each channel's rms (spread through the file; default 64). */
  statsRows?: number;
  paramsJson?: string;
}

export interface InjectResult {
  input: string;
  output: string;
  bytes: number;
  nbits: number;
  nchan: number;
  rows: number;
  samples: number;
  durationS: number;
  ampSigma: number;
  snr: number;
  channelsInjected: number;
  /** Samples whose increase was cut short at the top level. */
  clippedSamples: number;
  samplesChanged: number;
  elapsedMs: number;
  paramsJson: string | null;
}

interface Geometry {
  h: PsrfitsHeader;
  nbits: 4 | 8;
  nchan: number;
  nsblk: number;
  rows: number;
  rowBytes: number;
  data: PsrfitsColumn;
  scl: PsrfitsColumn | null;
  wts: PsrfitsColumn | null;
  freq: PsrfitsColumn | null;
}

function fail(file: string, detail: string): never {
  throw new Error(`${file}: ${detail}`);
}

function geometry(file: string): Geometry {
  let h: PsrfitsHeader;
  try {
    h = readPsrfitsHeader(file);
  } catch (err) {
    if (err instanceof PsrfitsError) {
      const what = err.problem === "truncated" || err.problem === "io" ? "" : "not a readable PSRFITS file: ";
      throw new Error(`cannot inject into ${err.file}: ${what}${err.problem === "truncated" ? "truncated: " : ""}${err.detail}`);
    }
    throw err;
  }
  if (h.fitsType !== "PSRFITS") fail(file, `not a PSRFITS file (FITSTYPE is ${JSON.stringify(h.fitsType)})`);
  if (h.obsMode !== "SEARCH" && h.obsMode !== "SRCH") fail(file, `not search-mode data (OBS_MODE is ${JSON.stringify(h.obsMode)})`);
  const s = h.subint;
  if (h.headerOnly || s.rows === 0) fail(file, "the SUBINT table has no rows (a header-only copy?)");
  if (s.data === null) fail(file, "the SUBINT table has no DATA column");
  if (s.data.type !== "B" && s.data.type !== "X") fail(file, `DATA is TFORM ${s.data.tform.trim()}; only byte-packed samples (B) can be injected into`);
  if (s.nbits !== 4 && s.nbits !== 8) fail(file, `NBITS is ${s.nbits}; inject handles 4- and 8-bit data`);
  if (s.npol !== 1) fail(file, `NPOL is ${s.npol}; inject handles total-intensity data (NPOL 1) only`);
  const numeric = (c: PsrfitsColumn | null, what: string): PsrfitsColumn | null => {
    if (c === null) return null;
    if ((c.type !== "E" && c.type !== "D") || c.repeat < s.nchan) fail(file, `${what} is TFORM ${c.tform.trim()}, not ${s.nchan} reals`);
    return c;
  };
  return {
    h,
    nbits: s.nbits,
    nchan: s.nchan,
    nsblk: s.nsblk,
    rows: s.rows,
    rowBytes: s.rowBytes,
    data: s.data,
    scl: numeric(s.datScl, "DAT_SCL"),
    wts: numeric(s.datWts, "DAT_WTS"),
    freq: numeric(s.datFreq, "DAT_FREQ"),
  };
}

function readReals(row: Buffer, col: PsrfitsColumn | null, n: number, fallback: number): Float64Array {
  const out = new Float64Array(n);
  if (col === null) return out.fill(fallback);
  for (let i = 0; i < n; i++) out[i] = col.type === "D" ? row.readDoubleBE(col.offset + 8 * i) : row.readFloatBE(col.offset + 4 * i);
  return out;
}

function readRow(fd: number, file: string, g: Geometry, r: number, buf: Buffer): void {
  const at = g.h.subint.dataOffset + r * g.rowBytes;
  let got = 0;
  while (got < g.rowBytes) {
    const n = fs.readSync(fd, buf, got, g.rowBytes - got, at + got);
    if (n === 0) fail(file, `truncated: row ${r + 1} ends past the end of the file`);
    got += n;
  }
}

/** Sample value of channel c at spectrum t in a DATA field starting at `base`. */
function sampleAt(row: Buffer, base: number, nbits: 4 | 8, idx: number): number {
  if (nbits === 8) return row[base + idx];
  const b = row[base + (idx >> 1)];
  return (idx & 1) === 0 ? b >> 4 : b & 0x0f;
}

function setSample(row: Buffer, base: number, nbits: 4 | 8, idx: number, v: number): void {
  if (nbits === 8) {
    row[base + idx] = v;
    return;
  }
  const at = base + (idx >> 1);
  row[at] = (idx & 1) === 0 ? (row[at] & 0x0f) | (v << 4) : (row[at] & 0xf0) | v;
}

interface ChannelStats {
  rms: Float64Array;
  meanScale: Float64Array;
  weight: Float64Array;
  topShare: Float64Array;
  applyScale: boolean;
  applyWeight: boolean;
  rowsRead: number;
}

/** Robust per-channel rms from up to statsRows rows spread through the file. */
function measure(fd: number, file: string, g: Geometry, statsRows: number, buf: Buffer): ChannelStats {
  const levels = 1 << g.nbits;
  const nchan = g.nchan;
  const hist = new Float64Array(nchan * levels);
  const sclSum = new Float64Array(nchan);
  const wtsSum = new Float64Array(nchan);
  const k = Math.min(g.rows, Math.max(1, statsRows));
  readRow(fd, file, g, 0, buf);
  const scl0 = readReals(buf, g.scl, nchan, 1);
  const wts0 = readReals(buf, g.wts, nchan, 1);
  const applyScale = scl0.some((x) => x !== 1);
  const applyWeight = wts0.some((x) => x !== 1);
  for (let i = 0; i < k; i++) {
    const r = Math.floor(((i + 0.5) * g.rows) / k);
    readRow(fd, file, g, r, buf);
    const scl = readReals(buf, g.scl, nchan, 1);
    const wts = readReals(buf, g.wts, nchan, 1);
    for (let c = 0; c < nchan; c++) {
      sclSum[c] += applyScale ? Math.abs(scl[c]) : 1;
      wtsSum[c] += applyWeight ? wts[c] : 1;
    }
    const base = g.data.offset;
    for (let t = 0, idx = 0; t < g.nsblk; t++) {
      for (let c = 0; c < nchan; c++, idx++) hist[c * levels + sampleAt(buf, base, g.nbits, idx)] += 1;
    }
  }
  const rms = new Float64Array(nchan);
  const topShare = new Float64Array(nchan);
  const total = k * g.nsblk;
  for (let c = 0; c < nchan; c++) {
    const h = hist.subarray(c * levels, (c + 1) * levels);
    rms[c] = (quantile(h, total, 0.75) - quantile(h, total, 0.25)) / 1.349;
    topShare[c] = h[levels - 1] / total;
  }
  return {
    rms,
    meanScale: sclSum.map((x) => x / k),
    weight: wtsSum.map((x) => x / k),
    topShare,
    applyScale,
    applyWeight,
    rowsRead: k,
  };
}

/** The p-quantile of integer data, each level spread evenly over [v - 1/2, v + 1/2). */
function quantile(h: Float64Array, total: number, p: number): number {
  const want = p * total;
  let acc = 0;
  for (let v = 0; v < h.length; v++) {
    if (h[v] > 0 && acc + h[v] >= want) return v - 0.5 + (want - acc) / h[v];
    acc += h[v];
  }
  return h.length - 0.5;
}

export function injectPulsar(input: string, output: string, o: InjectOptions): InjectResult {
  const started = process.hrtime.bigint();
  const g = geometry(input);
  if (fs.existsSync(output) && fs.realpathSync(output) === fs.realpathSync(input)) {
    throw new Error(`${output}: the output would overwrite the input beam; give another file name`);
  }
  const outDir = path.dirname(output);
  if (!fs.existsSync(outDir)) throw new Error(`${output}: directory ${outDir} does not exist`);
  if (o.ampSigma !== undefined && o.snr !== undefined) throw new Error("give the pulsar's --amp or its --snr, not both");
  if (o.ampSigma === undefined && o.snr === undefined) throw new Error("give the pulsar's --snr (or --amp)");
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${seed}`);
  const params: PulsarParams = { periodS: o.periodS, dm: o.dm, duty: o.duty ?? 0.05, phase: o.phase ?? 0 };
  const tsamp = g.h.subint.tbin;
  if (params.periodS < 2 * tsamp) throw new Error(`the pulsar's period (${params.periodS} s) must be at least two samples (${2 * tsamp} s)`);

  const fd = fs.openSync(input, "r");
  let writer: FitsFileWriter | null = null;
  try {
    const buf = Buffer.alloc(g.rowBytes);
    const stats = measure(fd, input, g, o.statsRows ?? 64, buf);
    readRow(fd, input, g, 0, buf);
    const freqs = g.freq ? readReals(buf, g.freq, g.nchan, 0) : fallbackFreqs(g);
    const model = new PulsarModel(params, freqs, g.h.subint.chanBw || freqs[1] - freqs[0], tsamp);
    const samples = g.rows * g.nsblk;
    const use = new Uint8Array(g.nchan);
    const channels: SnrChannel[] = [];
    for (let c = 0; c < g.nchan; c++) {
      use[c] = stats.rms[c] > 0 && stats.meanScale[c] > 0 && stats.weight[c] > 0 ? 1 : 0;
      channels.push({
        weight: use[c] ? stats.meanScale[c] * stats.weight[c] : 0,
        noiseRms: stats.rms[c],
        gain: use[c] ? 1 - stats.topShare[c] : 0,
      });
    }
    const perUnit = snrPerUnitAmplitude(model, channels, samples);
    if (perUnit === 0) fail(input, "no channel has noise to scale a pulsar to (all weights, scales or spreads are zero)");
    const amp = o.ampSigma ?? (o.snr as number) / perUnit;
    if (!(Number.isFinite(amp) && amp >= 0)) throw new Error(`the pulsar's amplitude must be zero or positive, got ${amp}`);
    const snr = amp * perUnit;

    writer = new FitsFileWriter(output);
    copyRange(fd, input, writer, 0, g.h.subint.dataOffset);
    const rng = new Rng(seed, "inject");
    const delta = new Float32Array(g.nsblk);
    const top = (1 << g.nbits) - 1;
    const base = g.data.offset;
    let clipped = 0;
    let changed = 0;
    for (let r = 0; r < g.rows; r++) {
      readRow(fd, input, g, r, buf);
      const scl = stats.applyScale && g.scl ? readReals(buf, g.scl, g.nchan, 1) : null;
      for (let c = 0; c < g.nchan; c++) {
        if (!use[c]) continue;
        const rowScale = scl ? Math.abs(scl[c]) : 1;
        if (rowScale === 0) continue;
        const a = (amp * stats.rms[c] * stats.meanScale[c]) / rowScale;
        delta.fill(0);
        model.add(c, r * g.nsblk, g.nsblk, delta, a);
        for (let t = 0; t < g.nsblk; t++) {
          const d = delta[t];
          if (!(d > 1e-7)) continue;
          const idx = t * g.nchan + c;
          const raw = sampleAt(buf, base, g.nbits, idx);
          let v = Math.floor(raw + d + rng.uniform());
          if (v > top) {
            v = top;
            clipped++;
          }
          if (v !== raw) {
            setSample(buf, base, g.nbits, idx, v);
            changed++;
          }
        }
      }
      writer.write(buf);
    }
    const tableEnd = g.h.subint.dataOffset + g.rows * g.rowBytes;
    copyRange(fd, input, writer, tableEnd, g.h.fileBytes);
    const bytes = writer.finish();
    writer = null;

    const result: InjectResult = {
      input,
      output,
      bytes,
      nbits: g.nbits,
      nchan: g.nchan,
      rows: g.rows,
      samples,
      durationS: samples * tsamp,
      ampSigma: amp,
      snr,
      channelsInjected: use.reduce((a, b) => a + b, 0),
      clippedSamples: clipped,
      samplesChanged: changed,
      elapsedMs: 0,
      paramsJson: null,
    };
    if (o.paramsJson) {
      fs.writeFileSync(o.paramsJson, JSON.stringify(injectTruth(result, params, seed, stats.rowsRead), null, 2) + "\n");
      result.paramsJson = o.paramsJson;
    }
    result.elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    return result;
  } catch (err) {
    writer?.abort();
    throw err;
  } finally {
    fs.closeSync(fd);
  }
}

function fallbackFreqs(g: Geometry): Float64Array {
  // No DAT_FREQ: channels centred on OBSFREQ, CHAN_BW apart, in file order.
  const out = new Float64Array(g.nchan);
  const bw = g.h.subint.chanBw;
  for (let c = 0; c < g.nchan; c++) out[c] = g.h.obsFreqMhz + (c - (g.nchan - 1) / 2) * bw;
  return out;
}

function copyRange(fd: number, file: string, w: FitsFileWriter, from: number, to: number): void {
  const chunk = Buffer.alloc(1 << 20);
  let at = from;
  while (at < to) {
    const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, to - at), at);
    if (n === 0) fail(file, `truncated: cannot read byte ${at}`);
    w.write(chunk.subarray(0, n));
    at += n;
  }
}

function injectTruth(r: InjectResult, p: PulsarParams, seed: number, statsRows: number) {
  return {
    generator: "beamflow inject",
    version: BEAMFLOW_VERSION,
    seed,
    input: path.basename(r.input),
    output: path.basename(r.output),
    bytes: r.bytes,
    pulsar: {
      period_s: p.periodS,
      period_is: "topocentric",
      freq_hz: 1 / p.periodS,
      dm: p.dm,
      duty_fwhm: p.duty,
      phase: p.phase,
      amp_sigma: Number(r.ampSigma.toFixed(9)),
      snr: Number(r.snr.toFixed(4)),
      snr_definition: SNR_DEFINITION,
    },
    channels_injected: r.channelsInjected,
    stats_rows: statsRows,
    samples_changed: r.samplesChanged,
    samples_clipped: r.clippedSamples,
  };
}
