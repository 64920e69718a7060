// Shared helpers for the search tests: where the real PRESTO fixtures live, and a
// scratch directory for damaged copies of them.

import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ParseError } from "../../../shared/presto";

/**
 * Real outputs of a PALFA-like PRESTO search of one synthetic beam (PRESTO v6.0.1,
 * scottransom/presto 3ae6229; pulsar P = 89.3 ms, DM 57). Copied unchanged from the
 * shared fixture set, whose README lists every command line; all_dms/ holds the
 * .inf, .singlepulse, _ACCEL_0 and _ACCEL_50 of all 156 DM trials, and
 * beam_J1903.accelcands is what presto.sifting made of them.
 */
export const BEAM = path.join(__dirname, "..", "..", "fixtures", "presto", "beam_J1903");
export const ALL_DMS = path.join(BEAM, "all_dms");

export function fixture(...parts: string[]): string {
  return path.join(BEAM, ...parts);
}

export function readFixture(...parts: string[]): string {
  return fs.readFileSync(fixture(...parts), "utf8");
}

/** A temporary directory for one test file; remove it with cleanup(). */
export class Scratch {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-search-"));

  /** Write `text` as `name` in the scratch directory and return its path. */
  write(name: string, text: string): string {
    const p = path.join(this.dir, name);
    fs.writeFileSync(p, text);
    return p;
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The first `n` lines of `text`, each still ending in "\n" (a file cut at a line boundary). */
export function firstLines(text: string, n: number): string {
  return text.split("\n").slice(0, n).join("\n") + "\n";
}

/** Assert that `fn` throws a ParseError for `file` at `line` whose expectation matches `expected`. */
export function assertParseError(fn: () => unknown, file: string, line: number, expected: RegExp): ParseError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ParseError, `expected a ParseError, got ${String(caught)}`);
  assert.equal(caught.file, file);
  assert.equal(caught.line, line, caught.message);
  assert.match(caught.expected, expected);
  return caught;
}
