// What add-files can tell of a raw file's content before a search is spent on it: it must be
// a PSRFITS search-mode file that is whole (headers and all the data they announce) and long
// enough to search (low_T_to_search). An attempt would fail on such a file for good anyway
// (bad_input, too_short: TERMINAL_FAULTS); here it is refused with the reason instead.
import { PsrfitsError, readPsrfitsHeader } from "../../shared/psrfits";

const PROBLEMS: Record<string, string> = {
  "not-fits": "not a FITS file",
  "no-end": "a FITS header without its END card",
  "no-subint": "not PSRFITS search-mode data (no SUBINT table)",
  truncated: "truncated",
  "bad-header": "a PSRFITS header that cannot be searched",
  io: "cannot be read",
};

/** Why the file cannot be searched, or null. `minSeconds`: the shortest observation searched (low_T_to_search). */
export function unsearchable(file: string, minSeconds: number | undefined): string | null {
  let duration: number;
  try {
    duration = readPsrfitsHeader(file).durationS;
  } catch (err) {
    if (!(err instanceof PsrfitsError)) throw err;
    return `${PROBLEMS[err.problem] ?? err.problem}: ${err.detail}`;
  }
  if (minSeconds !== undefined && duration < minSeconds)
    return `too short to search: the observation is ${duration.toFixed(2)} s long, shorter than low_T_to_search = ${minSeconds} s`;
  return null;
}
