// The log store takes a batch of one attempt's chunks (an agent's LogChunks message) as if
// each came alone: re-sent chunks skipped, nothing past a gap, the same files, index and
// reads as chunk by chunk (with and without a cap), one "append" event per batch, and on a
// full disk every chunk that fits stored and nothing after the first that does not.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LogStore } from "../../../coordinator/logs/log-store";
import { useTmpfs } from "../../support/tmpfs";

const chunk = (seq: number, step = "s", size = 100) => ({ seq, step, data: Buffer.from(`${String(seq).padStart(6, "0")} ${"x".repeat(size - 8)}\n`) });
const range = (from: number, to: number, size = 100) => Array.from({ length: to - from + 1 }, (_, i) => chunk(from + i, (from + i) % 3 ? "a" : "b", size));

describe("log store batches", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-logbatch-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("stores a batch as chunk by chunk would: the same bytes, index, step reads and reads after a restart, capped or not", () => {
    for (const maxBytes of [0, 4096]) {
      const one = new LogStore(path.join(dir, `one-${maxBytes}`), { maxBytes });
      const many = new LogStore(path.join(dir, `many-${maxBytes}`), { maxBytes });
      const all = range(1, 200);
      for (const c of all) one.append(7, c.seq, c.step, c.data);
      for (let i = 0; i < all.length; i += 17) assert.equal(many.appendMany(7, all.slice(i, i + 17)), Math.min(i + 17, 200));
      assert.ok(many.read(7).equals(one.read(7)), `cap ${maxBytes}`);
      for (const step of ["a", "b"]) {
        const steps = (s: LogStore) => {
          const parts: Buffer[] = [];
          for (let at = 0, p = s.readAt(7, 0, 1 << 20, step); p; at = p.next, p = s.readAt(7, at, 1 << 20, step)) parts.push(p.data);
          return Buffer.concat(parts).toString();
        };
        assert.equal(steps(many), steps(one), `step ${step}, cap ${maxBytes}`);
      }
      assert.deepEqual(fs.readdirSync(path.join(dir, `many-${maxBytes}`)).sort(), fs.readdirSync(path.join(dir, `one-${maxBytes}`)).sort());
      assert.equal(
        fs.readFileSync(path.join(dir, `many-${maxBytes}`, "attempt-7.idx"), "utf8"),
        fs.readFileSync(path.join(dir, `one-${maxBytes}`, "attempt-7.idx"), "utf8"),
      );
      many.close(7);
      one.close(7);
      assert.ok(new LogStore(path.join(dir, `many-${maxBytes}`), { maxBytes }).read(7).equals(one.read(7)), "the same after a restart");
    }
  });

  it("skips re-sent chunks, stores nothing past a gap, and says one append per batch", () => {
    const store = new LogStore(dir);
    const appends: number[] = [];
    store.on("append", (_id, bytes) => appends.push(bytes));
    assert.equal(store.appendMany(7, range(1, 3)), 3);
    assert.equal(store.appendMany(7, range(2, 5)), 5, "2 and 3 again: skipped, 4 and 5 stored");
    assert.equal(store.appendMany(7, range(1, 2)), 5, "all re-sent: nothing stored");
    assert.equal(store.appendMany(7, [...range(6, 7), ...range(9, 10)]), 7, "a gap after 7: 9 and 10 not stored");
    assert.equal(store.appendMany(7, range(9, 10)), 7, "after a gap: nothing");
    assert.equal(store.appendMany(7, []), 7);
    assert.deepEqual(appends, [300, 200, 200]);
    assert.equal(
      store.read(7).toString(),
      range(1, 7)
        .map((c) => c.data.toString())
        .join(""),
    );
  });

  it("cuts a batch longer than the tail the same way, and indexes only what is kept", () => {
    const store = new LogStore(dir, { maxBytes: 2048 });
    const one = new LogStore(path.join(dir, "one"), { maxBytes: 2048 });
    const all = range(1, 60);
    store.appendMany(7, all);
    for (const c of all) one.append(7, c.seq, c.step, c.data);
    assert.ok(store.read(7).equals(one.read(7)));
    const idx = (d: string) => fs.readFileSync(path.join(d, "attempt-7.idx"), "utf8");
    assert.equal(idx(dir), idx(path.join(dir, "one")));
    store.close(7);
    assert.ok(new LogStore(dir, { maxBytes: 2048 }).read(7).equals(one.read(7)), "the same after a restart");
  });
});

describe("log store batches on a full disk (a small tmpfs)", function () {
  const tmpfs = useTmpfs("256k");

  it("stores every chunk of a batch that fits, throws at the first that does not, and takes the rest again later", () => {
    const filler = path.join(tmpfs.dir(), "filler");
    const s = fs.statfsSync(tmpfs.dir());
    fs.writeFileSync(filler, Buffer.alloc(s.bavail * s.bsize - (50 << 10)));
    const store = new LogStore(path.join(tmpfs.dir(), "logs"));
    const all = range(1, 10, 16 << 10);
    assert.throws(
      () => store.appendMany(7, all),
      (err: NodeJS.ErrnoException) => err.code === "ENOSPC",
    );
    const stored = store.storedSeq(7);
    assert.ok(stored >= 1 && stored < 10, `${stored} of 10 chunks stored`);
    assert.ok(store.read(7).equals(Buffer.concat(all.slice(0, stored).map((c) => c.data))), "those whole, nothing of the next");
    fs.rmSync(filler);
    assert.equal(store.appendMany(7, all), 10, "the batch again: the rest stored");
    const expected = Buffer.concat(all.map((c) => c.data));
    assert.ok(store.read(7).equals(expected), "every chunk once, in order");
    store.close(7);
    assert.ok(new LogStore(path.join(tmpfs.dir(), "logs")).read(7).equals(expected), "and the same after a restart");
  });
});
