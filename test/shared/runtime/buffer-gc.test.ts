// The collector of the processes that pass heavy output through, on real Node processes
// with --trace-gc: a small heap is never marked incrementally (the marks that Buffer
// churn used to bring); a heap slow to mark brings incremental marking back, and says why.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

interface Run {
  out: string;
  /** the full collections, as --trace-gc printed them */
  marks: string[];
  /** what the process logged of the switch */
  said: { msg: string; pauseMs: number; heapMiB: number }[];
  /** the full collections after the switch */
  marksAfter: string[];
}

function run(kind: string, rounds: number): Run {
  const r = spawnSync(
    process.execPath,
    ["--trace-gc", "--require", require.resolve("tsx/cjs"), path.join(__dirname, "fixtures", "gc-churn.ts"), kind, String(rounds)],
    {
      encoding: "utf8",
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split("\n");
  const said = lines.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { msg: string; pauseMs: number; heapMiB: number });
  const switched = lines.findIndex((l) => l.startsWith("{"));
  const marks = (from: number) => lines.slice(from).filter((l) => l.includes("Mark-Compact"));
  return { out: r.stdout, marks: marks(0), said, marksAfter: switched < 0 ? [] : marks(switched) };
}

const incremental = (mark: string) => mark.includes("since start of marking");

describe("garbage collection for heavy Buffers", function () {
  this.timeout(120_000);

  it("never marks a small heap incrementally", () => {
    // 120 MB allocated, ~10 MB of it kept at a time. Untuned, Node marks this heap
    // incrementally from 16 MB on.
    const { marks, said } = run("arrays", 60);
    assert.deepEqual(marks.filter(incremental), []);
    assert.deepEqual(said, []);
  });

  it("brings incremental marking back for good once a full collection is slow, and says why", () => {
    const { out, marks, said, marksAfter } = run("objects", 90);
    assert.equal(said.length, 1, out);
    assert.equal(said[0]!.msg, "a full collection was slow or left a large heap: incremental marking on");
    assert.ok(said[0]!.pauseMs > 30 || said[0]!.heapMiB > 40, JSON.stringify(said[0]));
    const before = marks.slice(0, marks.length - marksAfter.length);
    assert.ok(before.length > 0 && !before.some(incremental), `before the switch, full collections and no incremental mark:\n${marks.join("\n")}`);
    assert.ok(marksAfter.some(incremental), `no incremental mark after the switch; all full collections:\n${marks.join("\n")}`);
  });
});
