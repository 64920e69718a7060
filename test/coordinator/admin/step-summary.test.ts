// `beamflow job ID` summarises an attempt's steps by program instead of listing ~31,000.
import assert from "node:assert/strict";
import { summarizeSteps } from "../../../coordinator/admin/admin-api";
import type { StepRow } from "../../../coordinator/tracker/rows";

const step = (idx: number, name: string, wall: number | null, exit: number | null = 0, signal = ""): StepRow => ({
  attempt_id: 1,
  idx,
  name,
  argv_json: "[]",
  started_at: 0,
  wall_s: wall,
  cpu_s: wall,
  exit_code: exit,
  signal,
  error: "",
});

describe("step summary by program", () => {
  it("counts each program's steps, failures and running ones, with total and longest wall time", () => {
    const steps = [
      step(0, "rfifind", 30),
      ...Array.from({ length: 1000 }, (_, i) => step(i + 1, `accelsearch DM${i}.00 zmax=0`, 1 + (i % 7))),
      step(1001, "accelsearch DM999.99 zmax=50", 42, 139, "SIGSEGV"),
      step(1002, "prepfold cand 1", null, null),
    ];
    const s = summarizeSteps(steps);
    assert.deepEqual(
      s.map((x) => [x.program, x.count, x.failed, x.running]),
      [
        ["rfifind", 1, 0, 0],
        ["accelsearch", 1001, 1, 0],
        ["prepfold", 1, 0, 1],
      ],
    );
    const accel = s.find((x) => x.program === "accelsearch")!;
    assert.equal(accel.longestWallS, 42);
    assert.equal(accel.longestStep, "accelsearch DM999.99 zmax=50");
    assert.equal(accel.totalWallS, Array.from({ length: 1000 }, (_, i) => 1 + (i % 7)).reduce((a, b) => a + b, 0) + 42);
  });
});
