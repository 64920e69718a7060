import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { parseSinglePulse, readSinglePulseFile } from "../../../shared/presto";
import { ALL_DMS, Scratch, assertParseError, readFixture } from "./helpers";

describe("search/parsers/singlepulse", () => {
  let scratch: Scratch;
  before(() => {
    scratch = new Scratch();
  });
  after(() => scratch.cleanup());

  it("reads the events of a DM trial", () => {
    const sp = readSinglePulseFile(path.join(ALL_DMS, "beam_J1903_DM57.00.singlepulse"));
    assert.equal(sp.hasHeader, true);
    assert.equal(sp.events.length, 15);
    assert.deepEqual(sp.events[0], { dm: 57, sigma: 5.16, time: 2.168041, sample: 4139, downfact: 9 });
    assert.deepEqual(sp.events[14], { dm: 57, sigma: 5.27, time: 36.999702, sample: 70636, downfact: 9 });

    const dm0 = readSinglePulseFile(path.join(ALL_DMS, "beam_J1903_DM0.00.singlepulse"));
    assert.deepEqual(dm0.events, [
      { dm: 0, sigma: 5.03, time: 26.022781, sample: 49680, downfact: 9 },
      { dm: 0, sigma: 5.27, time: 33.256046, sample: 63489, downfact: 3 },
    ]);
  });

  it("reads an empty file (a trial without events) as no events", () => {
    const p = path.join(ALL_DMS, "beam_J1903_DM10.00.singlepulse");
    assert.equal(fs.statSync(p).size, 0);
    assert.deepEqual(readSinglePulseFile(p), { file: p, hasHeader: false, events: [] });
  });

  it("reads a header-only file as no events", () => {
    const header = readFixture("all_dms", "beam_J1903_DM57.00.singlepulse").split("\n")[0]!;
    assert.deepEqual(parseSinglePulse(`${header}\n`, "header-only"), { file: "header-only", hasHeader: true, events: [] });
  });

  it("reads all 156 trials, every event at its file's DM", () => {
    const names = fs.readdirSync(ALL_DMS).filter((f) => f.endsWith(".singlepulse"));
    assert.equal(names.length, 156);
    let events = 0;
    for (const name of names) {
      const sp = readSinglePulseFile(path.join(ALL_DMS, name));
      const dm = Number(/_DM([\d.]+)\.singlepulse$/.exec(name)![1]);
      for (const e of sp.events) assert.equal(e.dm, dm, name);
      events += sp.events.length;
    }
    assert.ok(events > 0);
  });

  it("fails on a row cut short", () => {
    const text = readFixture("all_dms", "beam_J1903_DM57.00.singlepulse");
    const p = scratch.write("cut_row.singlepulse", text.slice(0, text.indexOf("14541")));
    assertParseError(() => readSinglePulseFile(p), p, 3, /complete line/);
    const lines = text.split("\n");
    lines[2] = lines[2]!.slice(0, lines[2]!.indexOf("14541"));
    const q = scratch.write("missing_columns.singlepulse", lines.join("\n"));
    assertParseError(() => readSinglePulseFile(q), q, 3, /event row/);
  });

  it("fails without the header", () => {
    const text = readFixture("all_dms", "beam_J1903_DM57.00.singlepulse");
    const p = scratch.write("no_header.singlepulse", text.slice(text.indexOf("\n") + 1));
    assertParseError(() => readSinglePulseFile(p), p, 1, /header/);
  });
});
