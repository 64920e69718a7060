// The coordinator's log store on a disk that fills up mid-chunk (a small tmpfs): the
// chunk that does not fit leaves nothing behind, later chunks are not stored past the
// gap, and once there is room the re-sent chunks make the log whole, each byte once.
import { useTmpfs } from "../../support/tmpfs";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { LogStore } from "../../../coordinator/logs/log-store";

describe("log store on a full disk", function () {
  const tmpfs = useTmpfs("256k");

  it("stores nothing of a chunk that does not fit, nothing past it, and everything once when there is room", () => {
    const filler = path.join(tmpfs.dir(), "filler");
    const s = fs.statfsSync(tmpfs.dir());
    fs.writeFileSync(filler, Buffer.alloc(s.bavail * s.bsize - (50 << 10)));
    const store = new LogStore(path.join(tmpfs.dir(), "logs"));
    const chunk = (i: number) => Buffer.from(`${String(i).padStart(4, "0")} ${"x".repeat(16 << 10)}\n`);
    let seq = 0;
    let failedAt = 0;
    for (let i = 1; i <= 10; i++) {
      try {
        assert.equal(store.append(7, i, "s", chunk(i)), i);
        seq = i;
      } catch (err) {
        assert.equal((err as NodeJS.ErrnoException).code, "ENOSPC");
        failedAt = i;
        break;
      }
    }
    assert.ok(failedAt > 1, "the disk filled up after some chunks");
    assert.equal(store.storedSeq(7), seq);
    assert.equal(store.append(7, failedAt + 1, "s", chunk(failedAt + 1)), seq, "a chunk past the gap is not stored");

    fs.rmSync(filler);
    for (let i = failedAt; i <= 10; i++) assert.equal(store.append(7, i, "s", chunk(i)), i);
    const expected = Buffer.concat(Array.from({ length: 10 }, (_, i) => chunk(i + 1)));
    assert.ok(store.read(7).equals(expected), "every chunk once, in order");
    store.close(7);
    assert.ok(new LogStore(path.join(tmpfs.dir(), "logs")).read(7).equals(expected), "and the same when read back after a restart");
  });
});
