/**
 * sifting.py's remove_duplicate_candidates(): merge detections of one signal.
 *
 * Public API:
 *   removeDuplicates(cands, rErr, rejected): SiftCandidate[]
 *
 * The algorithm, as sifting.py runs it on one acceleration list:
 *   1. sort by r (stable, so equal r keep reading order);
 *   2. at position i take every following candidate whose r is within rErr
 *      (strictly) of candidate i's r, stopping at the first that is not;
 *   3. if there are any, the group's highest-sigma member survives (the first of
 *      equals, in list order), the others' hits are appended to its hits in reverse
 *      list order, and the others are dropped; the survivor now sits at i, and step
 *      2 is repeated from it (its r may differ from the old i's, so the group can
 *      keep growing);
 *   4. otherwise move on to i+1;
 *   5. finally sort the survivors by sigma, highest first (stable).
 * sifting.py does this with list.pop() inside the scan; here each candidate is
 * visited once, which gives the same result in linear time after the sort.
 */

import type { SiftCandidate } from "./candidates";
import type { Rejection } from "./rejection";

export function removeDuplicates(cands: readonly SiftCandidate[], rErr: number, rejected: Rejection[]): SiftCandidate[] {
  const sorted = [...cands].sort((a, b) => a.r - b.r);
  const kept: SiftCandidate[] = [];
  if (sorted.length === 0) return kept;

  let current = sorted[0]!;
  let next = 1;
  for (;;) {
    let end = next;
    while (end < sorted.length && Math.abs(current.r - sorted[end]!.r) < rErr) end++;
    if (end === next) {
      kept.push(current);
      if (next >= sorted.length) break;
      current = sorted[next++]!;
      continue;
    }
    const group = [current, ...sorted.slice(next, end)];
    let best = group[0]!;
    for (const c of group) if (c.sigma > best.sigma) best = c;
    for (let k = group.length - 1; k >= 0; k--) {
      const match = group[k]!;
      if (match === best) continue;
      best.hits.push(...match.hits);
      match.note = `This candidate is a duplicate of ${best.filename}:${best.candnum}`;
      rejected.push({ candidate: match, reason: "duplicate", note: match.note });
    }
    current = best;
    next = end;
  }
  return kept.sort((a, b) => b.sigma - a.sigma);
}
