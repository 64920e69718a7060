/**
 * Which file each diagnostic is made from (PALFA's glob in the results directory),
 * and the blob diagnostics, which upload a file as it is.
 *
 * Public API:
 *   DIAGNOSTIC_FILES[name]                the glob PALFA used (one file expected)
 *   findOne(dir, pattern): string         the single match, else FileProblem
 *   findDiagnosticFile(dir, name): string findOne with DIAGNOSTIC_FILES, as a DiagnosticError
 *   readFileBytes(file): Buffer           FileProblem "missing"/"garbled" instead of errno errors
 *   blobDiagnostic(name, file): Diagnostic
 *
 * PALFA required exactly one match for each glob ("Wrong number of ... found"):
 * two zaplists or two candidate lists in one results directory mean the directory
 * holds more than one run, and any number taken from it would be suspect.
 *
 * Blob checks: text blobs are passed through as text (an empty candidate list is
 * valid: sifting kept nothing); the sifting report must gunzip; a PNG must not be
 * empty (what a failed `convert` leaves). We do not decode images: their bytes are
 * uploaded as they are.
 */

import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { globFiles } from "../results/fnmatch";
import { FileProblem, withDiagnostic } from "./errors";
import { DIAGNOSTIC_INFO, type Diagnostic, type DiagnosticName } from "./types";

export const DIAGNOSTIC_FILES: Readonly<Record<DiagnosticName, string>> = {
  "RFI mask percentage": "*rfifind.out",
  "RFIfind png": "*rfifind.png",
  "Periodicty summary plot": "*.accelcands.summary.png",
  "Rejected cands plot": "*.accelcands.rejects.png",
  "Sifting summary": "*.accelcands.summary",
  "Sifting report": "*.accelcands.report.gz",
  "Accelcands list": "*.accelcands",
  // A count: any number of matches is valid.
  "Num cands folded": "*.pfd.png",
  "Num cands produced": "*.accelcands",
  "Min sigma folded": "*.accelcands",
  "Num cands above threshold": "*.accelcands",
  "Zaplist used": "*.zaplist",
  "Search parameters": "search_params.txt",
  "Sigma threshold": "search_params.txt",
  "Max cands allowed to fold": "search_params.txt",
  "Percent zapped total": "*.zaplist",
  "Percent zapped below 10 Hz": "*.zaplist",
  "Percent zapped below 1 Hz": "*.zaplist",
  "Cal removal summary": "*_calrows.txt",
  "Num cal rows removed": "*_calrows.txt",
};

/** How each blob's bytes are checked and whether its text is returned. */
const BLOB_FORMAT: Partial<Record<DiagnosticName, "png" | "text" | "gzip-text">> = {
  "RFIfind png": "png",
  "Periodicty summary plot": "png",
  "Rejected cands plot": "png",
  "Sifting summary": "text",
  "Sifting report": "gzip-text",
  "Accelcands list": "text",
  "Zaplist used": "text",
  "Search parameters": "text",
  "Cal removal summary": "text",
};

export function findOne(dir: string, pattern: string): string {
  let names: string[];
  try {
    names = globFiles(dir, pattern);
  } catch (e) {
    throw new FileProblem(dir, "missing", `cannot list the results directory: ${(e as Error).message}`, { cause: e });
  }
  const where = path.join(dir, pattern);
  if (names.length === 0) throw new FileProblem(where, "missing", "no file matches");
  if (names.length > 1) throw new FileProblem(where, "ambiguous", `${names.length} files match (${names.join(", ")}), expected one`);
  return path.join(dir, names[0]!);
}

export function findDiagnosticFile(dir: string, name: DiagnosticName): string {
  return withDiagnostic(name, () => findOne(dir, DIAGNOSTIC_FILES[name]));
}

export function readFileBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FileProblem(file, code === "ENOENT" ? "missing" : "garbled", `cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

export function blobDiagnostic(name: DiagnosticName, file: string): Diagnostic {
  const format = BLOB_FORMAT[name];
  if (format === undefined) throw new TypeError(`${name} is not a blob diagnostic`);
  return withDiagnostic(name, () => {
    const bytes = readFileBytes(file);
    const d: Diagnostic = { name, description: DIAGNOSTIC_INFO[name].description, kind: "blob", file };
    if (format === "png") {
      if (bytes.length === 0) throw new FileProblem(file, "garbled", "the image is empty");
    } else if (format === "text") {
      d.text = bytes.toString("utf8");
    } else {
      try {
        d.text = zlib.gunzipSync(bytes).toString("utf8");
      } catch (e) {
        throw new FileProblem(file, "garbled", `is not gzip data: ${(e as Error).message}`, { cause: e });
      }
    }
    return d;
  });
}
