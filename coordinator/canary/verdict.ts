// Whether a canary beam's search found the pulsar that was put into it: the top
// candidate of the sifted list (sifting sorts by sigma) must have the injected
// period and DM. A node whose toolchain runs but finds nothing, or finds the
// pulsar at the wrong DM, fails here although every step exited 0.
import type { AccelcandsEntry } from "../../shared/presto";

export interface CanaryExpectation {
  /** the injected pulsar's topocentric period, seconds */
  periodS: number;
  dm: number;
  /** relative period tolerance (0.001 = 0.1 %), wide enough for the barycentric correction */
  periodTolerance: number;
  /** DM tolerance, pc cm^-3: two DM steps of the plan, or for a slow pulsar the DM its pulse width allows (canaryExpectation) */
  dmTolerance: number;
}

export interface CanaryVerdict {
  passed: boolean;
  /** one line for `agents`, the status page and the notice */
  summary: string;
  found?: { periodS: number; dm: number; sigma: number; candidate: string };
}

const ms = (s: number) => `${(s * 1000).toFixed(4)} ms`;

export function judgeCanary(candidates: readonly AccelcandsEntry[], want: CanaryExpectation): CanaryVerdict {
  const wanted = `P ${ms(want.periodS)}, DM ${want.dm}`;
  const top = candidates[0];
  if (!top) return { passed: false, summary: `no candidate at all; the pulsar was ${wanted}` };
  const found = { periodS: top.periodMs / 1000, dm: top.dm, sigma: top.sigma, candidate: `${top.accelFile}:${top.candnum}` };
  const dp = Math.abs(found.periodS - want.periodS) / want.periodS;
  const dd = Math.abs(found.dm - want.dm);
  const seen = `top candidate ${found.candidate}: P ${ms(found.periodS)}, DM ${found.dm.toFixed(2)}, sigma ${found.sigma.toFixed(2)}`;
  if (dp > want.periodTolerance) {
    return {
      passed: false,
      found,
      summary: `${seen}; the pulsar was ${wanted} (period off by ${(dp * 100).toFixed(3)} %, allowed ${(want.periodTolerance * 100).toFixed(3)} %)`,
    };
  }
  if (dd > want.dmTolerance) {
    return { passed: false, found, summary: `${seen}; the pulsar was ${wanted} (DM off by ${dd.toFixed(2)}, allowed ${want.dmTolerance})` };
  }
  return { passed: true, found, summary: `found the pulsar: ${seen}` };
}
