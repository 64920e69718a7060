import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { formatReport, pyAsctime, reportFileName, writeReport } from "../../../../agent/search/results";
import { Scratch } from "./helpers";

// The stage times of the beam_J1903 fixture search (its timings.tsv, summed per stage as
// PALFA's timers did): rfifind 3.943 s, prepsubband 6 calls 4.174 s, single_pulse 190.6 s,
// realfft + zapbirds + rednoise 4.6 s, accelsearch z=0 154.5 s and z=50 150.6 s, sifting
// 1.1 s, prepfold 42.6 s.
const STAGES = [
  { stage: "rfifind", seconds: 3.943 },
  { stage: "dedispersing", seconds: 0.715 },
  { stage: "dedispersing", seconds: 3.459 },
  { stage: "single-pulse", seconds: 190.6 },
  { stage: "FFT", seconds: 1.4 },
  { stage: "FFT", seconds: 1.4 },
  { stage: "FFT", seconds: 1.8 },
  { stage: "lo-accelsearch", seconds: 154.5 },
  { stage: "hi-accelsearch", seconds: 150.6 },
  { stage: "sifting", seconds: 1.1 },
  { stage: "folding", seconds: 42.6 },
];

describe("search-results/report", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  const info = {
    files: ["beam_J1903.fits"],
    hostname: "node07",
    endTime: new Date(Date.UTC(2013, 8, 5, 7, 4, 9)),
    totalSeconds: 559.0,
    maskedPercent: 0.74,
    numCandsFolded: 2,
  };

  it("writes PALFA's write_report layout", () => {
    // Written by hand from write_report's format strings:
    //   "%s time = %7.1f sec (%5.2f%%)" with the label right-aligned to 22 columns.
    const expected = [
      "---------------------------------------------------------",
      "Data (beam_J1903.fits) were processed on node07",
      "Ending UTC time:  Thu Sep  5 07:04:09 2013",
      "Total wall time:  559.0 s (0.16 hrs)",
      "Fraction of data masked:  0.74%",
      "Number of candidates folded: 2",
      "---------------------------------------------------------",
      "          rfifind time =     3.9 sec ( 0.71%)",
      "       subbanding time =     0.0 sec ( 0.00%)",
      "     dedispersing time =     4.2 sec ( 0.75%)",
      "     single-pulse time =   190.6 sec (34.10%)",
      "              FFT time =     4.6 sec ( 0.82%)",
      "   lo-accelsearch time =   154.5 sec (27.64%)",
      "   hi-accelsearch time =   150.6 sec (26.94%)",
      "          sifting time =     1.1 sec ( 0.20%)",
      "          folding time =    42.6 sec ( 7.62%)",
      "---------------------------------------------------------",
      "",
    ].join("\n");
    assert.equal(formatReport(STAGES, info), expected);
  });

  it("prints downsampling instead of subbanding without subbands, and keeps other stages", () => {
    const text = formatReport([...STAGES, { stage: "downsampling", seconds: 12 }, { stage: "plots", seconds: 0.8 }], {
      ...info,
      useSubbands: false,
    });
    assert.ok(text.includes("     downsampling time =    12.0 sec ( 2.15%)\n"));
    assert.ok(!text.includes("subbanding"));
    // A stage PALFA did not time is not dropped: it follows PALFA's lines.
    assert.ok(
      text.endsWith(
        "          folding time =    42.6 sec ( 7.62%)\n            plots time =     0.8 sec ( 0.14%)\n---------------------------------------------------------\n",
      ),
    );
  });

  it("defaults the total to the sum of the stages and survives a zero total", () => {
    const sum = formatReport(STAGES, { ...info, totalSeconds: undefined });
    assert.ok(sum.includes("Total wall time:  552.1 s (0.15 hrs)\n"), sum);
    const empty = formatReport([], { ...info, totalSeconds: undefined });
    assert.ok(empty.includes("          rfifind time =     0.0 sec ( 0.00%)\n"));
  });

  it("rejects negative or non-finite times", () => {
    assert.throws(() => formatReport([{ stage: "FFT", seconds: -1 }], info), RangeError);
    assert.throws(() => formatReport([{ stage: "FFT", seconds: NaN }], info), RangeError);
    assert.throws(() => formatReport(STAGES, { ...info, numCandsFolded: 1.5 }), RangeError);
  });

  it("writes <base>.report", () => {
    const dir = scratch.sub("report");
    const file = writeReport(path.join(dir, reportFileName("beam_J1903")), STAGES, info);
    assert.equal(path.basename(file), "beam_J1903.report");
    assert.equal(fs.readFileSync(file, "utf8"), formatReport(STAGES, info));
    assert.throws(() => reportFileName("../x"), /path separator/);
  });

  it("formats time.asctime like Python (space-padded day)", () => {
    assert.equal(pyAsctime(new Date(Date.UTC(2011, 0, 1, 0, 0, 0))), "Sat Jan  1 00:00:00 2011");
    assert.equal(pyAsctime(new Date(Date.UTC(2023, 1, 25, 18, 0, 5))), "Sat Feb 25 18:00:05 2023");
  });
});
