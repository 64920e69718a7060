// The programs a palfa-search runs, and what each is for (doctor's messages).
export const SEARCH_PROGRAMS = {
  combine_mocks: "psrfits_utils: merges the two Mock halves of a beam",
  fitsdelrow: "cfitsio/psrfits_utils: deletes cal rows from the merged file",
  prepdata: "PRESTO: the DM-0 series used to find cal rows",
  rfifind: "PRESTO: the RFI mask",
  prepsubband: "PRESTO: subbands and dedispersion",
  realfft: "PRESTO: FFT of each DM trial",
  zapbirds: "PRESTO: zaps known birdies",
  rednoise: "PRESTO: red-noise removal",
  accelsearch: "PRESTO: the Fourier-domain acceleration search",
  "single_pulse_search.py": "PRESTO: the single-pulse search and its plots",
  prepfold: "PRESTO: folds candidates",
  gs: "Ghostscript: renders PRESTO's PostScript plots (rfifind, single-pulse) to PNG",
  python: "Python with PRESTO's package (presto.prepfold) and matplotlib: draws the candidate plots from the .pfd files",
} as const;

export type SearchProgram = keyof typeof SEARCH_PROGRAMS;
export const SEARCH_PROGRAM_NAMES = Object.keys(SEARCH_PROGRAMS) as SearchProgram[];
/** Only Mock data (split s0/s1 halves) needs these. */
export const MOCK_ONLY: readonly SearchProgram[] = ["combine_mocks", "fitsdelrow", "prepdata"];
