// The download's running SHA-256, in line or in a worker: either gives the digest of exactly
// the bytes it was given, in order, whatever the chunking, and a caller may reuse its buffer.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import { InlineHasher, newHasher, type StreamHasher, WorkerHasher } from "../../../coordinator/downloader/hasher";

async function feed(h: StreamHasher, data: Buffer, sizes: number[]): Promise<string> {
  const scratch = Buffer.alloc(Math.max(...sizes));
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = Math.min(sizes[i % sizes.length]!, data.length - at);
    data.copy(scratch, 0, at, at + n);
    h.update(scratch.subarray(0, n));
    scratch.fill(0); // reused at once: the hash must not see this
    at += n;
    await h.drained();
  }
  return h.digest();
}

describe("download hashers", () => {
  const data = crypto.randomBytes(9 << 20);
  const want = crypto.createHash("sha256").update(data).digest("hex");

  for (const [name, make] of [
    ["in line", () => new InlineHasher()],
    ["in a worker (with a backlog small enough to pace the caller)", () => new WorkerHasher(1 << 20)],
    ["as chosen for this CPU", newHasher],
  ] as const) {
    it(`${name}: the digest of the bytes given, with odd chunk sizes and reused buffers`, async () => {
      assert.equal(await feed(make(), data, [1, 65_536, 1_000_003, 7, 4 << 20]), want);
    });
  }

  it("the empty input's digest, and no update after the digest", async () => {
    for (const h of [new InlineHasher(), new WorkerHasher()]) {
      assert.equal(await h.digest(), crypto.createHash("sha256").digest("hex"));
      assert.throws(() => h.update(Buffer.from("x")), /already digested/);
    }
  });
});
