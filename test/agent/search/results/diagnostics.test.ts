import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { searchParamsSchema } from "../../../../shared/config/search-params";
import {
  DIAGNOSTIC_INFO,
  DIAGNOSTIC_NAMES,
  type Diagnostic,
  DiagnosticError,
  allDiagnostics,
  blobDiagnostic,
  calRowsDiagnostics,
  foldDiagnostics,
  paramDiagnostics,
  rfiDiagnostics,
  siftingDiagnostics,
  zaplistDiagnostics,
} from "../../../../shared/diagnostics";
import { SEARCH_PARAMS_FILE, writeSearchParamsFile } from "../../../../shared/results";
import { Scratch, copyInto, fixture, syntheticBytes } from "./helpers";

const BASE = "beam_J1903";
const params = searchParamsSchema.parse({});

/** The 18 names exactly as PALFA's DB holds them (typo included), in §4's order. */
const PALFA_NAMES = [
  "RFI mask percentage",
  "RFIfind png",
  "Periodicty summary plot",
  "Rejected cands plot",
  "Sifting summary",
  "Sifting report",
  "Accelcands list",
  "Num cands folded",
  "Num cands produced",
  "Min sigma folded",
  "Num cands above threshold",
  "Zaplist used",
  "Search parameters",
  "Sigma threshold",
  "Max cands allowed to fold",
  "Percent zapped total",
  "Percent zapped below 10 Hz",
  "Percent zapped below 1 Hz",
];

/** Candidates in the fixture .accelcands, counted from its text independently of the parser. */
function fixtureCandidates(): { name: string; sigma: number }[] {
  return fs
    .readFileSync(fixture(`${BASE}.accelcands`), "utf8")
    .split("\n")
    .filter((l) => /^\S+:\d+\s/.test(l))
    .map((l) => {
      const cols = l.trim().split(/\s+/);
      return { name: cols[0]!, sigma: Number(cols[3]) };
    });
}

const byName = (ds: readonly Diagnostic[], name: string) => ds.find((d) => d.name === name);

/** The plot our pipeline renders for a folded candidate (synthetic bytes; see helpers). */
function foldedPlot(dir: string, accelFile: string, candnum: number): string {
  const [base, z] = accelFile.split("_ACCEL_");
  const name = `${base}_Z${z}_ACCEL_Cand_${candnum}.pfd.png`;
  fs.writeFileSync(path.join(dir, name), syntheticBytes(name));
  return name;
}

/**
 * A complete results dir: the real rfifind.out, .accelcands and .zaplist of the
 * beam_J1903 search, our search_params.txt, and synthetic stand-ins for the files our
 * pipeline renders or writes (PNG plots, sifting summary and gzipped report), plus the
 * plots of the two candidates the fixture search folded (cands 1 and 5 of DM57 ACCEL_0).
 */
function populateResults(dir: string): void {
  copyInto(fixture(`${BASE}_rfifind.out`), dir);
  copyInto(fixture(`${BASE}.accelcands`), dir);
  copyInto(fixture(`${BASE}.zaplist`), dir);
  writeSearchParamsFile(path.join(dir, SEARCH_PARAMS_FILE), params);
  for (const png of [`${BASE}_rfifind.png`, `${BASE}.accelcands.summary.png`, `${BASE}.accelcands.rejects.png`]) {
    fs.writeFileSync(path.join(dir, png), syntheticBytes(png));
  }
  fs.writeFileSync(path.join(dir, `${BASE}.accelcands.summary`), syntheticBytes("the sifting summary"));
  fs.writeFileSync(path.join(dir, `${BASE}.accelcands.report.gz`), zlib.gzipSync(syntheticBytes("the sifting report")));
  foldedPlot(dir, `${BASE}_DM57.00_ACCEL_0`, 1);
  foldedPlot(dir, `${BASE}_DM57.00_ACCEL_0`, 5);
}

function assertDiagnosticError(e: unknown, diagnostic: string, problem: string, file: RegExp): true {
  assert.ok(e instanceof DiagnosticError, `expected a DiagnosticError, got ${String(e)}`);
  assert.equal(e.diagnostic, diagnostic);
  assert.equal(e.problem, problem);
  assert.match(e.file, file);
  return true;
}

describe("search-results/diagnostics: names", () => {
  it("has PALFA's 18 names, kinds and descriptions", () => {
    assert.deepEqual([...DIAGNOSTIC_NAMES], PALFA_NAMES);
    const blobs = PALFA_NAMES.filter((n) => DIAGNOSTIC_INFO[n as keyof typeof DIAGNOSTIC_INFO].kind === "blob");
    assert.deepEqual(blobs, [
      "RFIfind png",
      "Periodicty summary plot",
      "Rejected cands plot",
      "Sifting summary",
      "Sifting report",
      "Accelcands list",
      "Zaplist used",
      "Search parameters",
    ]);
    assert.equal(DIAGNOSTIC_INFO["RFI mask percentage"].description, "Percentage of data masked due to RFI.");
  });
});

describe("search-results/diagnostics: per stage", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("RFI mask percentage from rfifind.out", () => {
    const ds = rfiDiagnostics(fixture(`${BASE}_rfifind.out`));
    assert.deepEqual([...ds], [{ name: "RFI mask percentage", description: "Percentage of data masked due to RFI.", kind: "float", value: 0.74 }]);
    assert.deepEqual(ds.skipped, []);
  });

  it("fails on a cut-short or missing rfifind.out", () => {
    const dir = scratch.sub("rfi");
    const text = fs.readFileSync(fixture(`${BASE}_rfifind.out`), "utf8");
    const cut = path.join(dir, `${BASE}_rfifind.out`);
    fs.writeFileSync(cut, text.slice(0, text.indexOf("Number of  bad")));
    assert.throws(
      () => rfiDiagnostics(cut),
      (e) => assertDiagnosticError(e, "RFI mask percentage", "garbled", /_rfifind\.out$/),
    );
    assert.throws(
      () => rfiDiagnostics(path.join(dir, "none_rfifind.out")),
      (e) => assertDiagnosticError(e, "RFI mask percentage", "missing", /none_rfifind\.out$/),
    );
  });

  it("candidate counts and the list after sifting", () => {
    const cands = fixtureCandidates();
    assert.equal(cands.length, 32);
    const ds = siftingDiagnostics(fixture(`${BASE}.accelcands`), params);
    assert.deepEqual(
      ds.map((d) => d.name),
      ["Accelcands list", "Num cands produced", "Num cands above threshold"],
    );
    assert.equal(byName(ds, "Num cands produced")!.value, cands.length);
    // to_prepfold_sigma = 6.0: 19 of the 32 have sigma >= 6.0 (the lowest is 6.01).
    assert.equal(byName(ds, "Num cands above threshold")!.value, cands.filter((c) => c.sigma >= 6.0).length);
    assert.equal(byName(ds, "Num cands above threshold")!.value, 19);
    // Inclusive, as PALFA: candidate 9 of DM58 has sigma 7.00 and counts at 7.0.
    const at7 = siftingDiagnostics(fixture(`${BASE}.accelcands`), searchParamsSchema.parse({ to_prepfold_sigma: 7.0 }));
    assert.equal(byName(at7, "Num cands above threshold")!.value, 7);
    const list = byName(ds, "Accelcands list")!;
    assert.equal(list.kind, "blob");
    assert.equal(list.file, fixture(`${BASE}.accelcands`));
    assert.equal(list.text, fs.readFileSync(fixture(`${BASE}.accelcands`), "utf8"));
  });

  it("Num cands folded and Min sigma folded from the folded plots", () => {
    const dir = scratch.sub("fold");
    copyInto(fixture(`${BASE}.accelcands`), dir);
    const accelcands = path.join(dir, `${BASE}.accelcands`);

    // Nothing folded: the count is 0 and Min sigma folded is skipped, not an error.
    const none = foldDiagnostics(dir, accelcands, params);
    assert.deepEqual(
      none.map((d) => [d.name, d.value]),
      [["Num cands folded", 0]],
    );
    assert.deepEqual(none.skipped, [{ name: "Min sigma folded", reason: "No candidates folded." }]);

    // The fixture search folded candidates 1 (sigma 59.47) and 5 (sigma 15.97).
    foldedPlot(dir, `${BASE}_DM57.00_ACCEL_0`, 1);
    foldedPlot(dir, `${BASE}_DM57.00_ACCEL_0`, 5);
    const two = foldDiagnostics(dir, accelcands, params);
    assert.deepEqual(
      two.map((d) => [d.name, d.value]),
      [
        ["Num cands folded", 2],
        ["Min sigma folded", 15.97],
      ],
    );
    assert.deepEqual(two.skipped, []);
  });

  it("fails when the folded plots and the candidate list disagree (PALFA's check)", () => {
    const dir = scratch.sub("fold-mismatch");
    copyInto(fixture(`${BASE}.accelcands`), dir);
    const accelcands = path.join(dir, `${BASE}.accelcands`);
    foldedPlot(dir, `${BASE}_DM57.00_ACCEL_0`, 1);
    foldedPlot(dir, `${BASE}_DM99.00_ACCEL_0`, 3); // not in this candidate list
    assert.throws(
      () => foldDiagnostics(dir, accelcands, params),
      (e) => {
        assertDiagnosticError(e, "Min sigma folded", "mismatch", /\.accelcands$/);
        assert.match((e as Error).message, /Not all \*\.pfd\.png images were found in candlist! \(2 > 1\)/);
        return true;
      },
    );
    // More plots than max_cands_to_fold: the directory mixes runs.
    assert.throws(
      () => foldDiagnostics(dir, accelcands, searchParamsSchema.parse({ max_cands_to_fold: 1 })),
      (e) => assertDiagnosticError(e, "Num cands folded", "mismatch", /\*\.pfd\.png$/),
    );
  });

  it("Zaplist used and the percent zapped from the zaplist", () => {
    const ds = zaplistDiagnostics(fixture(`${BASE}.zaplist`), params);
    assert.deepEqual(
      ds.map((d) => d.name),
      ["Zaplist used", "Percent zapped total", "Percent zapped below 10 Hz", "Percent zapped below 1 Hz"],
    );
    assert.equal(byName(ds, "Zaplist used")!.text, fs.readFileSync(fixture(`${BASE}.zaplist`), "utf8"));
    // Ten birdies at 60..600 Hz, widths 0.05..0.5 Hz: 2.75 Hz of [1/15 Hz, 2000 Hz]; none below 10 Hz.
    const total = byName(ds, "Percent zapped total")!.value!;
    assert.ok(Math.abs(total - (2.75 / (2000 - 1 / 15)) * 100) < 1e-12, String(total));
    assert.equal(byName(ds, "Percent zapped below 10 Hz")!.value, 0);
    assert.equal(byName(ds, "Percent zapped below 1 Hz")!.value, 0);
    // The band follows the sifting periods: [1/15 Hz, 1/0.002 s = 500 Hz] keeps the birdies
    // at 60..480 Hz (1.8 Hz in all); those at 540 and 600 Hz lie wholly above it.
    const narrow = zaplistDiagnostics(fixture(`${BASE}.zaplist`), searchParamsSchema.parse({ sifting_short_period: 0.002 }));
    const expected = ((0.05 + 0.1 + 0.15 + 0.2 + 0.25 + 0.3 + 0.35 + 0.4) / (500 - 1 / 15)) * 100;
    assert.ok(Math.abs(byName(narrow, "Percent zapped total")!.value! - expected) < 1e-12);
  });

  it("Search parameters, Sigma threshold and Max cands allowed to fold", () => {
    const dir = scratch.sub("params");
    const file = writeSearchParamsFile(path.join(dir, SEARCH_PARAMS_FILE), params);
    const ds = paramDiagnostics(file, params);
    assert.deepEqual(
      ds.map((d) => [d.name, d.kind, d.value]),
      [
        ["Search parameters", "blob", undefined],
        ["Sigma threshold", "float", 6.0],
        ["Max cands allowed to fold", "float", 100],
      ],
    );
    assert.equal(byName(ds, "Search parameters")!.text, fs.readFileSync(file, "utf8"));
    // A file that does not match the parameters reported beside it is refused.
    const other = searchParamsSchema.parse({ to_prepfold_sigma: 7.0 });
    assert.throws(
      () => paramDiagnostics(file, other),
      (e) => {
        assertDiagnosticError(e, "Search parameters", "mismatch", /search_params\.txt$/);
        assert.match((e as Error).message, /to_prepfold_sigma/);
        return true;
      },
    );
  });

  it("blob diagnostics check what they pass through", () => {
    const dir = scratch.sub("blobs");
    const empty = path.join(dir, `${BASE}_rfifind.png`);
    fs.writeFileSync(empty, "");
    assert.throws(
      () => blobDiagnostic("RFIfind png", empty),
      (e) => assertDiagnosticError(e, "RFIfind png", "garbled", /rfifind\.png$/),
    );
    const notGz = path.join(dir, `${BASE}.accelcands.report.gz`);
    fs.writeFileSync(notGz, syntheticBytes("a report that was never gzipped"));
    assert.throws(
      () => blobDiagnostic("Sifting report", notGz),
      (e) => assertDiagnosticError(e, "Sifting report", "garbled", /report\.gz$/),
    );
    const gz = path.join(dir, "ok.accelcands.report.gz");
    fs.writeFileSync(gz, zlib.gzipSync(syntheticBytes("the sifting report")));
    const d = blobDiagnostic("Sifting report", gz);
    assert.equal(d.text, syntheticBytes("the sifting report").toString());
    assert.equal(d.file, gz);
  });

  it("the inactive cal-row diagnostics from *_calrows.txt", () => {
    const dir = scratch.sub("calrows");
    // Written by our own cal-row removal (PALFA's log format), so test text is fine here.
    const file = path.join(dir, "p2030.20230225.G037.00-00.10.C.b0.00000_calrows.txt");
    fs.writeFileSync(file, "test log of cal-row removal\nTotal number of rows removed: 9\n");
    const ds = calRowsDiagnostics(file);
    assert.deepEqual(
      ds.map((d) => [d.name, d.value]),
      [
        ["Cal removal summary", undefined],
        ["Num cal rows removed", 9],
      ],
    );
    fs.writeFileSync(file, "test log of cal-row removal, cut short\n");
    assert.throws(
      () => calRowsDiagnostics(file),
      (e) => assertDiagnosticError(e, "Num cal rows removed", "garbled", /_calrows\.txt$/),
    );
  });
});

describe("search-results/diagnostics: allDiagnostics", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("computes all 18 from a complete results dir", () => {
    const dir = scratch.sub("complete");
    populateResults(dir);
    const all = allDiagnostics(dir, params);
    assert.deepEqual(all.errors, []);
    assert.equal(all.complete, true);
    assert.deepEqual(all.skipped, []);
    assert.deepEqual(
      all.map((d) => d.name),
      PALFA_NAMES,
    );
    for (const d of all) {
      assert.equal(d.kind, DIAGNOSTIC_INFO[d.name].kind, d.name);
      assert.equal(d.description, DIAGNOSTIC_INFO[d.name].description, d.name);
      if (d.kind === "float") assert.equal(typeof d.value, "number", d.name);
      else assert.ok(d.file && fs.existsSync(d.file), d.name);
    }
    const value = (n: string) => byName(all, n)!.value;
    assert.equal(value("RFI mask percentage"), 0.74);
    assert.equal(value("Num cands folded"), 2);
    assert.equal(value("Num cands produced"), 32);
    assert.equal(value("Min sigma folded"), 15.97);
    assert.equal(value("Num cands above threshold"), 19);
    assert.equal(value("Sigma threshold"), 6);
    assert.equal(value("Max cands allowed to fold"), 100);
    assert.equal(value("Percent zapped below 1 Hz"), 0);
    const file = (n: string) => path.basename(byName(all, n)!.file!);
    assert.equal(file("RFIfind png"), `${BASE}_rfifind.png`);
    assert.equal(file("Periodicty summary plot"), `${BASE}.accelcands.summary.png`);
    assert.equal(file("Rejected cands plot"), `${BASE}.accelcands.rejects.png`);
    assert.equal(file("Sifting summary"), `${BASE}.accelcands.summary`);
    assert.equal(file("Sifting report"), `${BASE}.accelcands.report.gz`);
    assert.equal(file("Zaplist used"), `${BASE}.zaplist`);
    assert.equal(file("Search parameters"), SEARCH_PARAMS_FILE);
    assert.equal(byName(all, "Sifting report")!.text, syntheticBytes("the sifting report").toString());
    // The plot's bytes pass through untouched.
    assert.deepEqual(fs.readFileSync(byName(all, "RFIfind png")!.file!), syntheticBytes(`${BASE}_rfifind.png`));
  });

  it("names each diagnostic that a missing, ambiguous or garbled file breaks", () => {
    const dir = scratch.sub("broken");
    populateResults(dir);
    fs.rmSync(path.join(dir, `${BASE}_rfifind.png`));
    // A second zaplist: PALFA's "Wrong number of zaplists found (2)".
    fs.copyFileSync(fixture(`${BASE}.zaplist`), path.join(dir, "other.zaplist"));
    // The sifting report was never gzipped.
    fs.writeFileSync(path.join(dir, `${BASE}.accelcands.report.gz`), syntheticBytes("the sifting report, not gzipped"));
    const all = allDiagnostics(dir, params);
    assert.equal(all.complete, false);
    const problems = all.errors.map((e) => [e.diagnostic, e.problem]);
    assert.deepEqual(problems, [
      ["RFIfind png", "missing"],
      ["Sifting report", "garbled"],
      ["Zaplist used", "ambiguous"],
      ["Percent zapped total", "ambiguous"],
      ["Percent zapped below 10 Hz", "ambiguous"],
      ["Percent zapped below 1 Hz", "ambiguous"],
    ]);
    assert.ok(all.errors.every((e) => e instanceof DiagnosticError));
    assert.match(all.errors[0]!.file, /\*rfifind\.png$/);
    assert.match(all.errors[2]!.message, /2 files match/);
    // Everything else is still computed; every name is accounted for exactly once.
    assert.equal(all.length + all.skipped.length + all.errors.length, 18);
    assert.equal(byName(all, "Num cands produced")!.value, 32);
  });

  it("skips Min sigma folded (not an error) when nothing was folded", () => {
    const dir = scratch.sub("nofold");
    populateResults(dir);
    for (const n of fs.readdirSync(dir)) if (n.endsWith(".pfd.png")) fs.rmSync(path.join(dir, n));
    const all = allDiagnostics(dir, params);
    assert.equal(all.complete, true);
    assert.deepEqual(all.skipped, [{ name: "Min sigma folded", reason: "No candidates folded." }]);
    assert.equal(all.length, 17);
    assert.equal(byName(all, "Num cands folded")!.value, 0);
  });

  it("reports a garbled candidate list under every diagnostic made from it", () => {
    const dir = scratch.sub("badcands");
    populateResults(dir);
    const f = path.join(dir, `${BASE}.accelcands`);
    fs.writeFileSync(f, fs.readFileSync(f, "utf8").replace("59.47", "59.4.7"));
    const all = allDiagnostics(dir, params);
    assert.deepEqual(
      all.errors.map((e) => [e.diagnostic, e.problem]),
      [
        ["Num cands produced", "garbled"],
        ["Min sigma folded", "garbled"],
        ["Num cands above threshold", "garbled"],
      ],
    );
    // The list itself is still passed through as text.
    assert.ok(byName(all, "Accelcands list"));
  });
});
