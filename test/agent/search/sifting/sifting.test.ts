import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { formatFixed, readAccelFile } from "../../../../shared/presto";
import { PALFA_SIFT_OPTIONS, type SiftOptions, type SiftResult, candidatesFromAccel, formatCandlist, siftFiles } from "../../../../agent/search/sifting";
import { ALL_DMS, readFixture } from "../../../shared/presto/helpers";

// The settings of the fixture's sift_cands.py (PALFA's, except low_DM_cutoff 1.0).
const SIFT_CANDS_PY: Partial<SiftOptions> = {
  sigmaThreshold: 6.0 - 1.0,
  cPowThreshold: 100.0,
  rErr: 1.1,
  shortPeriod: 0.0005,
  longPeriod: 15.0,
  harmPowCutoff: 8.0,
  numHitsToFold: 2,
  lowDmCutoff: 1.0,
};

const names = fs.readdirSync(ALL_DMS);
/** As sift_cands.py: the DM strings of all .inf files, sorted by value. */
const dmStrs = names
  .filter((f) => f.endsWith(".inf"))
  .map((f) => f.split("_DM").pop()!.slice(0, -4))
  .sort((a, b) => Number(a) - Number(b));
const accelPaths = (z: number, order: readonly string[] = names): string[] => order.filter((f) => f.endsWith(`_ACCEL_${z}`)).map((f) => path.join(ALL_DMS, f));

/** sift_cands.py's run over the beam, computed once for the tests that only inspect it. */
let cached: SiftResult | undefined;
function siftBeam(): SiftResult {
  cached ??= siftFiles([accelPaths(0), accelPaths(50)], dmStrs, SIFT_CANDS_PY);
  return cached;
}

describe("search/sifting (PRESTO sifting.py)", () => {
  it("sifts all 307 ACCEL files into exactly PRESTO's beam_J1903.accelcands", () => {
    const result = siftFiles([accelPaths(0), accelPaths(50)], dmStrs, SIFT_CANDS_PY);
    const text = formatCandlist(result.candidates);
    cached = result;
    assert.equal(text, readFixture("beam_J1903.accelcands"));
    // How long it takes is measured by `npm run bench -- sift`, not bounded here.
  });

  it("reports the same stage counts as sifting.py printed (beam_J1903_sift.log)", () => {
    // Numbers from the fixture's sift log (not copied here: *.log is git-ignored):
    //   ACCEL_0: "Reading candidates from 156 files", "(571 cands)", "Sorting the 571",
    //            "Found 323 candidates.", "Removed 291 candidates with DM problems."
    //   ACCEL_50: 151 files, 353 cands, "Found 132", "Removed 114"
    //   "Removed a total of 18 harmonics."
    const { report } = siftBeam();
    const [lo, hi] = report.groups;
    assert.equal(lo!.files, 156);
    assert.equal(lo!.afterDefaultRejection, 571);
    assert.equal(lo!.afterDuplicates, 323);
    assert.equal(lo!.dmProblems.removed, 291);
    assert.equal(hi!.files, 151);
    assert.equal(hi!.afterDefaultRejection, 353);
    assert.equal(hi!.afterDuplicates, 132);
    assert.equal(hi!.dmProblems.removed, 114);
    assert.equal(report.harmonicsRemoved, 18);
    assert.equal(report.good, 32);
    // print_cand_summary's categories add up to everything that was read.
    const read = lo!.candidatesRead + hi!.candidatesRead;
    assert.equal(read, 2092);
    const rejected = Object.values(report.counts).reduce((a, b) => a + b, 0);
    assert.equal(rejected + report.good, read);
    assert.equal(report.counts.duplicate, 571 - 323 + (353 - 132));
    assert.equal(report.counts.dmproblem, 291 + 114);
    assert.equal(report.counts.harmonic, 18);
    assert.equal(report.rejected.length, rejected);
    for (const r of report.rejected) assert.equal(r.candidate.note, r.note);
    assert.ok(report.rejected.some((r) => r.reason === "threshold" && /^\d+ harmonics and sigma \(.+ < 5\) is too low\.$/.test(r.note)));
  });

  it("does not depend on the order in which the files are listed (glob order is arbitrary)", () => {
    const reversed = [...names].reverse();
    const result = siftFiles([accelPaths(0, reversed), accelPaths(50, reversed)], dmStrs, SIFT_CANDS_PY);
    assert.equal(formatCandlist(result.candidates), readFixture("beam_J1903.accelcands"));
  });

  it("recomputes power, SNR and sigma from the harmonics as sifting.py does", () => {
    const file = path.join(ALL_DMS, "beam_J1903_DM57.00_ACCEL_0");
    const [c] = candidatesFromAccel(readAccelFile(file), file);
    // accelsearch printed sigma 56.18 and power 1674.0; the candlist says 59.47 and 1858.6.
    assert.equal(formatFixed(c!.sigma, 2), "59.47");
    assert.equal(formatFixed(c!.ipow, 1), "1858.6");
    assert.equal(formatFixed(c!.snr, 2), "146.29");
    assert.equal(c!.dmStr, "57.00");
    assert.equal(formatFixed(c!.p * 1000, 6), "89.303491");
    assert.deepEqual(c!.hits, [{ dm: 57, snr: c!.snr, sigma: c!.sigma }]);
  });

  it("keeps the 7/2 fractional harmonic (not one of sifting.py's ratios)", () => {
    const { candidates } = siftBeam();
    const fundamental = candidates[0]!;
    const fifth = candidates.find((c) => c.filename === "beam_J1903_DM57.00_ACCEL_0" && c.candnum === 5)!;
    assert.ok(fifth);
    assert.ok(Math.abs(fifth.f / fundamental.f - 3.5) < 1e-3);
  });

  it("uses PALFA's defaults unless told otherwise", () => {
    assert.deepEqual(
      { ...PALFA_SIFT_OPTIONS, knownBirdsF: [], knownBirdsP: [] },
      {
        sigmaThreshold: 5.0,
        cPowThreshold: 100.0,
        rErr: 1.1,
        shortPeriod: 0.0005,
        longPeriod: 15.0,
        harmPowCutoff: 8.0,
        numHitsToFold: 2,
        lowDmCutoff: 2.0,
        knownBirdsF: [],
        knownBirdsP: [],
      },
    );
    // A stricter threshold can only remove candidates.
    const strict = siftFiles([accelPaths(0), accelPaths(50)], dmStrs, { ...SIFT_CANDS_PY, sigmaThreshold: 8 });
    assert.ok(strict.candidates.length < 32);
    assert.ok(strict.candidates.every((c) => c.sigma >= 8 || c.numharm === 1));
  });
});
