/**
 * Which sifted candidates get folded. The agent folds exactly these, and the
 * uploader re-applies the same rule to know which candidates were folded, so the
 * rule lives here, in one place both sides read.
 *
 *   selectCandidatesToFold(cands, { to_prepfold_sigma, max_cands_to_fold }): FoldSelection<C>
 *                                                   (SearchParams fits the second argument)
 *
 * Selection (PALFA2_presto_search.search_job): walk the candidates in sigma order
 * (highest first, as sifting sorts them); stop once max_cands_to_fold have been
 * folded; fold each one with sigma >= to_prepfold_sigma. PALFA's uploader
 * re-selected with sigma > threshold and then truncated, so the two could disagree
 * on a candidate exactly at the threshold (palfa-reference.md section 8, item 12). We use
 * ">=" in the one place selection happens and hand the list on, so the folds and
 * what is uploaded as folded are the same candidates.
 */

import type { SearchParams } from "../config/search-params";

export interface FoldableCandidate {
  sigma: number;
}

export interface FoldSelection<C> {
  /** Candidates to fold, in order, with PALFA's 1-based fold rank. */
  toFold: { candidate: C; rank: number }[];
  /** How many candidates were looked at before the walk stopped. */
  examined: number;
  /** True if the walk stopped because max_cands_to_fold were already selected. */
  hitMax: boolean;
}

export function selectCandidatesToFold<C extends FoldableCandidate>(
  candidates: readonly C[],
  opts: Pick<SearchParams, "to_prepfold_sigma" | "max_cands_to_fold">,
): FoldSelection<C> {
  // Stable sort: ties keep sifting's order.
  const ordered = candidates
    .map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.sigma - a.c.sigma || a.i - b.i)
    .map((x) => x.c);
  const toFold: { candidate: C; rank: number }[] = [];
  let examined = 0;
  let hitMax = false;
  for (const c of ordered) {
    if (toFold.length === opts.max_cands_to_fold) {
      hitMax = true;
      break;
    }
    examined++;
    if (c.sigma >= opts.to_prepfold_sigma) toFold.push({ candidate: c, rank: toFold.length + 1 });
  }
  return { toFold, examined, hitMax };
}
