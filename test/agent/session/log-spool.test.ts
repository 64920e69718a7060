// The agent's spool of log output the coordinator has not acknowledged: chunks
// numbered per attempt, sent once per stream, sent again after a reconnect until
// acknowledged, kept in memory while the coordinator keeps up and on disk once it falls
// behind or is away, bounded with the steps held back when it is full, and nothing left
// behind once an attempt is forgotten or the agent starts again.
import { useTmpfs } from "../../support/tmpfs";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LogSpool } from "../../../agent/session/log-spool";
import type { LogChunk } from "../../../shared/gen/agent";

const text = (chunks: LogChunk[]) => chunks.map((c) => `${c.attemptId}/${c.seq}/${c.step}:${c.data.toString()}`);

describe("agent log spool", () => {
  let dir: string;
  let fullCalls: boolean[];
  /** memoryBytes 0: every chunk on disk, as when the coordinator has fallen behind */
  const spool = (maxBytes = 0, memoryBytes = 0) => {
    const s = new LogSpool(dir, maxBytes, (full) => fullCalls.push(full), memoryBytes);
    s.clearStale();
    return s;
  };
  const segments = () => fs.readdirSync(dir).filter((f) => f.endsWith(".spool"));

  beforeEach(() => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bf-spool-")), "spool");
    fullCalls = [];
  });
  afterEach(() => fs.rmSync(path.dirname(dir), { recursive: true, force: true }));

  it("numbers each attempt's chunks from 1 and hands each out once per stream, read back from disk", () => {
    const s = spool();
    assert.equal(s.add(7, "rfifind", Buffer.from("a")), 1);
    assert.equal(s.add(7, "rfifind", Buffer.from("b")), 2);
    assert.equal(s.add(9, "prepsubband", Buffer.from("c")), 1);
    assert.equal(s.bytes, 3);
    assert.equal(s.allSent(7), false);
    assert.deepEqual(text([...s.unsent()]), ["7/1/rfifind:a", "7/2/rfifind:b", "9/1/prepsubband:c"]);
    assert.equal(s.allSent(7), true);
    assert.equal(s.allSent(9), true);
    assert.deepEqual([...s.unsent()], [], "sent chunks are not handed out again on the same stream");
    s.add(7, "rfifind", Buffer.from("d"));
    assert.deepEqual(text([...s.unsent()]), ["7/3/rfifind:d"]);
  });

  it("after a reconnect sends again exactly what was not acknowledged", () => {
    const s = spool();
    for (const d of ["a", "b", "c"]) s.add(7, "step", Buffer.from(d));
    [...s.unsent()];
    s.ack(7, 2);
    assert.equal(s.bytes, 1);
    s.rewind();
    assert.equal(s.allSent(7), false);
    assert.deepEqual(text([...s.unsent()]), ["7/3/step:c"]);
    s.ack(7, 3);
    s.rewind();
    assert.deepEqual([...s.unsent()], [], "nothing unacknowledged, nothing to send again");
    assert.equal(s.allSent(7), true);
    assert.equal(s.bytes, 0);
  });

  it("takes an acknowledgement of an unknown attempt, or of chunks already acknowledged, as nothing", () => {
    const s = spool();
    s.add(7, "step", Buffer.from("abc"));
    s.ack(8, 10);
    s.ack(7, 0);
    assert.equal(s.bytes, 3);
    s.ack(7, 1);
    s.ack(7, 1);
    assert.equal(s.bytes, 0);
  });

  it("keeps the chunks on disk, not in memory, and a new run of the agent starts from nothing", () => {
    const s = spool();
    s.add(7, "step", Buffer.from("kept on disk"));
    assert.equal(segments().length, 1);
    assert.equal(fs.readFileSync(path.join(dir, segments()[0]!), "utf8"), "kept on disk");
    // The attempts of an earlier run are gone with it: their spool is cleared at start.
    const again = spool();
    assert.deepEqual(segments(), []);
    assert.equal(again.bytes, 0);
    assert.deepEqual([...again.unsent()], []);
  });

  it("keeps chunks in memory within its budget, and writes to disk only what comes past it", () => {
    const s = spool(0, 10);
    s.add(7, "step", Buffer.from("12345"));
    s.add(7, "step", Buffer.from("67890"));
    assert.deepEqual(segments(), [], "10 bytes: within the budget, nothing on disk");
    s.add(7, "step", Buffer.from("abc"));
    assert.equal(fs.readFileSync(path.join(dir, segments()[0]!), "utf8"), "abc", "past the budget: on disk");
    assert.deepEqual(text([...s.unsent()]), ["7/1/step:12345", "7/2/step:67890", "7/3/step:abc"]);
    s.ack(7, 2);
    s.add(7, "step", Buffer.from("d"));
    assert.equal(fs.readFileSync(path.join(dir, segments()[0]!), "utf8"), "abc", "acknowledged memory is room again");
    s.rewind();
    assert.deepEqual(text([...s.unsent()]), ["7/3/step:abc", "7/4/step:d"]);
    s.ack(7, 4);
    assert.equal(s.bytes, 0);
  });

  it("writes what it holds in memory to disk when the stream is gone, and new chunks too until a new stream", () => {
    const s = spool(0, 1 << 20);
    s.add(7, "a", Buffer.from("one"));
    s.add(9, "b", Buffer.from("two"));
    [...s.unsent()];
    assert.deepEqual(segments(), []);
    s.spill();
    assert.deepEqual(segments().sort(), ["7-0.spool", "9-0.spool"]);
    s.add(7, "a", Buffer.from("three"));
    assert.equal(fs.readFileSync(path.join(dir, "7-0.spool"), "utf8"), "onethree", "no stream: to disk");
    assert.equal(s.bytes, 11);
    s.rewind();
    s.add(7, "a", Buffer.from("four"));
    assert.equal(fs.readFileSync(path.join(dir, "7-0.spool"), "utf8"), "onethree", "a new stream: in memory again");
    assert.deepEqual(text([...s.unsent()]), ["7/1/a:one", "7/2/a:three", "7/3/a:four", "9/1/b:two"], "read back from disk, in order");
    s.ack(7, 3);
    s.ack(9, 1);
    assert.equal(s.bytes, 0);
    assert.deepEqual(segments().sort(), ["7-0.spool", "9-0.spool"], "each attempt's segment being written stays for its next chunks");
    s.forget(7);
    s.forget(9);
    assert.deepEqual(segments(), []);
  });

  it("says it is full at its bound and that it is not once acknowledgements bring it to half", () => {
    const s = spool(100);
    for (let i = 0; i < 9; i++) s.add(7, "step", Buffer.alloc(10, 0x61));
    assert.deepEqual(fullCalls, []);
    s.add(7, "step", Buffer.alloc(10, 0x61));
    assert.deepEqual(fullCalls, [true], "100 bytes unacknowledged: the steps are held back");
    // Still spooled while full: output is held back, never dropped.
    s.add(7, "step", Buffer.alloc(10, 0x61));
    assert.equal(s.bytes, 110);
    assert.deepEqual(fullCalls, [true], "told once");
    s.ack(7, 5);
    assert.equal(s.bytes, 60);
    assert.deepEqual(fullCalls, [true], "above half the bound it stays full");
    s.ack(7, 6);
    assert.equal(s.bytes, 50);
    assert.deepEqual(fullCalls, [true, false]);
    assert.deepEqual(
      [...s.unsent()].map((c) => c.seq),
      [7, 8, 9, 10, 11],
      "every unacknowledged chunk is still there to send",
    );
  });

  it("has no bound when its size is 0", () => {
    const s = spool(0);
    for (let i = 0; i < 100; i++) s.add(7, "step", Buffer.alloc(1000));
    assert.deepEqual(fullCalls, []);
  });

  it("forgets an attempt: its bytes, its chunks and its files, and relieves a full spool", () => {
    const s = spool(20);
    s.add(7, "step", Buffer.alloc(15));
    s.add(9, "step", Buffer.alloc(10));
    assert.deepEqual(fullCalls, [true]);
    s.forget(7);
    assert.equal(s.bytes, 10);
    assert.deepEqual(fullCalls, [true, false]);
    assert.equal(s.allSent(7), true);
    assert.deepEqual(
      text([...s.unsent()]).map((t) => t.split(":")[0]),
      ["9/1/step"],
    );
    s.forget(9);
    assert.deepEqual(segments(), []);
    s.forget(9);
    assert.equal(s.bytes, 0);
  });

  it("starts a new segment file past 8 MiB and deletes each one whose chunks are all acknowledged", () => {
    const s = spool();
    const mib = Buffer.alloc(1 << 20, 0x62);
    for (let i = 0; i < 9; i++) s.add(7, "step", mib);
    assert.equal(segments().length, 2, "8 MiB in the first segment, the ninth in a second");
    s.ack(7, 8);
    assert.deepEqual(segments(), ["7-1.spool"], "the first segment is gone once all of it is acknowledged");
    s.rewind();
    const again = [...s.unsent()];
    assert.equal(again.length, 1);
    assert.equal(again[0]!.seq, 9);
    assert.ok(again[0]!.data.equals(mib), "read back from the second segment");
  });
});

describe("agent log spool on a full disk (a small tmpfs)", function () {
  const tmpfs = useTmpfs("256k");

  it("keeps what the disk has no room for in memory, says so once, and delivers every chunk in order", () => {
    const events: (string | null)[] = [];
    const s = new LogSpool(path.join(tmpfs.dir(), "spool"), 0, () => {}, 0);
    s.clearStale();
    s.onDiskFull = (err) => events.push(err ? err.code! : null);
    const sent: string[] = [];
    for (let i = 1; i <= 12; i++) s.add(5, "prepsubband", Buffer.alloc(32 << 10, String.fromCharCode(96 + i)));
    assert.deepEqual(events, ["ENOSPC"], "told once that the disk is full");
    for (const c of s.unsent()) sent.push(`${c.seq}:${c.data.length}:${c.data.toString("latin1", 0, 1)}`);
    assert.deepEqual(
      sent,
      Array.from({ length: 12 }, (_, i) => `${i + 1}:${32 << 10}:${String.fromCharCode(97 + i)}`),
      "every chunk, on disk or held, in order and whole",
    );
    s.ack(5, 12);
    assert.deepEqual(events, ["ENOSPC", null], "output may flow once the held chunks are acknowledged");
    assert.equal(s.bytes, 0);
    // Room again: chunks go to disk as before.
    s.add(5, "prepsubband", Buffer.from("after\n"));
    assert.deepEqual(events, ["ENOSPC", null]);
    s.forget(5);
  });
});
