import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { readPsrfitsHeader } from "../../../../shared/psrfits";
import { PALFA_MOCK_PLAN, PALFA_WAPP_PLAN, chooseN, expandPasses, formatDm, planProblems } from "../../../../agent/search/plan";
import { BEAM_DIR, COMBINED, planFixture } from "./helpers";

// The fixture beam's plan (beam_J1903_DDplan.txt) and its size, 299 rows of 2048.
const BEAM_PLAN = [{ lodm: 0, dmstep: 1, dms_per_call: 26, calls: 6, nsub: 32, downsamp: 8 }];
const BEAM_N = 299 * 2048;

describe("search/plan/choose-n: psr_utils.choose_N", () => {
  it("gives 76800 for the beam's 612352 spectra downsampled by 8, as prepsubband was run", () => {
    const out = planFixture("beam_J1903_lodm52.00.prepout");
    assert.match(out, /Total points \(N\) = 612352/);
    const written = Number(/Data points written:\s+(\d+)/.exec(out)?.[1]);
    const padding = Number(/Padding points written:\s+(\d+)/.exec(out)?.[1]);
    assert.equal(chooseN(Math.floor(612352 / 8)), 76800);
    assert.equal(written + padding, 76800);
  });

  it("is 0 below 10000, keeps an already good length, and takes the nearer power of two", () => {
    assert.equal(chooseN(0), 0);
    assert.equal(chooseN(9999), 0);
    assert.equal(chooseN(10000), 10000);
    assert.equal(chooseN(10080), 10080); // 1008 * 10
    assert.equal(chooseN(10081), 10240); // next factor 1024 -> 10240 < 16384
    assert.equal(chooseN(2 ** 20), 2 ** 20); // 1056000 > 1048576
    assert.equal(chooseN(612352), 614400);
    assert.equal(chooseN(99001), 100000); // first digits past 9856: 10000 * 10
    assert.equal(chooseN(131073), 134400);
    assert.throws(() => chooseN(1.5));
  });
});

describe("search/plan/passes: PALFA's prepsubband passes", () => {
  it("expands the fixture beam's plan into the six passes that were run (lodm 0, 26, ..., 130)", () => {
    const passes = expandPasses(BEAM_PLAN, BEAM_N);
    assert.equal(passes.length, 6);
    assert.deepEqual(
      passes.map((p) => p.lodmStr),
      ["0.00", "26.00", "52.00", "78.00", "104.00", "130.00"],
    );
    assert.deepEqual(
      passes.map((p) => p.subDmStr),
      ["13.00", "39.00", "65.00", "91.00", "117.00", "143.00"],
    );
    for (const p of passes) {
      assert.deepEqual([p.dmstepStr, p.numDms, p.downsamp, p.nsub, p.numout], ["1.00", 26, 8, 32, 76800]);
    }
    assert.deepEqual(
      passes.map((p) => p.zeroDm),
      [true, false, false, false, false, false],
    );
  });

  it("names the DM trials as prepsubband did (the lodm 52 pass's .dat files)", () => {
    const wrote = [...planFixture("beam_J1903_lodm52.00.prepout").matchAll(/'beam_J1903_DM([0-9.]+)\.dat'/g)].map((m) => m[1]);
    assert.equal(wrote.length, 26);
    assert.deepEqual(expandPasses(BEAM_PLAN, BEAM_N)[2].dms, wrote);
  });

  it("covers exactly the 156 DM trials the search produced (all_dms/)", () => {
    const made = new Set(
      fs
        .readdirSync(path.join(BEAM_DIR, "all_dms"))
        .map((n) => /^beam_J1903_DM([0-9.]+)\.inf$/.exec(n)?.[1])
        .filter((x): x is string => x !== undefined),
    );
    const planned = expandPasses(BEAM_PLAN, BEAM_N).flatMap((p) => p.dms);
    assert.equal(made.size, 156);
    assert.deepEqual(new Set(planned), made);
  });

  it("expands V-2's Mock plan: 85 passes, 6276 distinct DMs from 0.00 to 5087.40", () => {
    const n = 2048 * 1000; // any length; numout depends on it per row
    const passes = expandPasses(PALFA_MOCK_PLAN, n);
    assert.equal(passes.length, 85);
    const dms = passes.flatMap((p) => p.dms);
    assert.equal(dms.length, 6276);
    assert.equal(new Set(dms).size, 6276);
    assert.equal(dms[0], "0.00");
    assert.equal(dms[3], "0.30"); // 3*0.1 = 0.30000000000000004, printed as PRESTO does
    assert.equal(dms[dms.length - 1], "5087.40");
    // DMs ascend with no gaps larger than the row's step.
    for (let i = 1; i < dms.length; i++) assert.ok(Number(dms[i]) > Number(dms[i - 1]));
    assert.deepEqual([passes[0].subDmStr, passes[1].lodmStr], ["3.80", "7.60"]);
    assert.deepEqual([passes[27].lodmStr, passes[27].dms[75]], ["205.20", "212.70"]);
    assert.deepEqual([passes[28].step, passes[28].call, passes[28].lodmStr, passes[28].subDmStr], [1, 0, "212.80", "222.40"]);
    assert.equal(passes.filter((p) => p.zeroDm).length, 1);
    assert.equal(passes[0].zeroDm, true);
    // -numout per row: choose_N(N // downsamp).
    assert.equal(passes[0].numout, chooseN(n));
    assert.equal(passes[84].numout, chooseN(Math.floor(n / 30)));
    assert.deepEqual([passes[84].downsamp, passes[84].nsub, passes[84].index], [30, 96, 84]);
  });

  it("takes a chosen plan and a header as well as rows and a count", () => {
    const h = readPsrfitsHeader(COMBINED);
    const a = expandPasses({ steps: PALFA_WAPP_PLAN }, h);
    const b = expandPasses(PALFA_WAPP_PLAN, h.samples);
    assert.deepEqual(a, b);
    assert.equal(a.length, 15);
    assert.equal(a[0].numout, chooseN(16384));
  });

  it("formats DMs with Python's %.2f (half to even on the binary value)", () => {
    assert.equal(formatDm(0.125), "0.12");
    assert.equal(formatDm(0.375), "0.38");
    assert.equal(formatDm(212.8), "212.80");
    assert.equal(formatDm(1826.4 + 71 * 2.0), "1968.40");
  });

  it("reports what prepsubband would refuse: downsamp not dividing NSBLK, nsub above the channels", () => {
    const h = readPsrfitsHeader(COMBINED); // NSBLK 2048, 66 channels
    const problems = planProblems(PALFA_MOCK_PLAN, h);
    const downsampProblems = problems.filter((p) => /does not divide the 2048 spectra per row/.test(p));
    assert.deepEqual(
      downsampProblems.map((p) => Number(/downsample (\d+)/.exec(p)?.[1])),
      [3, 5, 6, 10, 15, 30],
    );
    assert.equal(problems.filter((p) => /96 subbands but only 66 channels/.test(p)).length, 8);
    assert.deepEqual(planProblems(BEAM_PLAN, { subint: { nsblk: 2048, nchan: 128 } }), []);
  });
});
