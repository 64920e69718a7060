// The phases of a search, as `beamflow job` and the status page name them, and the
// SearchPhase each travels as in Progress.
import { SearchPhase } from "../gen/agent";

const WIRE = {
  starting: SearchPhase.SEARCH_PHASE_STARTING,
  preprocessing: SearchPhase.SEARCH_PHASE_PREPROCESSING,
  rfifind: SearchPhase.SEARCH_PHASE_RFIFIND,
  searching: SearchPhase.SEARCH_PHASE_SEARCHING,
  "single-pulse plots": SearchPhase.SEARCH_PHASE_SINGLE_PULSE_PLOTS,
  sifting: SearchPhase.SEARCH_PHASE_SIFTING,
  folding: SearchPhase.SEARCH_PHASE_FOLDING,
  results: SearchPhase.SEARCH_PHASE_RESULTS,
} as const satisfies Record<string, SearchPhase>;

export type SearchPhaseName = keyof typeof WIRE;

const BY_WIRE = new Map<SearchPhase, SearchPhaseName>(Object.entries(WIRE).map(([name, wire]) => [wire, name as SearchPhaseName]));

export function searchPhaseToWire(name: SearchPhaseName): SearchPhase {
  return WIRE[name];
}

export function searchPhaseName(wire: SearchPhase): string {
  return BY_WIRE.get(wire) ?? "unknown phase";
}
