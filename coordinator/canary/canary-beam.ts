// The beam a canary run searches: synthetic, small enough to search in a minute or
// two on one node, with a pulsar bright enough that any working search finds it as
// its top candidate. Its period and DM are drawn anew for every run, so a node
// cannot pass by luck or by a cached answer; the period keeps its first
// harmonics away from mains birdies, which a site's zaplist may zap.
import { Rng, SYNTH_DEFAULTS, writeSynthBeam, type SynthOptions } from "../../shared/synth";
import { DM_CONSTANT } from "../../shared/synth/sky";
import type { DDplanStep } from "../../shared/config/search-params";
import type { SearchOverrides } from "../search/search-spec";
import type { CanaryExpectation } from "./verdict";

/** DM 0-62 in two passes of 16 trials; the pulsar sits between DM 10 and 50. */
export const CANARY_DDPLAN: readonly DDplanStep[] = [{ lodm: 0, dmstep: 2, dms_per_call: 16, calls: 2, nsub: 32, downsamp: 4 }];

const BEAM: SynthOptions = { nchan: 64, lengthS: 21, bits: 4 };

export interface CanaryPulsar {
  periodS: number;
  dm: number;
  snr: number;
  seed: number;
}

/** Mains (50 and 60 Hz) and their harmonics, where zaplists cut the spectrum. */
function nearBirdie(periodS: number): boolean {
  for (let h = 1; h <= 4; h++) {
    const f = h / periodS;
    for (const mains of [50, 60]) {
      const k = Math.round(f / mains);
      if (k >= 1 && Math.abs(f - k * mains) < 1.5) return true;
    }
  }
  return false;
}

/** The pulsar of a run, drawn from `seed` (the same seed, the same pulsar and beam). */
export function canaryPulsar(seed: number, snr: number): CanaryPulsar {
  const rng = new Rng(seed, "canary pulsar");
  const next = () => rng.uniform();
  let periodS = 0;
  do {
    // 30 ms to 600 ms, uniform in log: millisecond-ish to slow, all well inside the search.
    periodS = Number((0.03 * 20 ** next()).toFixed(6));
  } while (nearBirdie(periodS));
  const dm = Number((10 + 40 * next()).toFixed(1));
  return { periodS, dm, snr, seed: 1 + Math.floor(next() * 1_000_000) };
}

/** The dispersive sweep across the canary beam's band for one unit of DM, seconds. */
const SWEEP_PER_DM_S = (() => {
  const fctr = BEAM.fctrMhz ?? SYNTH_DEFAULTS.fctrMhz;
  const bw = BEAM.bwMhz ?? SYNTH_DEFAULTS.bwMhz;
  return DM_CONSTANT * ((fctr - bw / 2) ** -2 - (fctr + bw / 2) ** -2);
})();

/**
 * Two DM steps of the plan, or more for a slow pulsar: its DM is known only to within the DM
 * whose sweep across the band is its own pulse width (a 550 ms pulsar's 27 ms pulse: ~26 pc
 * cm^-3, over which its signal hardly changes, and a healthy search's best trial lands
 * anywhere in there). The period, known to 0.1 %, is the sharp test.
 */
export function canaryExpectation(p: CanaryPulsar): CanaryExpectation {
  const widthS = (BEAM.pulsar?.duty ?? SYNTH_DEFAULTS.duty) * p.periodS;
  const dmTolerance = Math.max(2 * CANARY_DDPLAN[0].dmstep, Number((widthS / SWEEP_PER_DM_S).toFixed(1)));
  return { periodS: p.periodS, dm: p.dm, periodTolerance: 0.001, dmTolerance };
}

/** The search parameters a canary job overrides: its own plan, and no length limit of the site's. */
export function canaryParams(): SearchOverrides {
  return { ddplan_source: "explicit", ddplan: [...CANARY_DDPLAN], low_T_to_search: 0 };
}

/** Writes the canary beam; returns its path and size. */
export function writeCanaryBeam(p: CanaryPulsar, file: string): { path: string; bytes: number } {
  const made = writeSynthBeam({ ...BEAM, seed: p.seed, pulsar: { periodS: p.periodS, dm: p.dm, snr: p.snr } }, file);
  const [f] = made.files;
  return { path: f.path, bytes: f.bytes };
}
