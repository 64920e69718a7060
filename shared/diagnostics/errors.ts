/**
 * The error for a diagnostic that cannot be computed. PALFA raised DiagnosticError
 * (non-fatal for the uploader, but the beam's upload failed); we keep the name and
 * say which diagnostic, which file and what was wrong, so the coordinator can tell
 * "the sifting report never got written" from "rfifind.out is cut short".
 *
 * Public API:
 *   type DiagnosticProblem = "missing" | "ambiguous" | "garbled" | "mismatch"
 *   class DiagnosticError { diagnostic; file; problem }
 *   withDiagnostic(name, fn)   runs fn, turning file problems and ParseErrors into
 *                              a DiagnosticError for `name`
 *   class FileProblem          what the file helpers throw (no diagnostic yet)
 */

import { ParseError } from "../presto";
import type { DiagnosticName } from "./types";

/**
 *   missing    no file matches (PALFA: "Wrong number of ... found (0)")
 *   ambiguous  more than one matches (PALFA: "Wrong number ... (2)")
 *   garbled    it exists but cannot be read as what it should be
 *   mismatch   files disagree (folded plots vs candidate list, params file vs params)
 */
export type DiagnosticProblem = "missing" | "ambiguous" | "garbled" | "mismatch";

export class DiagnosticError extends Error {
  readonly diagnostic: DiagnosticName;
  /** The file, or the glob pattern when none or several matched. */
  readonly file: string;
  readonly problem: DiagnosticProblem;

  constructor(diagnostic: DiagnosticName, file: string, problem: DiagnosticProblem, detail: string, options?: { cause?: unknown }) {
    super(`${diagnostic}: ${problem} ${file}: ${detail}`, options);
    this.name = "DiagnosticError";
    this.diagnostic = diagnostic;
    this.file = file;
    this.problem = problem;
  }
}

export class FileProblem extends Error {
  readonly file: string;
  readonly problem: DiagnosticProblem;
  constructor(file: string, problem: DiagnosticProblem, detail: string, options?: { cause?: unknown }) {
    super(detail, options);
    this.name = "FileProblem";
    this.file = file;
    this.problem = problem;
  }
}

export function withDiagnostic<T>(name: DiagnosticName, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DiagnosticError) throw e;
    if (e instanceof FileProblem) throw new DiagnosticError(name, e.file, e.problem, e.message, { cause: e });
    if (e instanceof ParseError) throw new DiagnosticError(name, e.file, "garbled", e.message, { cause: e });
    throw e;
  }
}
