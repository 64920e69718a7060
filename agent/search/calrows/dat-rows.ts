/**
 * Per-row medians of a PRESTO .dat time series, read as a stream.
 *
 * Public API:
 *   readRowMedians(datPath, samplesPerRow, options?): Promise<RowMedians>
 *
 * A .dat is raw little-endian float32 samples (its .inf says how many). For the
 * cal-row check PALFA made it with `prepdata -noclip -nobary -dm 0`, which keeps
 * the native sample time, so one PSRFITS row is exactly NSBLK samples and row k of
 * the series is row k+1 of the FITS table. A Mock beam's series is ~1 GB and
 * PALFA memory-mapped it; we read a bounded chunk of whole rows at a time, so
 * memory stays at one chunk plus one float per row. Samples after the last whole
 * row are ignored, as PALFA's dat[:size//spr*spr] did, and counted.
 */

import fs from "node:fs";
import os from "node:os";
import { medianFloat32 } from "./median";

export interface RowMedians {
  /** One float32 median per whole row, in row order. */
  medians: Float32Array;
  rows: number;
  samplesPerRow: number;
  /** Samples after the last whole row (not used). */
  trailingSamples: number;
}

export interface ReadRowMediansOptions {
  /** Approximate bytes read per chunk (whole rows); default 8 MiB. */
  chunkBytes?: number;
}

const LITTLE_ENDIAN = os.endianness() === "LE";

export async function readRowMedians(datPath: string, samplesPerRow: number, options: ReadRowMediansOptions = {}): Promise<RowMedians> {
  if (!Number.isInteger(samplesPerRow) || samplesPerRow < 1) {
    throw new Error(`readRowMedians: samples per row must be a positive integer, got ${samplesPerRow}`);
  }
  const rowBytes = samplesPerRow * 4;
  const fh = await fs.promises.open(datPath, "r");
  try {
    const size = (await fh.stat()).size;
    const totalSamples = Math.floor(size / 4);
    const rows = Math.floor(totalSamples / samplesPerRow);
    const medians = new Float32Array(rows);
    const rowsPerChunk = Math.max(1, Math.floor((options.chunkBytes ?? 8 * 1024 * 1024) / rowBytes));
    // Own ArrayBuffer at offset 0, so Float32Array views over it are aligned.
    const chunk = new Uint8Array(new ArrayBuffer(rowsPerChunk * rowBytes));
    const scratch = new Float32Array(samplesPerRow);
    const view = new DataView(chunk.buffer);
    for (let row = 0; row < rows; ) {
      const n = Math.min(rowsPerChunk, rows - row);
      const want = n * rowBytes;
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(chunk, got, want - got, row * rowBytes + got);
        if (bytesRead === 0) throw new Error(`${datPath}: file shrank while being read (at byte ${row * rowBytes + got})`);
        got += bytesRead;
      }
      for (let r = 0; r < n; r++) {
        const base = r * rowBytes;
        if (LITTLE_ENDIAN) {
          scratch.set(new Float32Array(chunk.buffer, base, samplesPerRow));
        } else {
          for (let i = 0; i < samplesPerRow; i++) scratch[i] = view.getFloat32(base + i * 4, true);
        }
        medians[row + r] = medianFloat32(scratch);
      }
      row += n;
    }
    return { medians, rows, samplesPerRow, trailingSamples: totalSamples - rows * samplesPerRow };
  } finally {
    await fh.close();
  }
}
