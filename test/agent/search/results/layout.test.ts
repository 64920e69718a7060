import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as tar from "tar";
import { searchParamsSchema } from "../../../../shared/config/search-params";
import { MANIFEST_NAME, type Manifest, SEARCH_PARAMS_FILE, fnmatchRegExp, globFiles, verifyManifest, writeSearchParamsFile } from "../../../../shared/results";
import { ResultsLayoutError, collectResults, reportFileName, writeReport } from "../../../../agent/search/results";
import { UnsafePathError } from "../../../../shared/files/safe-path";
import { listTarball, readTarMember } from "../../../../shared/files/tarball";
import { ALL_DMS, BEAM, Scratch, copyInto, sha256, syntheticBytes } from "./helpers";

const BASE = "beam_J1903";

/** Member names as GNU/BSD tar lists them, or null when no tar program is installed. */
function systemTarList(file: string): string[] | null {
  try {
    const out = execFileSync("tar", ["-tzf", file], { encoding: "utf8" });
    return out
      .split("\n")
      .filter((l) => l !== "")
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** The fixture files whose names match a PALFA pattern (the expected tarball members). */
function fixtureNames(dir: string, test: (n: string) => boolean): string[] {
  return fs.readdirSync(dir).filter(test).sort();
}

/** Real products of the beam_J1903 search that clean_up tars or moves. */
const FROM_BEAM = [
  `${BASE}.accelcands`,
  `${BASE}.zaplist`,
  `${BASE}_DM57.00_ACCEL_0.cand`,
  `${BASE}_DM57.00_ACCEL_50.cand`,
  `${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd`,
  `${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd.bestprof`,
  `${BASE}_DM57.00_Z0_ACCEL_Cand_5.pfd.bestprof`,
  // A real PNG (gs rendering of prepfold's plot), moved with "*.png".
  `${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd.page.png`,
  `${BASE}_rfifind.bytemask`,
  `${BASE}_rfifind.inf`,
  `${BASE}_rfifind.mask`,
  `${BASE}_rfifind.out`,
];
const RFIFIND_BINARIES = [`${BASE}_rfifind.rfi`, `${BASE}_rfifind.stats`];
/** Real products clean_up leaves in the work dir (no pattern names them). */
const LEFT_ALONE = [`${BASE}_rfifind.ps`, `${BASE}_DM57.00_Z0_ACCEL_Cand_1.prepfold.out`];

/**
 * A work dir as the search leaves it: copies of the real PRESTO products of the
 * beam_J1903 search (the text products of all 156 DM trials, rfifind's products,
 * accelsearch's .cand files, a .pfd, bestprofs, the sifted list, the zaplist); our own
 * search_params.txt, .report and provenance.json; synthetic stand-ins for PNGs our
 * pipeline renders; and things clean_up must leave alone.
 */
function populateWorkDir(work: string): void {
  for (const n of fs.readdirSync(ALL_DMS)) copyInto(path.join(ALL_DMS, n), work);
  for (const n of [...FROM_BEAM, ...LEFT_ALONE]) copyInto(path.join(BEAM, n), work);
  for (const n of RFIFIND_BINARIES) copyInto(path.join(BEAM, n), work);
  writeSearchParamsFile(path.join(work, SEARCH_PARAMS_FILE), searchParamsSchema.parse({}));
  writeReport(path.join(work, reportFileName(BASE)), [{ stage: "rfifind", seconds: 3.943 }], {
    files: [`${BASE}.fits`],
    hostname: "test-host",
    endTime: new Date(0),
    maskedPercent: 0.74,
    numCandsFolded: 2,
  });
  fs.writeFileSync(path.join(work, "provenance.json"), JSON.stringify({ beamflow: "test", presto: "3ae6229" }) + "\n");
  for (const png of [`${BASE}_rfifind.png`, `${BASE}.accelcands.summary.png`, `${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd.png`]) {
    fs.writeFileSync(path.join(work, png), syntheticBytes(png));
  }
  // Left alone: a file no pattern names, a directory, and a symlink that matches "*.png".
  fs.writeFileSync(path.join(work, "notes.txt"), "scratch notes\n");
  fs.mkdirSync(path.join(work, "subbands"));
  fs.writeFileSync(path.join(work, "subbands", "x.sub00"), "not data\n");
  fs.symlinkSync(path.join(BEAM, `${BASE}.zaplist`), path.join(work, "linked.png"));
}

describe("search-results/fnmatch", () => {
  it("matches as Python's glob/fnmatch", () => {
    const re = fnmatchRegExp("*rfifind.[bimors]*");
    for (const n of ["x_rfifind.bytemask", "x_rfifind.inf", "x_rfifind.mask", "x_rfifind.out", "x_rfifind.rfi", "x_rfifind.stats"]) {
      assert.ok(re.test(n), n);
    }
    for (const n of ["x_rfifind.ps", "x_rfifind.png", "x_rfifind"]) assert.ok(!re.test(n), n);
    assert.ok(fnmatchRegExp("*_DM[0-9]*.inf").test("b_DM57.00.inf"));
    assert.ok(!fnmatchRegExp("*_DM[0-9]*.inf").test("b_rfifind.inf"));
    assert.ok(fnmatchRegExp("*_ACCEL_0").test("b_DM1.00_ACCEL_0"));
    assert.ok(!fnmatchRegExp("*_ACCEL_0").test("b_DM1.00_ACCEL_0.cand"));
    assert.ok(fnmatchRegExp("[!a]?").test("bc") && !fnmatchRegExp("[!a]?").test("ac"));
    assert.ok(fnmatchRegExp("a[b").test("a[b"));
  });
});

describe("search-results/layout: collectResults", () => {
  let scratch: Scratch;
  let work: string;
  let results: string;
  let workBefore: Set<string>;
  let collected: Awaited<ReturnType<typeof collectResults>>;

  // Compute the expected sets from the fixture listings, independently of the code.
  const accel0 = fixtureNames(ALL_DMS, (n) => n.endsWith("_ACCEL_0"));
  const accel50 = fixtureNames(ALL_DMS, (n) => n.endsWith("_ACCEL_50"));
  const singlepulse = fixtureNames(ALL_DMS, (n) => n.endsWith(".singlepulse"));
  const inf = fixtureNames(ALL_DMS, (n) => /_DM\d.*\.inf$/.test(n));
  const bestprof = FROM_BEAM.filter((n) => n.endsWith(".pfd.bestprof")).sort();

  // One collection, shared by the assertions below.
  before(async () => {
    scratch = new Scratch();
    work = scratch.sub("work");
    results = scratch.sub("results");
    populateWorkDir(work);
    workBefore = new Set(fs.readdirSync(work));
    collected = await collectResults(work, results, BASE);
  });
  after(() => scratch.cleanup());

  it("makes PALFA's eight tarballs with the right members", async () => {
    const expected: Record<string, string[]> = {
      [`${BASE}_ACCEL_0.tgz`]: accel0,
      [`${BASE}_ACCEL_50.tgz`]: accel50,
      [`${BASE}_ACCEL_0.cand.tgz`]: [`${BASE}_DM57.00_ACCEL_0.cand`],
      [`${BASE}_ACCEL_50.cand.tgz`]: [`${BASE}_DM57.00_ACCEL_50.cand`],
      [`${BASE}_singlepulse.tgz`]: singlepulse,
      [`${BASE}_inf.tgz`]: inf,
      [`${BASE}_pfd.tgz`]: [`${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd`],
      [`${BASE}_bestprof.tgz`]: bestprof,
    };
    assert.equal(accel0.length, 156);
    assert.equal(accel50.length, 151);
    assert.equal(inf.length, 156);
    assert.deepEqual(
      collected.tarballs.map((t) => t.name),
      Object.keys(expected),
    );
    for (const [name, members] of Object.entries(expected)) {
      // Listed with the tar package directly, not through our wrapper.
      const listed: { path: string; type: string }[] = [];
      await tar.t({ file: path.join(results, name), strict: true, onReadEntry: (e) => listed.push({ path: e.path, type: e.type }) });
      assert.deepEqual(listed.map((m) => m.path).sort(), members, name);
      assert.ok(
        listed.every((m) => m.type === "File"),
        name,
      );
      // And by the system's tar, as people will open them.
      const system = systemTarList(path.join(results, name));
      if (system !== null) assert.deepEqual(system, members, `tar -tzf ${name}`);
      assert.deepEqual(collected.tarballs.find((t) => t.name === name)!.members, members);
    }
    // The rfifind .inf is not a per-DM .inf: it is moved, not tarred.
    assert.ok(fs.existsSync(path.join(results, `${BASE}_rfifind.inf`)));
  });

  it("stores the files' bytes unchanged", async () => {
    for (const [tgz, member, original] of [
      [`${BASE}_ACCEL_0.tgz`, `${BASE}_DM57.00_ACCEL_0`, path.join(ALL_DMS, `${BASE}_DM57.00_ACCEL_0`)],
      [`${BASE}_ACCEL_0.cand.tgz`, `${BASE}_DM57.00_ACCEL_0.cand`, path.join(BEAM, `${BASE}_DM57.00_ACCEL_0.cand`)],
      [`${BASE}_bestprof.tgz`, bestprof[0]!, path.join(BEAM, bestprof[0]!)],
      [`${BASE}_pfd.tgz`, `${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd`, path.join(BEAM, `${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd`)],
    ] as const) {
      assert.deepEqual(await readTarMember(path.join(results, tgz), member), fs.readFileSync(original), member);
    }
  });

  it("deletes the tarred files from the work dir", () => {
    const left = new Set(fs.readdirSync(work));
    for (const t of collected.tarballs) for (const m of t.members) assert.ok(!left.has(m), m);
  });

  it("moves the result files and leaves everything else", () => {
    const moved = [
      `${BASE}_rfifind.bytemask`,
      `${BASE}_rfifind.inf`,
      `${BASE}_rfifind.mask`,
      `${BASE}_rfifind.out`,
      `${BASE}_rfifind.rfi`,
      `${BASE}_rfifind.stats`,
      `${BASE}_rfifind.png`,
      `${BASE}.accelcands.summary.png`,
      `${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd.png`,
      `${BASE}_DM57.00_Z0_ACCEL_Cand_1.pfd.page.png`,
      `${BASE}.zaplist`,
      SEARCH_PARAMS_FILE,
      `${BASE}.accelcands`,
      `${BASE}.report`,
      "provenance.json",
    ];
    assert.deepEqual([...collected.moved].sort(), [...moved].sort());
    for (const n of moved) {
      assert.ok(workBefore.has(n), `${n} was in the work dir`);
      assert.ok(fs.existsSync(path.join(results, n)), `${n} in results`);
      assert.ok(!fs.existsSync(path.join(work, n)), `${n} gone from work`);
    }
    assert.equal(fs.readFileSync(path.join(results, `${BASE}.accelcands`), "utf8"), fs.readFileSync(path.join(BEAM, `${BASE}.accelcands`), "utf8"));
    assert.deepEqual(fs.readdirSync(work).sort(), [...LEFT_ALONE, "linked.png", "notes.txt", "subbands"].sort());
    assert.ok(fs.lstatSync(path.join(work, "linked.png")).isSymbolicLink());
  });

  it("writes a manifest of every results file with its size and SHA-256", async () => {
    const onDisk = JSON.parse(fs.readFileSync(path.join(results, MANIFEST_NAME), "utf8")) as Manifest;
    assert.deepEqual(onDisk, collected.manifest);
    assert.equal(onDisk.base, BASE);
    const files = fs
      .readdirSync(results)
      .filter((n) => n !== MANIFEST_NAME)
      .sort();
    assert.deepEqual(
      onDisk.files.map((f) => f.path),
      files,
    );
    assert.equal(files.length, 8 + 15);
    for (const f of onDisk.files) {
      const full = path.join(results, f.path);
      assert.equal(f.sha256, sha256(full), f.path);
      assert.equal(f.size, fs.statSync(full).size, f.path);
    }
    assert.deepEqual(await verifyManifest(results, onDisk), []);
  });

  it("lets the coordinator detect a changed, missing or extra file", async () => {
    const copy = scratch.sub("copy");
    for (const n of fs.readdirSync(results)) fs.copyFileSync(path.join(results, n), path.join(copy, n));
    const manifest = collected.manifest;
    fs.appendFileSync(path.join(copy, `${BASE}.zaplist`), "\n");
    fs.rmSync(path.join(copy, `${BASE}_inf.tgz`));
    fs.writeFileSync(path.join(copy, "stray.txt"), "x");
    assert.deepEqual((await verifyManifest(copy, manifest)).sort(), [
      `${BASE}.zaplist: size ${fs.statSync(path.join(copy, `${BASE}.zaplist`)).size}, expected ${fs.statSync(path.join(results, `${BASE}.zaplist`)).size}`,
      `${BASE}_inf.tgz: missing`,
      "stray.txt: not in the manifest",
    ]);
  });
});

describe("search-results/layout: refusals", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("refuses a base name with a path separator, touching nothing", async () => {
    const work = scratch.sub("w1");
    const results = scratch.sub("r1");
    copyInto(path.join(ALL_DMS, `${BASE}_DM57.00_ACCEL_0`), work);
    for (const bad of ["../escape", "a/b", "a\\b", "..", ""]) {
      await assert.rejects(collectResults(work, results, bad), UnsafePathError, JSON.stringify(bad));
    }
    assert.deepEqual(fs.readdirSync(work), [`${BASE}_DM57.00_ACCEL_0`]);
    assert.deepEqual(fs.readdirSync(results), []);
    assert.deepEqual(fs.readdirSync(scratch.dir).sort(), ["r1", "w1"]);
  });

  it("refuses to overwrite existing results, before changing anything", async () => {
    const work = scratch.sub("w2");
    const results = scratch.sub("r2");
    copyInto(path.join(ALL_DMS, `${BASE}_DM57.00_ACCEL_0`), work);
    copyInto(path.join(BEAM, `${BASE}.accelcands`), work);
    copyInto(path.join(BEAM, `${BASE}.accelcands`), results);
    await assert.rejects(collectResults(work, results, BASE), ResultsLayoutError);
    assert.deepEqual(fs.readdirSync(work).sort(), [`${BASE}.accelcands`, `${BASE}_DM57.00_ACCEL_0`]);
    assert.deepEqual(fs.readdirSync(results), [`${BASE}.accelcands`]);
  });

  it("writes an empty tarball when no file matches, as tarfile did", async () => {
    const work = scratch.sub("w4");
    const results = scratch.sub("r4");
    copyInto(path.join(ALL_DMS, `${BASE}_DM57.00_ACCEL_0`), work);
    const c = await collectResults(work, results, BASE);
    assert.equal(c.tarballs.length, 8);
    assert.deepEqual(await listTarball(path.join(results, `${BASE}_pfd.tgz`)), []);
    const system = systemTarList(path.join(results, `${BASE}_pfd.tgz`));
    if (system !== null) assert.deepEqual(system, []);
    assert.deepEqual(
      (await listTarball(path.join(results, `${BASE}_ACCEL_0.tgz`))).map((m) => m.path),
      [`${BASE}_DM57.00_ACCEL_0`],
    );
    assert.deepEqual(fs.readdirSync(work), []);
  });

  it("refuses the same directory for work and results", async () => {
    const work = scratch.sub("w3");
    await assert.rejects(collectResults(work, path.join(work, "."), BASE), ResultsLayoutError);
  });

  it("only globs regular, non-hidden files", () => {
    const dir = scratch.sub("g");
    fs.writeFileSync(path.join(dir, ".hidden.png"), "x");
    fs.writeFileSync(path.join(dir, "a.png"), "x");
    fs.mkdirSync(path.join(dir, "d.png"));
    assert.deepEqual(globFiles(dir, "*.png"), ["a.png"]);
    assert.deepEqual(globFiles(dir, ".*.png"), [".hidden.png"]);
  });
});
