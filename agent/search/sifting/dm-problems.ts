/**
 * sifting.py's remove_DM_problems(): drop candidates whose DM behaviour is not
 * that of a dispersed pulsar.
 *
 * Public API:
 *   interface DmProblemCounts
 *   removeDmProblems(cands, numHits, dmStrs, lowDmCutoff, rejected): { kept, counts }
 *
 * After sorting by sigma (highest first), a candidate is removed, checking in this
 * order, if:
 *   1. it has fewer than numHits DM hits;
 *   2. its highest-sigma hit (the first of equals) is at DM <= lowDmCutoff;
 *   3. it has more than one hit and no two of its hits are at adjacent DM trials:
 *      the hits are sorted by DM (stable, in place, as sifting.py does) and mapped to
 *      their index in the list of all DM trials (np.unique of the given DM strings,
 *      keyed by "%.2f"), and the smallest step between consecutive indices is > 1.
 * A hit whose DM is not among the trials is an error (sifting.py raises KeyError).
 */

import { formatFixed, formatG } from "../../../shared/presto/pycompat";
import type { SiftCandidate } from "./candidates";
import type { Rejection } from "./rejection";

export interface DmProblemCounts {
  removed: number;
  tooFewHits: number;
  peakBelowCutoff: number;
  gaps: number;
}

export function removeDmProblems(
  cands: readonly SiftCandidate[],
  numHits: number,
  dmStrs: readonly string[],
  lowDmCutoff: number,
  rejected: Rejection[],
): { kept: SiftCandidate[]; counts: DmProblemCounts } {
  // dmdict: "%.2f" of each unique trial DM (ascending) -> its index; like a Python
  // dict built from pairs, a repeated key keeps the last index.
  const dms = [...new Set(dmStrs.map((s) => Number(s)))].sort((a, b) => a - b);
  const dmIndex = new Map<string, number>();
  dms.forEach((dm, i) => dmIndex.set(formatFixed(dm, 2), i));

  // "%.2f" of each hit DM; there are only as many distinct DMs as trials.
  const keys = new Map<number, string>();
  const dmKey = (dm: number): string => {
    let key = keys.get(dm);
    if (key === undefined) keys.set(dm, (key = formatFixed(dm, 2)));
    return key;
  };

  const sorted = [...cands].sort((a, b) => b.sigma - a.sigma);
  const counts: DmProblemCounts = { removed: 0, tooFewHits: 0, peakBelowCutoff: 0, gaps: 0 };
  const kept: SiftCandidate[] = [];
  const out: Rejection[] = [];

  for (const c of sorted) {
    const note = problem(c);
    if (note === null) {
      kept.push(c);
    } else {
      c.note = note;
      counts.removed++;
      out.push({ candidate: c, reason: "dmproblem", note });
    }
  }
  // sifting.py walks the list backwards, so its bad list is in reverse order.
  rejected.push(...out.reverse());
  return { kept, counts };

  function problem(c: SiftCandidate): string | null {
    if (c.hits.length < numHits) {
      counts.tooFewHits++;
      return `Candidate has only ${c.hits.length} DM hits. This is less than minimum for 'good' cands (${numHits} hits)`;
    }
    let imax = 0;
    for (let k = 1; k < c.hits.length; k++) if (c.hits[k]!.sigma > c.hits[imax]!.sigma) imax = k;
    const peak = c.hits[imax]!;
    if (peak.dm <= lowDmCutoff) {
      counts.peakBelowCutoff++;
      return `Hit with max sigma (${formatG(peak.sigma)}) has dm (${formatFixed(peak.dm, 2)}) <= low DM cutoff (${formatFixed(lowDmCutoff, 2)}) `;
    }
    if (c.hits.length > 1) {
      c.hits.sort((a, b) => a.dm - b.dm);
      const indices = c.hits.map((h) => {
        const key = dmKey(h.dm);
        const index = dmIndex.get(key);
        if (index === undefined) {
          throw new Error(`sifting: hit DM ${key} of ${c.filename}:${c.candnum} is not in the list of DM trials`);
        }
        return index;
      });
      let minStep = Infinity;
      for (let k = 1; k < indices.length; k++) minStep = Math.min(minStep, indices[k]! - indices[k - 1]!);
      if (minStep > 1) {
        counts.gaps++;
        return "DM list of hits has gaps (i.e. consecutive DMs don't have hits).";
      }
    }
    return null;
  }
}
