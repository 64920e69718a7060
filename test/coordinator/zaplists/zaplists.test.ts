import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as tar from "tar";
import {
  BeamNameError,
  DEFAULT_ZAPLISTS,
  ZaplistError,
  ZaplistNotFoundError,
  beamNameParts,
  findZaplist,
  findZaplistForFile,
  mjdToDate,
  writeZaplist,
  zaplistCandidates,
} from "../../../coordinator/zaplists";
import { UnsafePathError } from "../../../shared/files/safe-path";
import { Scratch, fixture } from "../../agent/search/results/helpers";

// The merged Mock beam of test/fixtures' mock_split set: p2030.20230225.G037.00-00.10.C.b0
// (combine_mocks output, start MJD 60000.25), scan 00000.
const KEY = { projid: "p2030", date: "20230225", source: "G037.00-00.10.C", beam: 0, scan: "00000" };
const RULE1 = "p2030.20230225.G037.00-00.10.C.b0.00000.zaplist";
const RULE2 = "p2030.20230225.b0.zaplist";
const RULE3 = "p2030.20230225.all.zaplist";
// The default list: here the real makezaplist.py output of the beam_J1903 search.
const DEFAULT = "beam_J1903.zaplist";

/** Zaplist test data in the format zapbirds reads ("B <freq> <width>"), labelled as such. */
function testList(rule: string, freq: number): string {
  return `# beamflow test data for zaplist lookup (${rule}); not survey data\nB ${freq} 0.01\n`;
}

describe("search-results/zaplists: beam names", () => {
  it("splits a merged Mock name whose source contains dots", () => {
    assert.deepEqual(beamNameParts("p2030.20230225.G037.00-00.10.C.b0.00000"), { kind: "mock", ...KEY });
    assert.deepEqual(beamNameParts("/data/p2030.20230225.G037.00-00.10.C.b0.00000.fits"), { kind: "mock", ...KEY });
    assert.deepEqual(beamNameParts("P2030.20111231.G45.62+00.32.b7.00123.fits"), {
      kind: "mock",
      projid: "P2030",
      date: "20111231",
      source: "G45.62+00.32",
      beam: 7,
      scan: "00123",
    });
  });

  it("splits a raw Mock half (the mock_split fixture's names)", () => {
    assert.deepEqual(beamNameParts("4bit-p2030.20230225.G037.00-00.10.C.b0s1g0.00000.fits"), {
      kind: "mock",
      ...KEY,
      subband: 1,
    });
  });

  it("derives a WAPP name's date from its MJD as PALFA did", () => {
    assert.deepEqual(beamNameParts("p2030_53903_40345_0123_G37.00-00.10_3.w4bit.fits"), {
      kind: "wapp",
      projid: "p2030",
      date: "20060617",
      source: "G37.00-00.10",
      beam: 3,
      scan: "0123",
      mjd: 53903,
    });
  });

  it("converts MJDs to civil dates", () => {
    assert.equal(mjdToDate(40587), "19700101");
    assert.equal(mjdToDate(51544), "20000101");
    assert.equal(mjdToDate(60000.25), "20230225"); // the fixture beam's start, fraction dropped
    assert.equal(mjdToDate(51603), "20000229"); // leap day
  });

  it("rejects names that are not PALFA's", () => {
    assert.throws(() => beamNameParts("beam_J1903.fits"), BeamNameError);
    assert.throws(() => beamNameParts("p2030.2023022.G1.b0.00000"), BeamNameError);
    assert.throws(() => beamNameParts("p2030.20230225.G1.b8.00000"), BeamNameError);
  });
});

describe("search-results/zaplists: lookup", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  /** A directory with the lists of the given rules, and the default. */
  function listDir(name: string, rules: (1 | 2 | 3)[]): string {
    const dir = scratch.sub(name);
    const names = { 1: RULE1, 2: RULE2, 3: RULE3 };
    for (const r of rules) fs.writeFileSync(path.join(dir, names[r]), testList(`rule ${r}`, 100 + r));
    fs.copyFileSync(fixture(DEFAULT), path.join(dir, DEFAULT));
    return dir;
  }

  it("lists the names in PALFA's order", () => {
    assert.deepEqual(zaplistCandidates(KEY, { defaultName: DEFAULT }), [
      { rule: 1, name: RULE1 },
      { rule: 2, name: RULE2 },
      { rule: 3, name: RULE3 },
      { rule: 4, name: DEFAULT },
    ]);
    assert.equal(zaplistCandidates(KEY, { defaultName: DEFAULT, useDefault: false }).length, 3);
  });

  it("takes the first rule that matches, from a directory", async () => {
    for (const [rules, want] of [
      [[1, 2, 3], 1],
      [[2, 3], 2],
      [[3], 3],
    ] as const) {
      const dir = listDir(`dir-${rules.join("")}`, [...rules]);
      const z = await findZaplist(dir, KEY, { defaultName: DEFAULT });
      assert.equal(z.rule, want);
      assert.equal(z.name, [RULE1, RULE2, RULE3][want - 1]);
      assert.equal(z.text, testList(`rule ${want}`, 100 + want));
      assert.deepEqual(
        z.entries.map((e) => [e.freq, e.barycentric]),
        [[100 + want, true]],
      );
      assert.equal(z.source, dir);
      assert.equal(z.location, path.join(dir, z.name));
    }
  });

  it("falls back to the default list (rule 4)", async () => {
    const dir = listDir("dir-default", []);
    const z = await findZaplist(dir, KEY, { defaultName: DEFAULT });
    assert.equal(z.rule, 4);
    assert.equal(z.ruleName, "default list");
    assert.equal(z.name, DEFAULT);
    assert.equal(z.text, fs.readFileSync(fixture(DEFAULT), "utf8"));
    assert.equal(z.entries.length, 10);
  });

  it("finds the default in its own source when given one", async () => {
    const empty = scratch.sub("dir-empty");
    const defaults = listDir("dir-defaults-only", []);
    const z = await findZaplist(empty, KEY, { defaultName: DEFAULT, defaultSource: defaults });
    assert.equal(z.rule, 4);
    assert.equal(z.source, defaults);
  });

  it("fails naming every list looked for when the default is disabled or missing", async () => {
    const dir = listDir("dir-nodefault", []);
    await assert.rejects(findZaplist(dir, KEY, { defaultName: DEFAULT, useDefault: false }), (e: unknown) => {
      assert.ok(e instanceof ZaplistNotFoundError);
      assert.deepEqual(e.lookedFor, [RULE1, RULE2, RULE3]);
      assert.deepEqual(e.sources, [dir]);
      assert.match(e.message, /useDefault=false/);
      return true;
    });
    await assert.rejects(findZaplist(dir, KEY, { defaultName: "PALFA_commondb_Mock.zaplist" }), (e: unknown) => {
      assert.ok(e instanceof ZaplistNotFoundError);
      assert.deepEqual(e.lookedFor, [RULE1, RULE2, RULE3, "PALFA_commondb_Mock.zaplist"]);
      return true;
    });
  });

  it("reads the chosen member from a tarball, matching by base name", async () => {
    // Lists under a folder inside the tarball, as zaplists.tar.gz may hold them, plus a
    // decoy whose name merely ends with rule 2's name (PALFA's endswith would take it).
    const src = scratch.sub("tar-src");
    fs.mkdirSync(path.join(src, "zaplists"));
    fs.writeFileSync(path.join(src, "zaplists", `x${RULE2}`), testList("decoy", 999));
    fs.writeFileSync(path.join(src, "zaplists", RULE2), testList("rule 2", 102));
    fs.writeFileSync(path.join(src, "zaplists", RULE3), testList("rule 3", 103));
    fs.copyFileSync(fixture(DEFAULT), path.join(src, DEFAULT));
    const tgz = path.join(scratch.dir, "zaplists.tar.gz");
    await tar.c({ gzip: true, file: tgz, cwd: src }, [`zaplists/x${RULE2}`, `zaplists/${RULE2}`, `zaplists/${RULE3}`, DEFAULT]);

    const z = await findZaplist(tgz, KEY, { defaultName: DEFAULT });
    assert.equal(z.rule, 2);
    assert.equal(z.name, RULE2);
    assert.equal(z.location, `zaplists/${RULE2}`);
    assert.equal(z.source, tgz);
    assert.equal(z.text, testList("rule 2", 102));

    // Rule 4 from the same tarball, for a beam without its own lists.
    const other = await findZaplist(tgz, { ...KEY, beam: 5, date: "20230226" }, { defaultName: DEFAULT });
    assert.equal(other.rule, 4);
    assert.equal(other.text, fs.readFileSync(fixture(DEFAULT), "utf8"));

    // Choosing extracted nothing to disk: the source folder is unchanged and no list
    // appeared next to the tarball.
    assert.deepEqual(
      fs.readdirSync(scratch.dir).filter((n) => n.endsWith(".zaplist")),
      [],
    );
  });

  it("accepts .tgz and works from a data file name", async () => {
    const src = scratch.sub("tgz-src");
    fs.copyFileSync(fixture(DEFAULT), path.join(src, DEFAULT));
    fs.writeFileSync(path.join(src, "p2030.20060617.all.zaplist"), testList("WAPP day", 60));
    const tgz = path.join(scratch.dir, "lists.tgz");
    await tar.c({ gzip: true, file: tgz, cwd: src }, ["p2030.20060617.all.zaplist", DEFAULT]);
    const z = await findZaplistForFile(tgz, "p2030_53903_40345_0123_G37.00-00.10_3.w4bit.fits");
    assert.equal(z.rule, 3);
    assert.equal(z.name, "p2030.20060617.all.zaplist");
    // No own list: PALFA's default for the backend is looked for (and here is missing).
    await assert.rejects(findZaplistForFile(tgz, "p2030.20230225.G037.00-00.10.C.b0.00000.fits"), (e: unknown) => {
      assert.ok(e instanceof ZaplistNotFoundError);
      assert.equal(e.lookedFor.at(-1), DEFAULT_ZAPLISTS.mock);
      return true;
    });
  });

  it("refuses a damaged list and names that would leave the directory", async () => {
    const dir = listDir("dir-damaged", []);
    fs.writeFileSync(path.join(dir, RULE3), "# beamflow test data: a damaged zaplist\nB 60.0\n");
    await assert.rejects(findZaplist(dir, KEY, { defaultName: DEFAULT }), (e: unknown) => {
      assert.ok(e instanceof ZaplistError);
      assert.equal(e.location, path.join(dir, RULE3));
      return true;
    });
    assert.throws(() => zaplistCandidates({ ...KEY, source: "../../etc" }), UnsafePathError);
    assert.throws(() => zaplistCandidates({ ...KEY, date: "2023-02-25" }), RangeError);
  });

  it("writes the chosen list into the work dir under its own name", async () => {
    const dir = listDir("dir-write", [1]);
    const z = await findZaplist(dir, KEY, { defaultName: DEFAULT });
    const work = scratch.sub("work");
    const file = writeZaplist(z, work);
    assert.equal(file, path.join(work, RULE1));
    assert.equal(fs.readFileSync(file, "utf8"), z.text);
  });
});
