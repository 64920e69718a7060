/**
 * sifting.py's remove_harmonics(): drop candidates that are harmonics of a
 * stronger candidate.
 *
 * Public API:
 *   removeHarmonics(cands, rErr, rejected): SiftCandidate[]
 *
 * As in sifting.py: sort by sigma (highest first, stable); the frequency tolerance
 * is f_err = rErr / T of the strongest candidate. For each candidate i in order
 * (the "fundamental") and every weaker candidate j, scanned from the weakest up,
 * j is removed if for some integer n in 1..16
 *     |f_i - n f_j| < n f_err      (j is the 1/n-th harmonic of i), or
 *     |f_i - f_j / n| < f_err / n  (j is the n-th harmonic),
 * or for one of the ratios 3/2 5/2 2/3 4/3 5/3 3/4 5/4 2/5 3/5 4/5
 *     |f_i - f_j * ratio| < f_err * ratio.
 * This is quadratic in the number of candidates, as in sifting.py; it runs on the
 * few dozen that survive the earlier stages.
 *
 * sifting.py crashes (IndexError) on a list of exactly one candidate, which it
 * compares with itself and removes; we return such a list unchanged.
 */

import { formatFixed } from "../../../shared/presto/pycompat";
import type { SiftCandidate } from "./candidates";
import type { Rejection } from "./rejection";

const NUMERATORS = [3.0, 5.0, 2.0, 4.0, 5.0, 3.0, 5.0, 2.0, 3.0, 4.0];
const DENOMINATORS = [2.0, 2.0, 3.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 5.0];

export function removeHarmonics(cands: readonly SiftCandidate[], rErr: number, rejected: Rejection[]): SiftCandidate[] {
  const list = [...cands].sort((a, b) => b.sigma - a.sigma);
  if (list.length < 2) return list;
  const fErr = rErr / list[0]!.T;

  for (let ii = 0; ii < list.length - 1; ii++) {
    const fund = list[ii]!;
    for (let jj = list.length - 1; jj > ii; jj--) {
      const harm = list[jj]!;
      const relation = harmonicRelation(fund.f, harm.f, fErr);
      if (relation === null) continue;
      harm.note =
        `This candidate (P=${formatFixed(harm.p, 4)} s, DM=${formatFixed(harm.dm, 2)}) is a harmonic (${relation}) ` +
        `of ${fund.filename}:${fund.candnum} (P=${formatFixed(fund.p, 4)} s, DM=${formatFixed(fund.dm, 2)}).`;
      list.splice(jj, 1);
      rejected.push({ candidate: harm, reason: "harmonic", note: harm.note });
    }
  }
  return list;
}

/** sifting.py's harmonic string for how fHarm relates to fFund, or null if it does not. */
function harmonicRelation(fFund: number, fHarm: number, fErr: number): string | null {
  let relation: string | null = null;
  for (let factor = 1.0; factor < 17.0; factor += 1.0) {
    if (Math.abs(fFund - fHarm * factor) < fErr * factor) {
      relation = `1/${factor}th`;
      break;
    } else if (Math.abs(fFund - fHarm / factor) < fErr / factor) {
      relation = factor === 2.0 ? `${factor}nd` : `${factor}th`;
      break;
    }
  }
  // sifting.py runs the ratio checks even after a match; a ratio match renames it.
  for (let k = 0; k < NUMERATORS.length; k++) {
    const factor = NUMERATORS[k]! / DENOMINATORS[k]!;
    if (Math.abs(fFund - fHarm * factor) < fErr * factor) {
      return `${DENOMINATORS[k]}/${NUMERATORS[k]}th`;
    }
  }
  return relation;
}
