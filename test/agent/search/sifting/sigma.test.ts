import assert from "node:assert/strict";
import { candidateSigma, chi2Logp, equivalentGaussianSigma } from "../../../../agent/search/sifting";

// Reference values: scipy -special.ndtri(Q) with Q from mpmath's regularised upper
// incomplete gamma at 50 digits, i.e. exact significances to double precision.
describe("search/sifting/sigma (PRESTO candidate_sigma)", () => {
  it("matches exact significances where PRESTO uses DCDFLIB", () => {
    const cases: Array<[number, number, number]> = [
      [10.0, 1, 3.913946240531893], // one harmonic: Q = exp(-10)
      [30.0, 4, 6.120605154306931],
      [100.0, 16, 10.52423547452888],
      [8.0, 2, 2.7456928152222666],
    ];
    for (const [power, numsum, sigma] of cases) {
      assert.ok(Math.abs(candidateSigma(power, numsum) - sigma) < 1e-12, `${power}, ${numsum}`);
    }
  });

  it("uses PRESTO's asymptotic branches, not exact values, for very strong signals", () => {
    // chi2/dof > 15 switches to the A&S series; logp < -600 to A&S 26.2.23.
    assert.ok(chi2Logp(2 * 1858.6, 32) < -600);
    const exactAt700 = 37.295079632647415; // -ndtri(exp(-700))
    const approx = equivalentGaussianSigma(-700);
    assert.ok(Math.abs(approx - exactAt700) < 1e-3 && approx !== exactAt700);
  });

  it("returns 0 for no power and for weaker-than-noise sums", () => {
    assert.equal(candidateSigma(0, 4), 0);
    assert.equal(candidateSigma(-1, 4), 0);
    assert.equal(candidateSigma(2.0, 16), 0); // Q close to 1: negative sigma clipped to 0
  });

  it("accounts for the number of trials", () => {
    assert.ok(candidateSigma(30, 4, 1000) < candidateSigma(30, 4, 1));
  });
});
