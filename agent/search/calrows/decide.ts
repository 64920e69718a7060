/**
 * Which PSRFITS rows hold the noise-diode calibration signal, and which to delete.
 *
 * Public API:
 *   decideCalRows(rowMedians, { thresholdMads, marginRows? }): CalRowsDecision
 *   type CalRowsDecision, CalBlock, RowDeletion
 *
 * Mock scans at Arecibo could start or end with the cal on: a step of many times
 * the noise in total power that rfifind does not mask and that FFTs into red noise
 * and harmonics. PALFA's MockPsrfitsData.preprocess (datafile.py) therefore:
 *   1. takes the median of each row of the DM-0 series, the median of those
 *      medians and their MAD (median absolute deviation);
 *   2. flags rows whose (median - median of medians) / MAD exceeds the threshold
 *      (calrow_threshold_mads, 50 in V-2), plus `marginRows` (1) either side;
 *   3. deletes, with fitsdelrow, everything from row 1 to the end of a flagged
 *      block that starts in the first 10 % of the rows, and everything from the
 *      start of a flagged block that ends in the last 10 % to the last row. A
 *      block in between is only reported (cutting the middle of a scan would
 *      break its time series).
 *
 * Choices where the source leaves room (V-2's text was not available to us; the
 * earlier datafile.py we could read flags with 15 MADs and also cut middle blocks,
 * so only the rule above, from palfa-reference.md section 5.2, is V-2's):
 *   - Blocks: flagged rows are grouped into runs of consecutive rows and a run is
 *     judged by where it starts (first 10 %) or ends (last 10 %), as the earlier
 *     code did, so a cal that straddles the 10 % mark is removed whole.
 *   - "First 10 %" means the row starts within the first tenth of the rows
 *     ((row-1)/rows < 0.1) and "last 10 %" that it ends within the last tenth
 *     (row/rows > 0.9): rows 1-10 and 91-100 of 100.
 *   - MAD = 0 (more than half the row medians identical, e.g. a flat or zeroed
 *     series): numpy would divide by zero and flag every row above the median with
 *     an infinite score. No threshold in MADs means anything then, so we flag
 *     nothing and say so in the report.
 *   - Rows whose median is NaN (NaN samples) are left out of the median of
 *     medians and never flagged.
 *   - Deletions are listed last rows first, so each fitsdelrow can use the
 *     original row numbers (deleting rows at the start would renumber the end).
 */

import { f32, medianFloat32 } from "./median";

export type CalRegion = "start" | "end" | "middle";

export interface CalBlock {
  /** 1-based first and last row of a run of flagged rows (margin included). */
  first: number;
  last: number;
  region: CalRegion;
}

export interface RowDeletion {
  /** 1-based first row and number of rows: fitsdelrow FILE[SUBINT] first count. */
  first: number;
  count: number;
}

export interface CalRowsDecision {
  rows: number;
  thresholdMads: number;
  marginRows: number;
  /** float32, as numpy computes them; NaN when there is no valid row. */
  medianOfMedians: number;
  madOfMedians: number;
  /** (median - median of medians) / MAD per row, float32 (NaN where undefined). */
  scores: Float32Array;
  /** 1-based rows above the threshold (before the margin). */
  aboveThreshold: number[];
  /** 1-based rows flagged, margin included, clipped to the table. */
  flagged: number[];
  blocks: CalBlock[];
  /** Deletions in the order to run them (last rows first). */
  deletions: RowDeletion[];
  totalRemoved: number;
  /** Set when nothing could be scored (MAD 0 or no valid rows), with the reason. */
  unscorable: string | null;
}

export function decideCalRows(rowMedians: ArrayLike<number>, opts: { thresholdMads: number; marginRows?: number }): CalRowsDecision {
  const rows = rowMedians.length;
  const margin = opts.marginRows ?? 1;
  const meds = Float32Array.from(rowMedians);
  const valid = meds.filter((m) => !Number.isNaN(m));
  const medOfMeds = medianFloat32(Float32Array.from(valid));
  const deviations = valid.map((m) => Math.abs(f32(m - medOfMeds)));
  const mad = medianFloat32(deviations);
  const scores = new Float32Array(rows).fill(NaN);

  let unscorable: string | null = null;
  if (valid.length === 0) unscorable = "no row has a valid median";
  else if (mad === 0) unscorable = "the MAD of the row medians is 0, so no row can be scored in MADs; none flagged";

  const above: number[] = [];
  if (unscorable === null) {
    for (let i = 0; i < rows; i++) {
      if (Number.isNaN(meds[i])) continue;
      scores[i] = f32(f32(meds[i] - medOfMeds) / mad);
      if (scores[i] > opts.thresholdMads) above.push(i);
    }
  }

  const flaggedSet = new Set<number>();
  for (const i of above) {
    for (let d = -margin; d <= margin; d++) {
      const j = i + d;
      if (j >= 0 && j < rows) flaggedSet.add(j);
    }
  }
  const flagged = [...flaggedSet].sort((a, b) => a - b);

  const blocks: CalBlock[] = [];
  for (const i of flagged) {
    const last = blocks[blocks.length - 1];
    if (last !== undefined && last.last === i)
      last.last = i + 1; // 0-based i is 1-based row i+1
    else blocks.push({ first: i + 1, last: i + 1, region: "middle" });
  }
  for (const b of blocks) {
    if ((b.first - 1) / rows < 0.1) b.region = "start";
    else if (b.last / rows > 0.9) b.region = "end";
  }

  const deletions = planDeletions(blocks, rows);
  return {
    rows,
    thresholdMads: opts.thresholdMads,
    marginRows: margin,
    medianOfMedians: medOfMeds,
    madOfMedians: mad,
    scores,
    aboveThreshold: above.map((i) => i + 1),
    flagged: flagged.map((i) => i + 1),
    blocks,
    deletions,
    totalRemoved: deletions.reduce((n, d) => n + d.count, 0),
    unscorable,
  };
}

function planDeletions(blocks: readonly CalBlock[], rows: number): RowDeletion[] {
  const startBlocks = blocks.filter((b) => b.region === "start");
  // A block that starts early and also runs into the last 10 % counts for the end too.
  const endBlocks = blocks.filter((b) => b.last / rows > 0.9);
  const startEnd = startBlocks.length ? Math.max(...startBlocks.map((b) => b.last)) : 0; // delete 1..startEnd
  const endFirst = endBlocks.length ? Math.min(...endBlocks.map((b) => b.first)) : rows + 1; // delete endFirst..rows
  if (startEnd > 0 && endFirst <= startEnd + 1) return [{ first: 1, count: rows }];
  const out: RowDeletion[] = [];
  if (endFirst <= rows) out.push({ first: endFirst, count: rows - endFirst + 1 });
  if (startEnd > 0) out.push({ first: 1, count: startEnd });
  return out;
}
