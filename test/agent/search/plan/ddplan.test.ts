import assert from "node:assert/strict";
import { searchParamsSchema } from "../../../../shared/config/search-params";
import { readPsrfitsHeader } from "../../../../shared/psrfits";
import {
  PALFA_MOCK_PLAN,
  PALFA_WAPP_PLAN,
  PlanError,
  type PlanHeader,
  chooseDDplan,
  chooseDownsamps,
  derivePlan,
  derivedPlanSteps,
  formatDDplanOutput,
  planDmRange,
} from "../../../../agent/search/plan";
import { COMBINED, HALF_S0, get, planFixture, readfileValues } from "./helpers";

/**
 * DDplan.py's inputs for the 40 s beam, from readfile's view of the same file
 * (DDplan.py reads TBIN, NCHAN, OBSFREQ, NCHAN*|df| and NSBLK from it), and the
 * options of the fixture run: -l 0 -d 150 -s 32 -r 1.0.
 */
function beamInput() {
  const rf = readfileValues("beam_J1903_readfile.txt");
  return {
    lodm: 0,
    hidm: 150,
    dt: Number(get(rf, "Sample time (us)")) / 1e6,
    nchan: Number(get(rf, "Number of channels")),
    bw: Number(get(rf, "Total Bandwidth (MHz)")),
    fctr: Number(get(rf, "Central freq (MHz)")),
    nsub: 32,
    resolutionMs: 1.0,
    blocklen: Number(get(rf, "Spectra per subint")),
  };
}

describe("search/plan/derive: DDplan.py port", () => {
  it("reproduces DDplan.py's output for the fixture beam byte for byte", () => {
    const input = beamInput();
    assert.deepEqual([input.nchan, input.bw, input.fctr, input.blocklen], [128, 322.6, 1375.5, 2048]);
    const plan = derivePlan(input);
    assert.equal(formatDDplanOutput(plan, "beam_J1903.fits"), planFixture("beam_J1903_DDplan.txt"));
  });

  it("gives the fixture's table: 0-156, dDM 1.00, downsamp 8, dsubDM 26, 156 DMs, 26 per call, 6 calls", () => {
    const plan = derivePlan(beamInput());
    assert.equal(plan.methods.length, 1);
    const m = plan.methods[0];
    assert.deepEqual([m.loDM, m.hiDM, m.dDM, m.downsamp, m.dsubDM, m.numDMs, m.dmsPerCall, m.calls, m.workFract], [0, 156, 1.0, 8, 26, 156, 26, 6, 1]);
    assert.equal(plan.downsampleNote, "ok_smearing");
    assert.equal(plan.firstDownsamp, 8);
    assert.equal(plan.okSmearingMs, 1.0);
    assert.deepEqual(plan.notes, []);
    assert.deepEqual(derivedPlanSteps(plan), [{ lodm: 0, dmstep: 1, dms_per_call: 26, calls: 6, nsub: 32, downsamp: 8 }]);
  });

  it("needs PRESTO v6's band-edge smearing: the older f^-3 formula plans 24 DMs per call, 7 calls", () => {
    const plan = derivePlan({ ...beamInput(), smearing: "linear" });
    const m = plan.methods[0];
    assert.deepEqual([m.hiDM, m.dsubDM, m.numDMs, m.dmsPerCall, m.calls], [168, 24, 168, 24, 7]);
    const text = formatDDplanOutput(plan, "beam_J1903.fits");
    assert.match(text, /Minimum smearing across BW : 0\.00514 ms/);
    assert.match(text, /Best guess for optimal initial dDM is 1\.018/);
  });

  it("plans several rows with growing downsampling and DM steps over a wide DM range", () => {
    const plan = derivePlan({ ...beamInput(), hidm: 1000, resolutionMs: 0.1, nsub: 32 });
    const ms = plan.methods;
    assert.ok(ms.length > 1);
    assert.equal(ms[0].loDM, 0);
    for (let i = 1; i < ms.length; i++) {
      assert.equal(ms[i].loDM, ms[i - 1].hiDM, "rows are contiguous");
      assert.ok(ms[i].downsamp > ms[i - 1].downsamp);
      assert.ok(ms[i].dDM >= ms[i - 1].dDM);
      assert.equal(2048 % ms[i].downsamp, 0, "prepsubband needs downsamp | NSBLK");
    }
    assert.ok(ms[ms.length - 1].hiDM >= 1000);
    assert.ok(Math.abs(ms.reduce((s, m) => s + m.workFract, 0) - 1) < 1e-12);
    for (const m of ms) assert.equal(m.numDMs, m.dmsPerCall * m.calls);
  });

  it("chooses downsample factors that divide the block length, thinned to 1.5-2x steps", () => {
    assert.deepEqual(chooseDownsamps(2048), [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    // 1920 has divisors 1,2,3,4,5,6,8,10,...,240: keep 1,2,3 then the 1.5x or 2x ones.
    assert.deepEqual(chooseDownsamps(1920), [1, 2, 3, 5, 8, 12, 24, 48, 96, 192]);
    assert.deepEqual(chooseDownsamps(7), [1, 7]);
  });

  it("rejects an empty DM range", () => {
    assert.throws(() => derivePlan({ ...beamInput(), hidm: 0 }), /high DM/);
  });
});

describe("search/plan/ddplans: PALFA's plans and the choice", () => {
  const params = (over: Record<string, unknown> = {}) => searchParamsSchema.parse(over);
  const wappHeader: PlanHeader = {
    backend: "WAPP",
    bandwidthMhz: 100,
    centreFreqMhz: 1420,
    chanDm: 0,
    subint: { tbin: 6.4e-5, nchan: 256, nsblk: 1024 },
  };

  it("holds V-2's Mock plan: contiguous DM 0-5090.4, 85 passes, 6276 trials", () => {
    assert.equal(PALFA_MOCK_PLAN.length, 8);
    const r = planDmRange(PALFA_MOCK_PLAN);
    assert.equal(r.passes, 85);
    assert.equal(r.trials, 6276);
    assert.ok(Math.abs(r.hidm - 5090.4) < 1e-9);
    for (let i = 1; i < PALFA_MOCK_PLAN.length; i++) {
      const p = PALFA_MOCK_PLAN[i - 1];
      assert.ok(Math.abs(p.lodm + p.calls * p.dms_per_call * p.dmstep - PALFA_MOCK_PLAN[i].lodm) < 1e-9, `row ${i}`);
    }
    assert.ok(PALFA_MOCK_PLAN.every((s) => s.nsub === 96));
  });

  it("holds the WAPP plan: DM 0-1725.2, 15 passes, 1140 trials", () => {
    const r = planDmRange(PALFA_WAPP_PLAN);
    assert.deepEqual([r.passes, r.trials], [15, 1140]);
    assert.ok(Math.abs(r.hidm - 1725.2) < 1e-9);
  });

  it("auto: the Mock plan for backend pdev with the Mock's channels; a plan of its own for a Mock file whose channels it does not fit", () => {
    const combined = readPsrfitsHeader(COMBINED);
    // The test file is a small Mock (66 channels): PALFA's 96 subbands cannot divide them.
    const small = chooseDDplan(params(), combined);
    assert.equal(small.source, "derived");
    assert.match(small.reason, /backend 'pdev', but PALFA's Mock plan \(96 subbands\) does not fit 66 channels/);
    assert.ok(small.steps.every((row) => 66 % row.nsub === 0));
    const chosen = chooseDDplan(params(), { ...combined, subint: { ...combined.subint, nchan: 960 } });
    assert.equal(chosen.source, "mock");
    assert.deepEqual(
      chosen.steps,
      PALFA_MOCK_PLAN.map((s) => ({ ...s })),
    );
    assert.match(chosen.reason, /backend 'pdev'/);
    // A copy: changing it leaves the constant alone.
    chosen.steps[0].calls = 1;
    assert.equal(PALFA_MOCK_PLAN[0].calls, 28);
  });

  it("auto: the WAPP plan for backend WAPP (any case), derived for anything else", () => {
    assert.equal(chooseDDplan(params(), { ...wappHeader, subint: { ...wappHeader.subint, nchan: 192 } }).source, "wapp");
    assert.match(chooseDDplan(params(), wappHeader).reason, /PALFA's WAPP plan \(96 subbands\) does not fit 256 channels/);
    const other = chooseDDplan(params(), { ...wappHeader, backend: "GUPPI" });
    assert.equal(other.source, "derived");
    assert.match(other.reason, /no PALFA plan for backend 'GUPPI'/);
    assert.ok(other.derived !== null);
    assert.equal(other.steps[0].lodm, 0);
    assert.ok(planDmRange(other.steps).hidm >= 1000);
  });

  it("derived: the largest subband count up to derived_nsub that divides the channels", () => {
    const h = { ...wappHeader, backend: "GUPPI" };
    assert.ok(
      chooseDDplan(params(), h).steps.every((row) => row.nsub === 64),
      "256 channels: 64, not 96",
    );
    assert.ok(chooseDDplan(params(), { ...h, subint: { ...h.subint, nchan: 70 } }).steps.every((row) => row.nsub === 70));
  });

  it("derived: from the header, with nsub capped at the channel count (prepsubband would cap it)", () => {
    const h = readPsrfitsHeader(HALF_S0);
    const chosen = chooseDDplan(params({ ddplan_source: "derived", derived_hidm: 500 }), h);
    assert.equal(chosen.source, "derived");
    assert.ok(chosen.steps.every((s) => s.nsub === 34));
    assert.equal(chosen.derived?.input.fctr, h.centreFreqMhz);
    assert.equal(chosen.derived?.input.blocklen, 2048);
    assert.ok(chosen.steps.every((s) => 2048 % s.downsamp === 0));
  });

  it("explicit rows are used as given; explicit without rows is an error; mock/wapp can be forced", () => {
    const rows = [{ lodm: 0, dmstep: 1, dms_per_call: 26, calls: 6, nsub: 32, downsamp: 8 }];
    const chosen = chooseDDplan(params({ ddplan_source: "explicit", ddplan: rows }), wappHeader);
    assert.equal(chosen.source, "explicit");
    assert.deepEqual(chosen.steps, rows);
    assert.throws(() => chooseDDplan(params({ ddplan_source: "explicit" }), wappHeader), PlanError);
    assert.equal(chooseDDplan(params({ ddplan_source: "mock" }), wappHeader).source, "mock");
    assert.equal(chooseDDplan(params({ ddplan_source: "wapp" }), readPsrfitsHeader(COMBINED)).source, "wapp");
  });
});
