import assert from "node:assert/strict";
import path from "node:path";
import { searchParamsSchema } from "../../../shared/config/search-params";
import { readAccelcandsFile } from "../../../shared/presto";
import { readPsrfitsHeader } from "../../../shared/psrfits";
import { foldNsub, foldOptionsForPeriod, prepfoldArgs } from "../../../agent/search/plan";
import { selectCandidatesToFold } from "../../../shared/search/fold-selection";
import { BEAM_DIR, COMBINED } from "../../agent/search/plan/helpers";

const params = searchParamsSchema.parse({});
const accelcands = () => readAccelcandsFile(path.join(BEAM_DIR, "beam_J1903.accelcands"));

describe("fold selection: which candidates are folded", () => {
  it("folds the fixture beam's sifted candidates with sigma >= 6.0, best first", () => {
    const cands = accelcands();
    const sel = selectCandidatesToFold(cands, params);
    const expected = cands.filter((c) => c.sigma >= 6.0).length;
    assert.ok(expected > 2 && expected < cands.length);
    assert.equal(sel.toFold.length, expected);
    assert.equal(sel.hitMax, false);
    assert.equal(sel.examined, cands.length);
    assert.deepEqual(
      sel.toFold.slice(0, 2).map((f) => `${f.candidate.accelFile}:${f.candidate.candnum}`),
      ["beam_J1903_DM57.00_ACCEL_0:1", "beam_J1903_DM57.00_ACCEL_0:5"],
    );
    assert.deepEqual(
      sel.toFold.map((f) => f.rank),
      sel.toFold.map((_, i) => i + 1),
    );
    for (let i = 1; i < sel.toFold.length; i++) assert.ok(sel.toFold[i - 1].candidate.sigma >= sel.toFold[i].candidate.sigma);
  });

  it("stops once max_cands_to_fold have been selected", () => {
    const sel = selectCandidatesToFold(accelcands(), { ...params, max_cands_to_fold: 3 });
    assert.equal(sel.toFold.length, 3);
    assert.equal(sel.hitMax, true);
    assert.equal(sel.examined, 3);
    assert.equal(selectCandidatesToFold(accelcands(), { ...params, max_cands_to_fold: 0 }).toFold.length, 0);
  });

  it("uses >= at the threshold (PALFA's worker; its uploader used >), and sorts by sigma keeping ties in order", () => {
    const cands = [
      { name: "below", sigma: 5.999 },
      { name: "at-a", sigma: 6.0 },
      { name: "top", sigma: 9.0 },
      { name: "at-b", sigma: 6.0 },
    ];
    const sel = selectCandidatesToFold(cands, { to_prepfold_sigma: 6.0, max_cands_to_fold: 100 });
    assert.deepEqual(
      sel.toFold.map((f) => f.candidate.name),
      ["top", "at-a", "at-b"],
    );
  });
});

describe("search/plan/folding: prepfold options", () => {
  it("picks N, npfact, ndmfact, npart and extra flags by period (section 5.3 step 9)", () => {
    const row = (p: number) => {
      const o = foldOptionsForPeriod(p);
      return [o.nbins, o.npfact, o.ndmfact, o.npart, o.other.join(" ")];
    };
    assert.deepEqual(row(0.0015), [24, 2, 2, 50, "-ndmfact 3"]);
    assert.deepEqual(row(0.002), [50, 2, 1, 40, "-pstep 1 -pdstep 2 -dmstep 3"]);
    assert.deepEqual(row(0.0499), [50, 2, 1, 40, "-pstep 1 -pdstep 2 -dmstep 3"]);
    assert.deepEqual(row(0.05), [100, 1, 1, 30, "-pstep 1 -pdstep 2 -dmstep 1 -nodmsearch"]);
    assert.deepEqual(row(0.4999), [100, 1, 1, 30, "-pstep 1 -pdstep 2 -dmstep 1 -nodmsearch"]);
    assert.deepEqual(row(0.5), [200, 1, 1, 30, "-nopdsearch -pstep 1 -pdstep 2 -dmstep 1 -nodmsearch"]);
    assert.throws(() => foldOptionsForPeriod(0));
  });

  it("uses 96 subbands for the Mock, 64 for the WAPP, else up to 96, always dividing the channels", () => {
    assert.equal(foldNsub("pdev", 960), 96);
    assert.equal(foldNsub("pdev", 66), 66);
    assert.equal(foldNsub("WAPP", 256), 64);
    assert.equal(foldNsub("GUPPI", 2048), 64);
    assert.equal(foldNsub("GUPPI", 64), 64);
    assert.equal(foldNsub("GUPPI", 128), 64);
  });

  it("builds PALFA's prepfold command for the beam's best candidate (the fixture's Cand_1 fold)", () => {
    const cand = accelcands()[0];
    const cmd = prepfoldArgs({
      candnum: cand.candnum,
      accelFile: cand.accelFile,
      dm: cand.dm,
      periodS: cand.periodMs / 1000,
      basename: "beam_J1903",
      backend: "pdev",
      nchan: 128,
      rows: 299,
      mask: "beam_J1903_rfifind.mask",
      rawFiles: ["beam_J1903.fits"],
    });
    assert.deepEqual(cmd.args, [
      "-noxwin",
      "-accelcand",
      "1",
      "-accelfile",
      "beam_J1903_DM57.00_ACCEL_0.cand",
      "-dm",
      "57.00",
      "-o",
      "beam_J1903_DM57.00_Z0",
      "-nsub",
      "64",
      "-npart",
      "30",
      "-pstep",
      "1",
      "-pdstep",
      "2",
      "-dmstep",
      "1",
      "-nodmsearch",
      "-n",
      "100",
      "-npfact",
      "1",
      "-ndmfact",
      "1",
      "-mask",
      "beam_J1903_rfifind.mask",
      "beam_J1903.fits",
    ]);
    // prepfold named its products after -o: the fixture's Cand_1 files.
    assert.equal(`${cmd.outBase}_ACCEL_Cand_${cand.candnum}.pfd`, "beam_J1903_DM57.00_Z0_ACCEL_Cand_1.pfd");
  });

  it("gives the 25.5 ms candidate the < 50 ms options, as the fixture's Cand_5 fold used", () => {
    const cand = accelcands()[1];
    assert.equal(cand.candnum, 5);
    const cmd = prepfoldArgs({
      candnum: cand.candnum,
      accelFile: cand.accelFile,
      dm: cand.dm,
      periodS: cand.periodMs / 1000,
      basename: "beam_J1903",
      backend: "pdev",
      nchan: 128,
      rows: 299,
      mask: null,
      rawFiles: ["beam_J1903.fits"],
    });
    const flag = (f: string) => cmd.args[cmd.args.indexOf(f) + 1];
    assert.deepEqual(["-n", "-npfact", "-ndmfact", "-npart", "-pstep", "-pdstep", "-dmstep"].map(flag), ["50", "2", "1", "40", "1", "2", "3"]);
    assert.ok(!cmd.args.includes("-mask"));
  });

  it("caps -npart at the file's rows and takes zmax and the DM string from the ACCEL file name", () => {
    const h = readPsrfitsHeader(COMBINED); // 8 rows, 66 channels, pdev
    const cmd = prepfoldArgs({
      candnum: 2,
      accelFile: "p2030.20230225.G037.00-00.10.C.b0_DM136.00_ACCEL_50",
      dm: 136,
      periodS: 0.0013,
      basename: "p2030.20230225.G037.00-00.10.C.b0",
      backend: h.backend,
      nchan: h.subint.nchan,
      rows: h.subint.rows,
      mask: "m.mask",
      rawFiles: [COMBINED],
    });
    assert.equal(cmd.npart, 8);
    assert.equal(cmd.outBase, "p2030.20230225.G037.00-00.10.C.b0_DM136.00_Z50");
    // MSPs: PALFA's "-ndmfact 3" comes before "-ndmfact 2"; prepfold keeps the last.
    assert.deepEqual(cmd.args.slice(11, 21), ["-npart", "8", "-ndmfact", "3", "-n", "24", "-npfact", "2", "-ndmfact", "2"]);
    assert.throws(
      () => prepfoldArgs({ candnum: 1, accelFile: "noz", dm: 1, periodS: 1, basename: "b", backend: "pdev", nchan: 1, rows: 1, mask: null, rawFiles: [] }),
      /zmax/,
    );
  });
});
