/**
 * The one error type the PSRFITS header reader throws.
 *
 * Public API:
 *   type PsrfitsProblem = "not-fits" | "no-end" | "no-subint" | "truncated" | "bad-header" | "io"
 *   class PsrfitsError extends Error { file; problem; detail }
 *
 * A beam's raw file reaches the agent over rsync from shared storage; a full disk,
 * an interrupted copy or a mislabelled upload must stop the job before rfifind and
 * prepsubband spend an hour on it (PRESTO's readers either exit() with a terse
 * CFITSIO status or, for a short file, silently pad). Callers can tell the kinds
 * apart by `problem` and show `message`, which always names the file.
 */

export type PsrfitsProblem =
  /** The file does not start with a FITS primary header (SIMPLE = T). */
  | "not-fits"
  /** A header runs to the end of the file without an END card. */
  | "no-end"
  /** No BINTABLE extension with EXTNAME = 'SUBINT'. */
  | "no-subint"
  /** The file is shorter than its headers say its data are. */
  | "truncated"
  /** A card or keyword that a PSRFITS search-mode header needs is missing or malformed. */
  | "bad-header"
  /** The file could not be opened or read. */
  | "io";

export class PsrfitsError extends Error {
  /** Path of the file being read. */
  readonly file: string;
  readonly problem: PsrfitsProblem;
  /** What is wrong, without the file name. */
  readonly detail: string;

  constructor(file: string, problem: PsrfitsProblem, detail: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem === "truncated" ? "truncated: " : ""}${detail}`, options);
    this.name = "PsrfitsError";
    this.file = file;
    this.problem = problem;
    this.detail = detail;
  }
}
