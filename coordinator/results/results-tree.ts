// Where results live on the coordinator: PALFA's layout
// <results>/<int MJD>/<observation>/<beam>/<attempt>/, plus a .incoming/ area
// where a transfer lands until every byte is verified. A transfer that breaks
// leaves nothing in the tree; what a crashed coordinator left in .incoming is
// removed at start.
import fs from "node:fs";
import path from "node:path";
import { readPsrfitsHeader } from "../../shared/psrfits";
import { plainName } from "../../shared/files/safe-path";
import { beamNumberFromNames } from "../zaplists/beam-name";

export const INCOMING = ".incoming";
/** Canary runs' results, under the results root but apart from the survey's MJD folders. */
export const CANARY_RESULTS = "canary";

export function incomingDir(root: string, attemptId: number): string {
  return path.join(root, INCOMING, String(attemptId));
}

export function clearIncoming(root: string): number {
  const dir = path.join(root, INCOMING);
  const stale = fs.existsSync(dir) ? fs.readdirSync(dir).length : 0;
  fs.rmSync(dir, { recursive: true, force: true });
  return stale;
}

/**
 * The final place of an attempt's results (PALFA's get_output_dir): the start MJD
 * from the header-only copy of the beam's data that the search leaves as
 * <base>.fits; the beam number from its header (IBEAM), else from the PALFA name
 * of the beam or of its raw files; the observation is the beam's base name.
 */
export function finalDirFor(root: string, base: string, fitsFile: string, attemptId: number, rawNames: string[]): string {
  const h = readPsrfitsHeader(fitsFile);
  const beamId = h.beamId ?? beamNumberFromNames([`${base}.fits`, ...rawNames]);
  const beam = beamId == null ? "beam-unknown" : String(beamId);
  return path.join(root, String(Math.floor(h.startMjd)), plainName(base, "observation name"), beam, String(attemptId));
}
