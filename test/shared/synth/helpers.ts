// Helpers for the synthetic-beam tests: a scratch directory, the real PRESTO
// programs run in it, readfile's "label = value" output, and a reader of a
// PSRFITS file's rows (DAT_* columns and unpacked samples) for checks in TS.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readPsrfitsHeader, type PsrfitsHeader } from "../../../shared/psrfits";
import { type Bits, unpackSamples } from "../../../shared/synth";
import { prestoEnv } from "../../support/presto";

export class Scratch {
  readonly dir: string;
  constructor(prefix = "beamflow-synth-") {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  }
  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }
  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Run a real PRESTO / psrfits_utils program in `cwd`; fails the test on a non-zero exit. */
export function presto(bin: string, cwd: string, program: string, args: string[], timeoutMs = 60_000): string {
  const r = spawnSync(path.join(bin, program), args, { cwd, env: prestoEnv(bin), encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${program} ${args.join(" ")} exited ${r.status}:\n${(r.stdout ?? "").slice(-2000)}\n${(r.stderr ?? "").slice(-2000)}`);
  return r.stdout + r.stderr;
}

/** readfile's "label = value" lines, first occurrence of each label, values trimmed. */
export function readfileValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const eq = line.indexOf(" = ");
    if (eq < 0) continue;
    const label = line.slice(0, eq).trim();
    if (!out.has(label)) out.set(label, line.slice(eq + 3).trim());
  }
  return out;
}

export function value(values: Map<string, string>, label: string): string {
  const v = values.get(label);
  if (v === undefined) throw new Error(`readfile output has no "${label}"`);
  return v;
}

export interface Row {
  freqs: Float64Array;
  weights: Float64Array;
  offsets: Float64Array;
  scales: Float64Array;
  /** nsblk x nchan samples, one byte each, file channel order. */
  samples: Uint8Array;
}

/** A PSRFITS file's header and a reader of its rows (E/D columns, B data). */
export interface Beam {
  h: PsrfitsHeader;
  row: (r: number) => Row;
  rawRow: (r: number) => Buffer;
  close: () => void;
}

export function openBeam(file: string): Beam {
  const h = readPsrfitsHeader(file);
  const s = h.subint;
  const fd = fs.openSync(file, "r");
  const rawRow = (r: number): Buffer => {
    const buf = Buffer.alloc(s.rowBytes);
    fs.readSync(fd, buf, 0, s.rowBytes, s.dataOffset + r * s.rowBytes);
    return buf;
  };
  const reals = (buf: Buffer, col: typeof s.datFreq): Float64Array => {
    const out = new Float64Array(s.nchan);
    for (let i = 0; i < s.nchan; i++) out[i] = col!.type === "D" ? buf.readDoubleBE(col!.offset + 8 * i) : buf.readFloatBE(col!.offset + 4 * i);
    return out;
  };
  const row = (r: number): Row => {
    const buf = rawRow(r);
    return {
      freqs: reals(buf, s.datFreq),
      weights: reals(buf, s.datWts),
      offsets: reals(buf, s.datOffs),
      scales: reals(buf, s.datScl),
      samples: unpackSamples(buf.subarray(s.data!.offset, s.data!.offset + s.data!.bytes), s.nsblk * s.nchan, s.nbits as Bits),
    };
  };
  return { h, row, rawRow, close: () => fs.closeSync(fd) };
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

export function rms(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i] - m) ** 2;
  return Math.sqrt(s / xs.length);
}
