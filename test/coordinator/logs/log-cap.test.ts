// The coordinator's per-attempt log store with a cap: head and tail kept on disk,
// the middle cut and marked, offsets that keep counting, re-sends dropped, and all
// of it the same after a restart.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LogStore } from "../../../coordinator/logs/log-store";

const line = (i: number) => `line ${String(i).padStart(5, "0")}\n`; // 11 bytes

function lines(text: string): number[] {
  return [...text.matchAll(/^line (\d+)$/gm)].map((m) => Number(m[1]));
}

function diskBytes(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((f) => !f.endsWith(".idx"))
    .reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0);
}

describe("log store with a size cap", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-logcap-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** 2,000 chunks of 10 lines (110 bytes) each into a store capped at 8 KiB. */
  function fill(store: LogStore, chunks = 2000): void {
    let n = 0;
    for (let seq = 1; seq <= chunks; seq++) {
      const text = Array.from({ length: 10 }, () => line(++n)).join("");
      assert.equal(store.append(7, seq, seq % 2 ? "odd" : "even", Buffer.from(text)), seq);
    }
  }

  it("keeps the head and the newest tail, marks the cut, and stays within the cap on disk", () => {
    const store = new LogStore(dir, { maxBytes: 8192 });
    fill(store);
    assert.equal(store.size(7), 2000 * 110, "offsets count every byte logged");
    assert.ok(diskBytes(dir) <= 8192, `${diskBytes(dir)} bytes on disk`);
    const text = store.read(7).toString();
    const got = lines(text);
    const headCount = Math.floor(4096 / 110) * 10;
    assert.deepEqual(
      got.slice(0, headCount),
      Array.from({ length: headCount }, (_, i) => i + 1),
      "the head, from line 1",
    );
    assert.equal(got[got.length - 1], 20_000, "the tail ends with the last line");
    const tail = got.slice(headCount);
    assert.deepEqual(
      tail,
      Array.from({ length: tail.length }, (_, i) => 20_000 - tail.length + 1 + i),
      "the tail is contiguous",
    );
    assert.ok(tail.length * 11 >= 2048, "at least a quarter of the cap of tail");
    const marks = text.match(/\[beamflow: .* of output cut here \(log capped at 8(\.0)? KiB: head and tail kept\)\]/g);
    assert.equal(marks?.length, 1, text.slice(headCount * 11, headCount * 11 + 200));
    assert.match(store.readEnd(7, 22).toString(), /line 19999\nline 20000\n$/);
  });

  it("drops re-sent chunks and reads the same after a restart; a step's chunks alone jump the cut once", () => {
    const store = new LogStore(dir, { maxBytes: 8192 });
    fill(store);
    const before = store.read(7);
    assert.equal(store.append(7, 1500, "odd", Buffer.from("again\n")), 2000, "a re-send is dropped");
    const reopened = new LogStore(dir, { maxBytes: 8192 });
    assert.deepEqual(reopened.read(7), before);
    assert.equal(reopened.append(7, 2000, "even", Buffer.from("again\n")), 2000);
    assert.equal(reopened.append(7, 2001, "odd", Buffer.from(line(20_001))), 2001);
    assert.equal(lines(reopened.read(7).toString()).pop(), 20_001);

    const odd: string[] = [];
    for (let at = 0, p = reopened.readAt(7, 0, 1 << 20, "odd"); p; at = p.next, p = reopened.readAt(7, at, 1 << 20, "odd")) odd.push(p.data.toString());
    const text = odd.join("");
    assert.equal((text.match(/output cut here/g) ?? []).length, 1);
    // Chunk k (1-based) holds lines 10k-9 .. 10k; odd chunks only.
    assert.ok(
      lines(text).every((n) => Math.ceil(n / 10) % 2 === 1 || n === 20_001),
      "only the odd step's chunks",
    );
  });

  it("keeps everything when the cap is 0", () => {
    const store = new LogStore(dir, { maxBytes: 0 });
    fill(store, 300);
    assert.deepEqual(
      lines(store.read(7).toString()),
      Array.from({ length: 3000 }, (_, i) => i + 1),
    );
  });

  it("cuts off bytes a crash left after the last indexed chunk", () => {
    const store = new LogStore(dir, { maxBytes: 8192 });
    fill(store, 100);
    const start = (f: string) => Number(f.split(".tail-")[1]);
    const segment = fs
      .readdirSync(dir)
      .filter((f) => f.includes(".tail-"))
      .sort((a, b) => start(a) - start(b))
      .pop()!;
    fs.appendFileSync(path.join(dir, segment), "half a chunk the index never saw");
    const reopened = new LogStore(dir, { maxBytes: 8192 });
    assert.equal(reopened.size(7), 100 * 110);
    assert.doesNotMatch(reopened.read(7).toString(), /never saw/);
    assert.equal(reopened.append(7, 101, "odd", Buffer.from(line(1001))), 101);
    assert.match(reopened.readEnd(7, 22).toString(), /line 01000\nline 01001\n$/);
  });

  it("an attempt that never logged reads as empty; bytes a crash left before its first index line are not kept", () => {
    const store = new LogStore(dir, { maxBytes: 8192 });
    assert.equal(store.storedSeq(41), 0);
    assert.equal(store.size(41), 0);
    assert.equal(fs.readdirSync(dir).length, 0, "nothing made for it");
    // A crash after the first chunk's bytes and before its index line.
    fs.writeFileSync(path.join(dir, "attempt-42.log"), "written but never indexed\n");
    const reopened = new LogStore(dir, { maxBytes: 8192 });
    assert.equal(reopened.storedSeq(42), 0);
    assert.equal(reopened.append(42, 1, "s", Buffer.from(line(1))), 1);
    assert.equal(reopened.read(42).toString(), line(1));
  });
});
