// Beam grouping by file name (PALFA datafile.group_files / can_add_file).
// Pure functions: only names, no files. The Mock names are those of the real
// fixtures in test/fixtures/psrfits/; the others are made-up names.
import assert from "node:assert/strict";
import { BeamRuleError, classify, groupFiles, RejectedFile, rejection, type BeamRule } from "../../../coordinator/ingest/beams";

const S0 = "p2030.20230225.G037.00-00.10.C.b0s0g0.00000.fits";
const S1 = "p2030.20230225.G037.00-00.10.C.b0s1g0.00000.fits";
const COMBINED = "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits"; // combine_mocks' own output name
const MERGED_BEAM = "p2030.20230225.G037.00-00.10.C.b0.00000";

describe("ingest/beams: classify", () => {
  it("reads a split Mock half: source names with dots, merged beam name, member s0/s1", () => {
    assert.deepEqual(classify(S0, []), { kind: "mock", beam: MERGED_BEAM, member: "s0", members: ["s0", "s1"] });
    assert.deepEqual(classify(`/data/raw/${S1}`, []), { kind: "mock", beam: MERGED_BEAM, member: "s1", members: ["s0", "s1"] });
  });

  it("accepts PALFA's 4bit- prefix and gives the same beam", () => {
    const c = classify(`4bit-${S1}`, []);
    assert.equal(c.kind, "mock");
    assert.equal(c.beam, MERGED_BEAM);
    assert.equal(c.member, "s1");
  });

  it("reads merged Mock and WAPP names as single-file beams", () => {
    assert.deepEqual(classify(`${MERGED_BEAM}.fits`, []), { kind: "merged-mock", beam: MERGED_BEAM, member: null, members: [] });
    assert.deepEqual(classify("p2030_53478_41423_0123_G45.01+00.12_3.w4bit.fits", []), {
      kind: "wapp",
      beam: "p2030_53478_41423_0123_G45.01+00.12_3",
      member: null,
      members: [],
    });
  });

  it("falls back to one file = one beam, named after the file without its extension", () => {
    assert.deepEqual(classify(COMBINED, []), { kind: "default", beam: "p2030.20230225.G037.00-00.10.C.b0g0_0001", member: null, members: [] });
    assert.deepEqual(classify("/x/obs42.fil", []), { kind: "default", beam: "obs42", member: null, members: [] });
    assert.equal(classify("README", []).beam, "README");
    // Almost-Mock names are not Mock: wrong scan width, s2, missing g0.
    assert.equal(classify("p2030.20230225.G037.b0s0g0.0000.fits", []).kind, "default");
    assert.equal(classify("p2030.20230225.G037.b0s2g0.00000.fits", []).kind, "default");
    assert.equal(classify("p2030.20230225.G037.b0s0.00000.fits", []).kind, "default");
  });

  it("rejects beam 7 of every built-in kind with a clear reason, as PALFA's can_add_file", () => {
    for (const name of [
      "4bit-p2030.20230225.G037.00-00.10.C.b7s0g0.00000.fits",
      "p2030.20230225.G037.00-00.10.C.b7s1g0.00000.fits",
      "p2030.20230225.G037.00-00.10.C.b7.00000.fits",
      "p2030_53478_41423_0123_G45.01+00.12_7.w4bit.fits",
    ]) {
      assert.throws(
        () => classify(name, []),
        (err: unknown) => {
          assert.ok(err instanceof RejectedFile);
          assert.equal(err.fileName, name);
          assert.match(err.reason, /beam 7/);
          assert.match(err.message, new RegExp(`^${name.replace(/[.+]/g, "\\$&")}: `));
          return true;
        },
      );
      assert.match(rejection(name, []) ?? "", /beam 7 is not an ALFA beam/);
    }
    assert.equal(rejection(S0, []), null);
    // Beam 6 is a real ALFA beam.
    assert.equal(classify("p2030.20230225.G037.00-00.10.C.b6s0g0.00000.fits", []).beam, "p2030.20230225.G037.00-00.10.C.b6.00000");
  });

  it("tries configured rules first; a rule with members names the member values", () => {
    const rules: BeamRule[] = [
      { name: "halves", regex: "^(?<beam>obs\\d+)_part(?<member>[a-z])\\.dat$", members: ["a", "b"] },
      { name: "whole-fits", regex: "^(?<beam>p2030\\..*)\\.fits$", members: [] },
    ];
    assert.deepEqual(classify("obs17_partb.dat", rules), { kind: "halves", beam: "obs17", member: "b", members: ["a", "b"] });
    // The second rule takes the Mock names away from the built-in kind.
    assert.deepEqual(classify(S0, rules), { kind: "whole-fits", beam: S0.slice(0, -5), member: null, members: [] });
    // A member value the rule does not list is refused.
    assert.throws(
      () => classify("obs17_partc.dat", rules),
      (err: unknown) => err instanceof RejectedFile && /member "c" is not one of \["a","b"\]/.test(err.reason),
    );
    // Names no rule matches still reach the built-ins and the default.
    assert.equal(classify("p2030_53478_41423_0123_G45.01+00.12_3.w4bit.fits", rules).kind, "wapp");
    assert.equal(classify("other.dat", rules).kind, "default");
  });

  it("refuses unusable rules as config errors", () => {
    assert.throws(
      () => classify("x", [{ name: "nobeam", regex: "^(?<b>x)$", members: [] }]),
      (err: unknown) => err instanceof BeamRuleError && /no \(\?<beam>…\) group/.test(err.message),
    );
    assert.throws(
      () => classify("x", [{ name: "nomember", regex: "^(?<beam>x)$", members: ["a", "b"] }]),
      /members \["a","b"\] are given but the regex has no \(\?<member>…\) group/,
    );
    assert.throws(() => classify("x", [{ name: "bad", regex: "(", members: [] }]), /beams.rules 'bad': not a valid regular expression/);
  });
});

describe("ingest/beams: groupFiles", () => {
  it("pairs the real fixture halves into one beam with the merged name, s0 before s1", () => {
    const r = groupFiles(
      [
        { id: 4, filename: `/d/${S1}` },
        { id: 9, filename: `/d/${S0}` },
      ],
      [],
    );
    assert.deepEqual(r.complete, [{ beam: MERGED_BEAM, kind: "mock", fileIds: [9, 4] }]);
    assert.deepEqual(r.incomplete, []);
    assert.deepEqual(r.rejected, []);
  });

  it("keeps a lone half waiting, saying what it has and what is missing", () => {
    const r = groupFiles([{ id: 1, filename: S0 }], []);
    assert.deepEqual(r.complete, []);
    assert.deepEqual(r.incomplete, [{ beam: MERGED_BEAM, kind: "mock", have: ["s0"], missing: ["s1"], fileIds: [1] }]);
  });

  it("pairs only halves whose other fields all match", () => {
    const r = groupFiles(
      [
        { id: 1, filename: S0 },
        { id: 2, filename: "p2030.20230225.G037.00-00.10.C.b0s1g0.00001.fits" }, // other scan
        { id: 3, filename: "p2030.20230225.G037.00-00.10.C.b1s1g0.00000.fits" }, // other beam
      ],
      [],
    );
    assert.equal(r.complete.length, 0);
    assert.deepEqual(
      r.incomplete.map((g) => [g.beam, g.missing]),
      [
        [MERGED_BEAM, ["s1"]],
        ["p2030.20230225.G037.00-00.10.C.b0.00001", ["s0"]],
        ["p2030.20230225.G037.00-00.10.C.b1.00000", ["s0"]],
      ],
    );
  });

  it("makes each WAPP, merged Mock and default file its own beam", () => {
    const r = groupFiles(
      [
        { id: 1, filename: "p2030_53478_41423_0123_G45.01+00.12_3.w4bit.fits" },
        { id: 2, filename: "p2030_53478_41423_0123_G45.01+00.12_4.w4bit.fits" },
        { id: 3, filename: `${MERGED_BEAM}.fits` },
        { id: 4, filename: COMBINED },
      ],
      [],
    );
    assert.deepEqual(r.complete, [
      { beam: "p2030_53478_41423_0123_G45.01+00.12_3", kind: "wapp", fileIds: [1] },
      { beam: "p2030_53478_41423_0123_G45.01+00.12_4", kind: "wapp", fileIds: [2] },
      { beam: MERGED_BEAM, kind: "merged-mock", fileIds: [3] },
      { beam: "p2030.20230225.G037.00-00.10.C.b0g0_0001", kind: "default", fileIds: [4] },
    ]);
    assert.deepEqual(r.incomplete, []);
  });

  it("completes a configured group only when every member is there", () => {
    const rules: BeamRule[] = [{ name: "trio", regex: "^(?<beam>scan\\d+)\\.(?<member>lo|mid|hi)\\.raw$", members: ["lo", "mid", "hi"] }];
    const two = groupFiles(
      [
        { id: 1, filename: "scan7.hi.raw" },
        { id: 2, filename: "scan7.lo.raw" },
      ],
      rules,
    );
    assert.deepEqual(two.incomplete, [{ beam: "scan7", kind: "trio", have: ["lo", "hi"], missing: ["mid"], fileIds: [2, 1] }]);
    const three = groupFiles(
      [
        { id: 1, filename: "scan7.hi.raw" },
        { id: 2, filename: "scan7.lo.raw" },
        { id: 3, filename: "scan7.mid.raw" },
      ],
      rules,
    );
    assert.deepEqual(three.complete, [{ beam: "scan7", kind: "trio", fileIds: [2, 3, 1] }]);
  });

  it("leaves beam-7 files and second copies of a member out, with the reason", () => {
    const r = groupFiles(
      [
        { id: 1, filename: S0 },
        { id: 2, filename: `4bit-${S0}` },
        { id: 3, filename: S1 },
        { id: 4, filename: "p2030.20230225.G037.00-00.10.C.b7s0g0.00000.fits" },
      ],
      [],
    );
    assert.deepEqual(r.complete, [{ beam: MERGED_BEAM, kind: "mock", fileIds: [1, 3] }]);
    assert.deepEqual(
      r.rejected.map((x) => x.id),
      [2, 4],
    );
    assert.match(r.rejected[0].reason, /already has its s0 file \(file id 1\)/);
    assert.match(r.rejected[1].reason, /beam 7/);
  });
});
