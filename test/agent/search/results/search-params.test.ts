import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { searchParamsSchema } from "../../../../shared/config/search-params";
import {
  SEARCH_PARAMS_FILE,
  canonicalJson,
  formatSearchParams,
  paramsHash,
  pyFloatRepr,
  pyRepr,
  pyStrRepr,
  writeSearchParamsFile,
} from "../../../../shared/results";
import { Scratch } from "./helpers";

const defaults = () => searchParamsSchema.parse({});

describe("search-results/pyrepr", () => {
  it("prints floats as Python's repr does", () => {
    // Each right-hand side is what CPython 2.7/3.x prints for repr(float(x)).
    const cases: [number, string][] = [
      [2 ** 15 * 0.000064, "2.097152"],
      [6, "6.0"],
      [0.0005, "0.0005"],
      [0.0001, "0.0001"],
      [0.00001, "1e-05"],
      [1.5e-7, "1.5e-07"],
      [0.1, "0.1"],
      [1.1, "1.1"],
      [0.1 + 0.2, "0.30000000000000004"],
      [100, "100.0"],
      [1e15, "1000000000000000.0"],
      [1e16, "1e+16"],
      [1.2345678901234568e17, "1.2345678901234568e+17"],
      [-2.5, "-2.5"],
      [-0, "-0.0"],
      [0, "0.0"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [Infinity, "inf"],
      [-Infinity, "-inf"],
      [NaN, "nan"],
    ];
    for (const [x, want] of cases) assert.equal(pyFloatRepr(x), want, `repr(${x})`);
  });

  it("prints strings, booleans, None, lists and dicts as Python's repr does", () => {
    assert.equal(pyStrRepr("-psrfits"), "'-psrfits'");
    assert.equal(pyStrRepr("it's"), `"it's"`);
    assert.equal(pyStrRepr(`it's "x"`), `'it\\'s "x"'`);
    assert.equal(pyStrRepr("a\\b\n\t\x01"), "'a\\\\b\\n\\t\\x01'");
    assert.equal(pyRepr(true), "True");
    assert.equal(pyRepr(false), "False");
    assert.equal(pyRepr(null), "None");
    assert.equal(pyRepr([]), "[]");
    assert.equal(pyRepr([1, 2.5]), "[1.0, 2.5]");
    // With the schema, .int() fields are ints and the rest floats, inside lists too.
    const ddplan = searchParamsSchema.shape.ddplan;
    const step = { lodm: 0, dmstep: 0.1, dms_per_call: 76, calls: 28, nsub: 96, downsamp: 1 };
    assert.equal(pyRepr([step], ddplan), "[{'lodm': 0.0, 'dmstep': 0.1, 'dms_per_call': 76, 'calls': 28, 'nsub': 96, 'downsamp': 1}]");
  });
});

describe("search-results/search_params.txt", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  // PALFA: paramfn.write("%-25s = %r\n" % (key, value)); the values below are written by
  // hand from Python semantics (int vs float, True/False, quoted str).
  const py = (key: string, repr: string) => `${key.padEnd(25)} = ${repr}`;
  const EXPECTED_DEFAULT_LINES = [
    py("ddplan_source", "'auto'"),
    py("ddplan", "[]"),
    py("derived_lodm", "0.0"),
    py("derived_hidm", "1000.0"),
    py("derived_resolution_ms", "0.1"),
    py("derived_nsub", "96"),
    py("use_subbands", "True"),
    py("fold_rawdata", "True"),
    py("use_zerodm", "False"),
    py("datatype_flag", "'-psrfits'"),
    py("rfifind_chunk_time", "2.097152"),
    py("singlepulse_threshold", "5.0"),
    py("singlepulse_plot_SNR", "6.0"),
    py("singlepulse_maxwidth", "0.1"),
    py("to_prepfold_sigma", "6.0"),
    py("max_cands_to_fold", "100"),
    py("numhits_to_fold", "2"),
    py("low_DM_cutoff", "2.0"),
    py("lo_accel_numharm", "16"),
    py("lo_accel_sigma", "2.0"),
    py("lo_accel_zmax", "0"),
    py("lo_accel_flo", "2.0"),
    py("hi_accel_numharm", "8"),
    py("hi_accel_sigma", "3.0"),
    py("hi_accel_zmax", "50"),
    py("hi_accel_flo", "1.0"),
    py("accel_locpow", "False"),
    py("low_T_to_search", "20.0"),
    // Unset in our config; PALFA's file held the derived to_prepfold_sigma - 1.0.
    py("sifting_sigma_threshold", "5.0"),
    py("sifting_c_pow_threshold", "100.0"),
    py("sifting_r_err", "1.1"),
    py("sifting_short_period", "0.0005"),
    py("sifting_long_period", "15.0"),
    py("sifting_harm_pow_cutoff", "8.0"),
    py("calrow_threshold_mads", "50.0"),
  ];

  it("writes PALFA's `%-25s = %r` line for every parameter (defaults)", () => {
    const text = formatSearchParams(defaults());
    assert.ok(text.endsWith("\n"));
    const lines = text.slice(0, -1).split("\n");
    // The padding, spelled out once: "rfifind_chunk_time" + 7 spaces fills 25 columns.
    assert.ok(lines.includes("rfifind_chunk_time        = 2.097152"));
    assert.ok(lines.includes("use_subbands              = True"));
    for (const want of EXPECTED_DEFAULT_LINES) assert.ok(lines.includes(want), `missing line ${JSON.stringify(want)}`);
    // Exactly one line per schema key, in the schema's order.
    const keys = lines.map((l) => l.split(" = ")[0]!.trimEnd());
    assert.deepEqual(keys, Object.keys(searchParamsSchema.shape));
  });

  it("writes search_params.txt, and only under that name", () => {
    const dir = scratch.sub("write");
    const file = writeSearchParamsFile(path.join(dir, SEARCH_PARAMS_FILE), defaults());
    assert.equal(fs.readFileSync(file, "utf8"), formatSearchParams(defaults()));
    assert.throws(() => writeSearchParamsFile(path.join(dir, "params.txt"), defaults()), RangeError);
  });

  it("reads back in Python as the same values and types (when python3 is installed)", function () {
    let python = true;
    try {
      execFileSync("python3", ["-c", "pass"]);
    } catch {
      python = false;
    }
    if (!python) this.skip();
    const p = searchParamsSchema.parse({
      to_prepfold_sigma: 6.5,
      ddplan_source: "explicit",
      ddplan: [{ lodm: 0, dmstep: 0.1, dms_per_call: 76, calls: 28, nsub: 96, downsamp: 1 }],
    });
    const file = writeSearchParamsFile(path.join(scratch.sub("python"), SEARCH_PARAMS_FILE), p);
    // The uploader's get_search_params: execfile(paramfn, tmp, params).
    const script = `import json,sys\nparams = {}\nexec(open(sys.argv[1]).read(), {}, params)\nprint(json.dumps({k: [v, type(v).__name__] for k, v in params.items()}))`;
    const back = JSON.parse(execFileSync("python3", ["-c", script, file], { encoding: "utf8" })) as Record<string, [unknown, string]>;
    assert.deepEqual(back.rfifind_chunk_time, [2.097152, "float"]);
    assert.deepEqual(back.to_prepfold_sigma, [6.5, "float"]);
    assert.deepEqual(back.max_cands_to_fold, [100, "int"]);
    assert.deepEqual(back.use_subbands, [true, "bool"]);
    assert.deepEqual(back.datatype_flag, ["-psrfits", "str"]);
    assert.deepEqual(back.sifting_sigma_threshold, [5.5, "float"]);
    assert.deepEqual(back.ddplan, [[{ lodm: 0, dmstep: 0.1, dms_per_call: 76, calls: 28, nsub: 96, downsamp: 1 }], "list"]);
    for (const [k, v] of Object.entries(p)) {
      if (v !== undefined) assert.deepEqual(back[k]![0], v, k);
    }
  });
});

describe("search-results/paramsHash", () => {
  it("is the SHA-256 of the sorted-key JSON of the parameters as searched", () => {
    const p = defaults();
    const expected = crypto
      .createHash("sha256")
      .update(canonicalJson({ ...p, sifting_sigma_threshold: 5 }))
      .digest("hex");
    assert.equal(paramsHash(p), expected);
    assert.match(paramsHash(p), /^[0-9a-f]{64}$/);
  });

  it("ignores key order and an explicit threshold equal to the derived one; sees any change", () => {
    const p = defaults();
    const reordered = Object.fromEntries(Object.entries(p).reverse()) as typeof p;
    assert.equal(paramsHash(reordered), paramsHash(p));
    assert.equal(paramsHash({ ...p, sifting_sigma_threshold: 5.0 }), paramsHash(p));
    assert.notEqual(paramsHash({ ...p, sifting_sigma_threshold: 4.0 }), paramsHash(p));
    assert.notEqual(paramsHash({ ...p, max_cands_to_fold: 99 }), paramsHash(p));
    assert.notEqual(paramsHash({ ...p, use_subbands: false }), paramsHash(p));
  });

  it("encodes canonical JSON with sorted keys at every level", () => {
    assert.equal(canonicalJson({ b: 1, a: [{ d: true, c: "x" }], u: undefined }), '{"a":[{"c":"x","d":true}],"b":1}');
    assert.throws(() => canonicalJson({ x: NaN }), RangeError);
  });
});
