/**
 * PRESTO sifting (python/presto/sifting.py) in TypeScript, as PALFA used it.
 *
 *   sift / siftFiles          the whole step: read, reject, de-duplicate, DM checks,
 *                             remove harmonics, sort; with a per-stage report
 *   formatCandlist            the .accelcands text sifting.py writes
 *   PALFA_SIFT_OPTIONS        PALFA's thresholds (all overridable)
 *   candidateSigma            PRESTO's candidate_sigma()
 *   stage functions           defaultRejection, removeDuplicates, removeDmProblems,
 *                             removeHarmonics, candidatesFromAccel
 */

export {
  type AccelInput,
  PALFA_SIFT_OPTIONS,
  type SiftGroupReport,
  type SiftOptions,
  type SiftReport,
  type SiftResult,
  formatCandlist,
  sift,
  siftFiles,
  toAccelcandsEntries,
} from "./sift";
export { type Hit, type SiftCandidate, candidatesFromAccel, dmStringFromName } from "./candidates";
export { type DefaultRejectionOptions, type Rejection, type RejectionReason, defaultRejection } from "./rejection";
export { removeDuplicates } from "./duplicates";
export { type DmProblemCounts, removeDmProblems } from "./dm-problems";
export { removeHarmonics } from "./harmonics";
export { candidateSigma, chi2Logp, equivalentGaussianSigma } from "./sigma";
