import assert from "node:assert/strict";
import { formatFixed, formatG, numpySum, parseMeasurement, parseNumber, pyCenter } from "../../../shared/presto";

describe("search/parsers/values and pycompat", () => {
  it("parses PRESTO's value(uncertainty) notation", () => {
    // Forms that occur in the beam's ACCEL files and bestprof files.
    const cases: Array<[string, number, number]> = [
      ["89.304(6)", 89.304, 0.006],
      ["450.469(31)", 450.469, 0.031],
      ["0.00000(8)", 0, 0.00008],
      ["33.1(8.1)", 33.1, 8.1],
      ["-0.4(1.5)", -0.4, 1.5],
      ["307(25)", 307, 25],
      ["0.0(2.1)x10^3", 0, 2100],
      ["0.0(2.4)x10^-2", 0, 0.024],
      ["0.0(7.3)x10^2", 0, 730],
      ["89.2952416378874  +/- 0.00146", 89.2952416378874, 0.00146],
      ["2.43341277028959e-07 +/- 3.11e-07", 2.43341277028959e-7, 3.11e-7],
    ];
    for (const [text, value, uncertainty] of cases) {
      assert.deepEqual(parseMeasurement(text), { value, uncertainty, text, truncated: false }, text);
    }
    // Fields accelsearch cut to their column width lose their exponent.
    for (const text of ["0.0(9.4)x10^", "0.0(1.2)x10", "0.5(1.2)x", "12.5(3"]) {
      const m = parseMeasurement(text);
      assert.ok(m !== null && m.truncated && Number.isNaN(m.uncertainty), text);
      assert.equal(Number.isNaN(m.value), !text.startsWith("0.0("), text);
    }
    for (const text of ["", "abc", "1.0(x)", "1.0(2)y", "1.0(2)x10^a"]) assert.equal(parseMeasurement(text), null, text);
  });

  it("parses plain printf numbers, including inf and nan", () => {
    assert.equal(parseNumber("1674.0"), 1674);
    assert.equal(parseNumber(" 6.54759999999999e-05 "), 6.54759999999999e-5);
    assert.equal(parseNumber("-0.00"), -0);
    assert.equal(parseNumber("-inf"), -Infinity);
    assert.ok(Number.isNaN(parseNumber("-nan")!));
    assert.equal(parseNumber("0x10"), null);
    assert.equal(parseNumber("1.2.3"), null);
  });

  it("formats like C/Python %f and %g (exact value, ties to even)", () => {
    // Python: '%.2f' % 3720.125 == '3720.12'; JavaScript's toFixed gives '3720.13'.
    assert.equal(formatFixed(3720.125, 2), "3720.12");
    assert.equal(formatFixed(0.125, 2), "0.12");
    assert.equal(formatFixed(0.375, 2), "0.38");
    assert.equal(formatFixed(2.675, 2), "2.67");
    assert.equal(formatFixed(-0.001, 2), "-0.00");
    assert.equal(formatFixed(89.3034912345, 6, 12), "   89.303491");
    assert.equal(formatFixed(57, 2, 7), "  57.00");
    assert.equal(formatFixed(Number.NaN, 2), "nan");
    const g = [1e-5, 123456789, 100000, 1e6, 15000, 0.5, 0.0001, 2.5e-5].map((x) => formatG(x)).join("|");
    assert.equal(g, "1e-05|1.23457e+08|100000|1e+06|15000|0.5|0.0001|2.5e-05");
  });

  it("centres like Python's str.center", () => {
    assert.equal(pyCenter("DM", 9), "    DM   ");
    assert.equal(pyCenter("%2d", 7), "  %2d  ");
    assert.equal(pyCenter("file:candnum", 66), `${" ".repeat(27)}file:candnum${" ".repeat(27)}`);
  });

  it("sums like numpy.sum (pairwise), not left to right", () => {
    const a = [1e16, 1, 1, 1, 1, 1, 1, 1, -1e16, 1, 1, 1, 1, 1, 1, 1];
    assert.equal(numpySum(a), 14); // numpy.sum(a) == 14.0
    assert.equal(
      a.reduce((s, x) => s + x, 0),
      7,
    ); // Python's sum(a) == 7.0
    assert.equal(numpySum([]), 0);
    assert.equal(numpySum([0.1, 0.2, 0.3]), 0.1 + 0.2 + 0.3);
  });
});
