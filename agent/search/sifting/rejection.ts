/**
 * Rejection bookkeeping and sifting.py's per-file "default rejection".
 *
 * Public API:
 *   type RejectionReason; interface Rejection
 *   defaultRejection(cands, options, rejected): SiftCandidate[]
 *
 * sifting.py runs these on each file's candidates right after reading it
 * (Candlist.default_rejection), in this order, each on the survivors of the one
 * before: long period, short period, known birdies, threshold, harmonic power
 * cutoff, "rogue" harmonic. The tests and their notes follow sifting.py exactly:
 *   - period: p > longPeriod, p < shortPeriod (strict);
 *   - threshold: one harmonic -> rejected only if sigma < threshold AND coherent
 *     power < cpow threshold; several harmonics -> sigma < threshold;
 *   - harmonic power cutoff: the strongest harmonic power < cutoff;
 *   - rogue harmonic: with the strongest harmonic's index m (0-based, first of
 *     equals) and the second-largest power s2: numharm >= 8 and m > 4 and
 *     max > 2*s2, or else numharm >= 4 and m > 2 and max > 3*s2.
 * Known birdies: Candlist.default_rejection calls reject_knownbirds() with its
 * default arguments, which are empty lists (not the module globals), so PRESTO's
 * sifting never rejects birdies there; we apply the lists given in the options,
 * which are empty by default for the same result.
 */

import { formatFixed, formatG } from "../../../shared/presto/pycompat";
import type { SiftCandidate } from "./candidates";

export type RejectionReason =
  | "knownbirds"
  | "longperiod"
  | "shortperiod"
  | "threshold"
  | "harmpowcutoff"
  | "rogueharmpow"
  | "duplicate"
  | "dmproblem"
  | "harmonic";

export interface Rejection {
  candidate: SiftCandidate;
  reason: RejectionReason;
  /** sifting.py's note for it, e.g. "4 harmonics and sigma (3.2 < 5) is too low." */
  note: string;
}

export interface DefaultRejectionOptions {
  longPeriod: number;
  shortPeriod: number;
  sigmaThreshold: number;
  cPowThreshold: number;
  harmPowCutoff: number;
  /** (freq Hz, one-sided width Hz) pairs. */
  knownBirdsF: ReadonlyArray<readonly [number, number]>;
  /** (period ms, one-sided width ms) pairs. */
  knownBirdsP: ReadonlyArray<readonly [number, number]>;
}

/** Apply the default rejections to one file's candidates; rejected ones are appended to `rejected`. */
export function defaultRejection(cands: readonly SiftCandidate[], o: DefaultRejectionOptions, rejected: Rejection[]): SiftCandidate[] {
  const stage = (list: readonly SiftCandidate[], reason: RejectionReason, test: (c: SiftCandidate) => string | null) => {
    const kept: SiftCandidate[] = [];
    const out: Rejection[] = [];
    for (const c of list) {
      const note = test(c);
      if (note === null) {
        kept.push(c);
      } else {
        c.note = note;
        out.push({ candidate: c, reason, note });
      }
    }
    // sifting.py walks each list backwards when popping rejects, so its bad lists
    // are in reverse order; keep that order for reports.
    rejected.push(...out.reverse());
    return kept;
  };

  let list = stage(cands, "longperiod", (c) =>
    c.p > o.longPeriod ? `Period is too long (${formatG(c.p * 1000)} ms > ${formatG(o.longPeriod * 1000)} ms)` : null,
  );
  list = stage(list, "shortperiod", (c) =>
    c.p < o.shortPeriod ? `Period is too short (${formatG(c.p * 1000)} ms < ${formatG(o.shortPeriod * 1000)} ms)` : null,
  );
  list = stage(list, "knownbirds", (c) => knownBird(c, o));
  list = stage(list, "threshold", (c) => {
    if (c.numharm === 1) {
      return c.sigma < o.sigmaThreshold && c.cpow < o.cPowThreshold
        ? `Only 1 harmonic and both sigma (${formatG(c.sigma)} < ${formatG(o.sigmaThreshold)}) and coherent power ` +
            `(${formatG(c.cpow)} < ${formatG(o.cPowThreshold)}) are too low.`
        : null;
    }
    return c.sigma < o.sigmaThreshold ? `${c.numharm} harmonics and sigma (${formatG(c.sigma)} < ${formatG(o.sigmaThreshold)}) is too low.` : null;
  });
  list = stage(list, "harmpowcutoff", (c) => (maxPower(c.harmPows).power < o.harmPowCutoff ? `All harmonics have power < ${formatG(o.harmPowCutoff)}` : null));
  list = stage(list, "rogueharmpow", (c) => {
    const { index, power } = maxPower(c.harmPows);
    // np.sort(...)[-2]: only evaluated by Python when the numharm test passes, i.e. >= 4 harmonics.
    const second = (): number => [...c.harmPows].sort((a, b) => a - b)[c.harmPows.length - 2]!;
    const rogue = (c.numharm >= 8 && index > 4 && power > 2 * second()) || (c.numharm >= 4 && index > 2 && power > 3 * second());
    return rogue ? `High-numbered harmonic (${index}) has too much power` : null;
  });
  return list;
}

/** np.argmax: the first index of the largest value. */
function maxPower(pows: readonly number[]): { index: number; power: number } {
  let index = 0;
  for (let i = 1; i < pows.length; i++) if (pows[i]! > pows[index]!) index = i;
  return { index, power: pows[index]! };
}

function knownBird(c: SiftCandidate, o: DefaultRejectionOptions): string | null {
  for (const [bird, err] of o.knownBirdsF) {
    if (Math.abs(c.f - bird) < err) {
      return `Freq (${formatFixed(c.f, 2)} Hz) is within ${formatG(err)} Hz of a known birdie centred at ${formatFixed(bird, 2)} Hz`;
    }
  }
  for (const [bird, err] of o.knownBirdsP) {
    if (Math.abs(c.p * 1000.0 - bird) < err) {
      // sifting.py prints the frequency*1000 here (sic); we keep its wording and numbers.
      return `Period (${formatFixed(c.f * 1000, 2)} ms) is within ${formatG(err)} ms of a known birdie centred at ${formatFixed(bird, 2)} ms`;
    }
  }
  return null;
}
