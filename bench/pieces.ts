// Pieces of the search timed on their own, in-process: sifting the fixture beam's 307
// ACCEL files (PRESTO's sifting.py takes seconds) and writing a synthetic beam.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { siftFiles } from "../agent/search/sifting";
import { writeSynthBeam } from "../shared/synth";

const ALL_DMS = path.join(__dirname, "..", "test", "fixtures", "presto", "beam_J1903", "all_dms");

function timed<T>(runs: number, f: () => T): { medianMs: number; minMs: number; maxMs: number; runs: number } {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { medianMs: r(ms[Math.floor(ms.length / 2)]!), minMs: r(ms[0]!), maxMs: r(ms.at(-1)!), runs };
}

export async function siftBenchmark(): Promise<unknown> {
  const names = fs.readdirSync(ALL_DMS);
  const dms = names
    .filter((f) => f.endsWith(".inf"))
    .map((f) => f.split("_DM").pop()!.slice(0, -4))
    .sort((a, b) => Number(a) - Number(b));
  const accel = (z: number) => names.filter((f) => f.endsWith(`_ACCEL_${z}`)).map((f) => path.join(ALL_DMS, f));
  const files = [accel(0), accel(50)];
  return { accelFiles: files.flat().length, ...timed(5, () => siftFiles(files, dms, { lowDmCutoff: 1.0 })) };
}

export async function synthBenchmark(): Promise<unknown> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth-"));
  try {
    const out = path.join(dir, "beam.fits");
    const opts = { nchan: 128, lengthS: 20, seed: 1, pulsar: { periodS: 0.0893, dm: 57 } };
    const t = timed(3, () => writeSynthBeam(opts as Parameters<typeof writeSynthBeam>[0], out));
    return { beam: "128 channels x 20 s, 4-bit, one pulsar", bytes: fs.statSync(out).size, ...t };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
