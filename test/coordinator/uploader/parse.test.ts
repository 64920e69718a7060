// The uploader's parts without a server: reading search_params.txt back, header
// coordinates, the candidate/fold cross-checks on real fixture files, the error
// classification and retry policy, and the SQL helpers.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { searchParamsSchema } from "../../../shared/config/search-params";
import { formatSearchParams, paramsHash } from "../../../shared/results/search-params-file";
import {
  DbUnavailable,
  RESULTS_MIGRATIONS,
  UploadError,
  classifyDbError,
  equatorialToGalactic,
  frequencyFromPeriod,
  openResultsDb,
  parseCandidateAttributes,
  parseDecDegrees,
  parsePyLiteral,
  parseRaHours,
  parseResultsDir,
  parseSearchParamsText,
  resultsDbConfigFrom,
  sqlFor,
  toPgPlaceholders,
  upload,
  withDbRetry,
} from "../../../coordinator/uploader";
import { rowCounts } from "./backends";
import { BASE, BEAM, CAND1_PFD, CAND5_PFD, type BuiltResults, buildResultsDir, copyDir, refreshManifest, rewriteTarball } from "./results-dir";

function uploadError(errorClass: string, pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof UploadError, `expected an UploadError, got ${String(e)}`);
    assert.equal(e.errorClass, errorClass, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

describe("uploader/search_params.txt", () => {
  it("reads Python literals as pyRepr writes them", () => {
    assert.deepEqual(parsePyLiteral("[1, 2.5, -3e-05, 'a\\'b', \"it's\", None, True, False]"), [1, 2.5, -3e-5, "a'b", "it's", null, true, false]);
    assert.deepEqual(parsePyLiteral("{'lodm': 0.0, 'nsub': 96}"), { lodm: 0, nsub: 96 });
    assert.deepEqual(parsePyLiteral("'\\x07\\t\\\\'"), "\u0007\t\\");
    assert.equal(parsePyLiteral("inf"), Infinity);
    assert.throws(() => parsePyLiteral("[1, 2"));
    assert.throws(() => parsePyLiteral("os.system('x')"));
  });

  it("reads the file back into the same parameters (same hash), and refuses anything else", () => {
    const params = searchParamsSchema.parse({
      max_cands_to_fold: 7,
      ddplan_source: "explicit",
      ddplan: [{ lodm: 0, dmstep: 0.1, dms_per_call: 76, calls: 28, nsub: 96, downsamp: 1 }],
    });
    const text = formatSearchParams(params);
    const back = parseSearchParamsText(text, "search_params.txt");
    assert.equal(paramsHash(back), paramsHash(params));
    assert.equal(back.max_cands_to_fold, 7);
    assert.throws(() => parseSearchParamsText(text.replace("= 7\n", "= 7.5\n"), "search_params.txt"), uploadError("parse", /max_cands_to_fold/));
    assert.throws(() => parseSearchParamsText(text.replace("= 7\n", "= 7.0\n"), "search_params.txt"), uploadError("parse", /read back/));
    assert.throws(() => parseSearchParamsText(text + "bogus = 1\n", "search_params.txt"), uploadError("parse", /bogus/));
    assert.throws(() => parseSearchParamsText(text.replace("= 7\n", "7\n"), "search_params.txt"), uploadError("parse", /key = value/));
  });
});

describe("uploader/header coordinates", () => {
  it("parses sexagesimal RA and DEC", () => {
    assert.equal(parseRaHours("19:03:05.8"), (19 + 3 / 60 + 5.8 / 3600) * 15);
    assert.equal(parseDecDegrees("+03:27:19.0"), 3 + 27 / 60 + 19 / 3600);
    assert.equal(parseDecDegrees("-00:30:00"), -0.5);
    for (const bad of ["", "25:00:00", "19:61:00", "abc"]) assert.ok(Number.isNaN(parseRaHours(bad)), bad);
    assert.ok(Number.isNaN(parseDecDegrees("+91:00:00")));
  });

  it("converts J2000 to galactic coordinates", () => {
    // The galactic centre and north pole as the IAU defines them (J2000).
    const gc = equatorialToGalactic(266.40499, -28.93617);
    assert.ok(Math.min(gc.l, 360 - gc.l) < 1e-4 && Math.abs(gc.b) < 1e-4, JSON.stringify(gc));
    assert.ok(Math.abs(equatorialToGalactic(192.85948, 27.12825).b - 90) < 1e-4);
  });
});

describe("uploader/candidates and folds (real fixture files)", function () {
  this.timeout(30_000);
  let scratch: string;
  let good: BuiltResults;
  before(async () => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bf-parse-test-"));
    good = await buildResultsDir(path.join(scratch, "good"));
  });
  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("parses prepfold_sigma lines and p_to_f", () => {
    const m = parseCandidateAttributes("a.pfd prepfold_sigma=56.7\nb.pfd prepfold_sigma=Infinity\n", "x");
    assert.deepEqual(
      [...m],
      [
        ["a.pfd", 56.7],
        ["b.pfd", Infinity],
      ],
    );
    assert.throws(() => parseCandidateAttributes("a.pfd sigma=1\n", "x"), uploadError("parse", /prepfold_sigma/));
    assert.throws(() => parseCandidateAttributes("a.pfd prepfold_sigma=1\na.pfd prepfold_sigma=2\n", "x"), uploadError("mismatch", /twice/));
    assert.deepEqual(frequencyFromPeriod(2, 1e-15), { f: 500, fdot: -1e-15 / 4e-6 });
  });

  it("refuses a fold of another accelsearch candidate under this candidate's name", async () => {
    const dir = copyDir(good.dir, path.join(scratch, "swapped"));
    await rewriteTarball(dir, `${BASE}_bestprof.tgz`, (m) => m.set(`${CAND1_PFD}.bestprof`, fs.readFileSync(path.join(BEAM, `${CAND5_PFD}.bestprof`))));
    await refreshManifest(dir);
    await assert.rejects(parseResultsDir(dir), uploadError("mismatch", /folded ACCEL_Cand_5, but .* lists beam_J1903_DM57\.00_ACCEL_0:1/));
  });

  it("refuses a prepfold_sigma that is not the .bestprof's", async () => {
    const dir = copyDir(good.dir, path.join(scratch, "sigma"));
    fs.writeFileSync(path.join(dir, "candidate_attributes.txt"), `${CAND1_PFD} prepfold_sigma=57.0\n`);
    await refreshManifest(dir);
    await assert.rejects(parseResultsDir(dir), uploadError("mismatch", /prepfold_sigma=57, but .* says 56\.7/));
  });

  it("refuses folds beyond the selection (a stray fold of candidate 5)", async () => {
    const dir = copyDir(good.dir, path.join(scratch, "stray"));
    await rewriteTarball(dir, `${BASE}_bestprof.tgz`, (m) => m.set(`${CAND5_PFD}.bestprof`, fs.readFileSync(path.join(BEAM, `${CAND5_PFD}.bestprof`))));
    await refreshManifest(dir);
    await assert.rejects(parseResultsDir(dir), uploadError("mismatch", /_bestprof\.tgz has .*Cand_5\.pfd, which .* does not select/));
  });

  it("refuses parameters other than the ones assigned", async () => {
    await assert.rejects(parseResultsDir(good.dir, { expectedParams: searchParamsSchema.parse({}) }), uploadError("mismatch", /not the parameters assigned/));
    assert.equal((await parseResultsDir(good.dir, { expectedParams: good.params })).base, BASE);
  });

  it("uploads a beam where nothing was folded: no candidates, 'Min sigma folded' skipped", async () => {
    // Nothing above the threshold: the agent folds nothing and writes empty fold tarballs.
    const dir = copyDir(good.dir, path.join(scratch, "none"));
    const params = fs.readFileSync(path.join(dir, "search_params.txt"), "utf8").replace(/^(to_prepfold_sigma\s+= )6\.0$/m, "$1100.0");
    fs.writeFileSync(path.join(dir, "search_params.txt"), params);
    for (const t of [`${BASE}_pfd.tgz`, `${BASE}_bestprof.tgz`]) await rewriteTarball(dir, t, (m) => m.clear());
    fs.rmSync(path.join(dir, `${CAND1_PFD}.png`));
    fs.writeFileSync(path.join(dir, "candidate_attributes.txt"), "");
    await refreshManifest(dir);
    const parsed = await parseResultsDir(dir);
    assert.deepEqual(parsed.candidates, []);
    assert.deepEqual(
      parsed.skippedDiagnostics.map((s) => s.name),
      ["Min sigma folded"],
    );
    assert.equal(parsed.diagnostics.length, 17);
    const db = await openResultsDb({ backend: "sqlite", file: path.join(scratch, "none.db") });
    try {
      assert.equal((await upload(db, parsed)).status, "uploaded");
      const counts = await rowCounts(db);
      assert.equal(counts.pdm_candidates, 0);
      assert.equal(counts.diagnostics, 17);
    } finally {
      await db.close();
    }
  });
});

describe("uploader/errors and retry", () => {
  const withCode = (code: string, extra: object = {}) => Object.assign(new Error(`driver error ${code}`), { code }, extra);

  it("classifies driver errors", () => {
    const unavailable = [
      withCode("57P01"), // admin shutdown, pg_terminate_backend
      withCode("57P03"),
      withCode("40001"), // serialization failure
      withCode("40P01"), // deadlock
      withCode("08006"),
      withCode("53300"),
      withCode("ECONNREFUSED"),
      withCode("ECONNRESET"),
      withCode("ENOENT", { syscall: "connect" }), // Unix socket of a stopped server
      withCode("SQLITE_BUSY"),
      withCode("SQLITE_BUSY_SNAPSHOT"),
      withCode("SQLITE_LOCKED"),
      new Error("Connection terminated unexpectedly"),
      new Error("Client has encountered a connection error and is not queryable"),
      new Error("wrapped", { cause: withCode("ECONNRESET") }),
      Object.assign(new AggregateError([withCode("ECONNREFUSED")], "connect")),
      new DbUnavailable("down"),
    ];
    for (const e of unavailable) assert.equal(classifyDbError(e), "DbUnavailable", `${(e as Error).message}`);
    const unexpected = [
      withCode("23505"), // unique violation
      withCode("42P01"), // undefined table
      withCode("08P01"), // protocol violation: a bug, not an outage
      withCode("ENOENT", { syscall: "open" }),
      withCode("SQLITE_CONSTRAINT_UNIQUE"),
      withCode("SQLITE_CORRUPT"),
      new TypeError("x is undefined"),
      "a string",
      null,
    ];
    for (const e of unexpected) assert.equal(classifyDbError(e), "Unexpected", String(e));
    assert.equal(classifyDbError(new UploadError("compare", "x")), "UploadError");
  });

  it("retries only DbUnavailable, with growing pauses", async () => {
    const waits: number[] = [];
    let calls = 0;
    const out = await withDbRetry(
      async () => {
        calls++;
        if (calls < 3) throw withCode("ECONNREFUSED");
        return "ok";
      },
      { initialMs: 100, sleep: async (ms) => void waits.push(ms) },
    );
    assert.equal(out, "ok");
    assert.equal(calls, 3);
    assert.equal(waits.length, 2);
    assert.ok(waits[0]! <= 100 && waits[1]! <= 200);

    calls = 0;
    await assert.rejects(
      withDbRetry(
        async () => {
          calls++;
          throw new UploadError("checksum", "x");
        },
        { sleep: async () => undefined },
      ),
      UploadError,
    );
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(
      withDbRetry(
        async () => {
          calls++;
          throw withCode("57P01");
        },
        { attempts: 3, sleep: async () => undefined },
      ),
      DbUnavailable,
    );
    assert.equal(calls, 3);
  });
});

describe("uploader/SQL helpers", () => {
  it("chooses the backend from one setting, SQLite under the data dir by default", () => {
    assert.deepEqual(resultsDbConfigFrom("/data"), { backend: "sqlite", file: "/data/results.db" });
    assert.deepEqual(resultsDbConfigFrom("/data", "postgresql://u@db/results"), { backend: "postgres", connectionString: "postgresql://u@db/results" });
    assert.deepEqual(resultsDbConfigFrom("/data", "sqlite:other.db"), { backend: "sqlite", file: "/data/other.db" });
    assert.deepEqual(resultsDbConfigFrom("/data", "/abs/r.db"), { backend: "sqlite", file: "/abs/r.db" });
    assert.throws(() => resultsDbConfigFrom("/data", "mysql://x"), /cannot use/);
  });

  it("numbers placeholders for PostgreSQL outside quoted text", () => {
    assert.equal(toPgPlaceholders("SELECT ? , '?' , \"a?\" WHERE x = ? AND y IN (?, ?)"), "SELECT $1 , '?' , \"a?\" WHERE x = $2 AND y IN ($3, $4)");
  });

  it("writes the schema once, with only the column types differing", () => {
    for (const m of RESULTS_MIGRATIONS) {
      const lite = sqlFor("sqlite", m.sql);
      const pg = sqlFor("postgres", m.sql);
      assert.ok(!/\{\{/.test(lite) && !/\{\{/.test(pg));
      assert.match(lite, /filedata\s+BLOB NOT NULL/);
      assert.match(pg, /filedata\s+BYTEA NOT NULL/);
      assert.match(pg, /timestamp_mjd\s+DOUBLE PRECISION NOT NULL/);
    }
    assert.throws(() => sqlFor("sqlite", "x {{NOPE}}"), /NOPE/);
  });
});
