// expandGlobs: shell-style patterns for add-files --glob (tinyglobby underneath).
// The files made here are empty dummies; only their names matter.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expandGlobs, expandGlobsDetailed } from "../../../coordinator/ingest/register";

describe("ingest/glob: expandGlobs", () => {
  let tmp: string;
  const touch = (rel: string) => {
    const p = path.join(tmp, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, "");
    return p;
  };

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-glob-"));
    for (const f of [
      "raw/a.b0s0g0.00000.fits",
      "raw/a.b0s1g0.00000.fits",
      "raw/a.b1s0g0.00000.fits",
      "raw/notes.txt",
      "raw/.hidden.fits",
      "raw/night2/b.b0s0g0.00000.fits",
      "raw/night2/deep/c.fits",
      "raw/.snap/d.fits",
    ])
      touch(f);
    fs.mkdirSync(path.join(tmp, "raw/dir.fits"));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const rel = (ps: string[]) => ps.map((p) => path.relative(tmp, p));

  it("matches *, ? and [..] within one directory, files only, no dot-files, sorted, absolute", () => {
    const got = expandGlobs([path.join(tmp, "raw/*.fits")]);
    assert.ok(got.every((p) => path.isAbsolute(p)));
    assert.deepEqual(rel(got), ["raw/a.b0s0g0.00000.fits", "raw/a.b0s1g0.00000.fits", "raw/a.b1s0g0.00000.fits"]);
    assert.deepEqual(rel(expandGlobs(["raw/a.b0s?g0.*.fits"], tmp)), ["raw/a.b0s0g0.00000.fits", "raw/a.b0s1g0.00000.fits"]);
    assert.deepEqual(rel(expandGlobs(["raw/a.b[!0]s*"], tmp)), ["raw/a.b1s0g0.00000.fits"]);
    assert.deepEqual(rel(expandGlobs(["raw/.*.fits"], tmp)), ["raw/.hidden.fits"]);
  });

  it("matches ** as any number of directories, skipping dot-directories", () => {
    assert.deepEqual(rel(expandGlobs(["raw/**/*.fits"], tmp)).sort(), [
      "raw/a.b0s0g0.00000.fits",
      "raw/a.b0s1g0.00000.fits",
      "raw/a.b1s0g0.00000.fits",
      "raw/night2/b.b0s0g0.00000.fits",
      "raw/night2/deep/c.fits",
    ]);
    assert.deepEqual(rel(expandGlobs(["*/*/b.*"], tmp)), ["raw/night2/b.b0s0g0.00000.fits"]);
  });

  it("lists each path once and reports patterns that match nothing", () => {
    const r = expandGlobsDetailed(["raw/a.b0*", "raw/*s0g0*", "raw/no-wildcard.fits", "raw/*.fil"], tmp);
    assert.deepEqual(rel(r.paths), ["raw/a.b0s0g0.00000.fits", "raw/a.b0s1g0.00000.fits", "raw/a.b1s0g0.00000.fits"]);
    assert.deepEqual(r.unmatched, ["raw/no-wildcard.fits", "raw/*.fil"]);
    assert.deepEqual(expandGlobs([]), []);
  });
});
