// The log pump between the spool and the stream: log chunks first, an attempt's
// result only after all of its log, each once per stream; a full stream waits for
// its "drain"; a new stream gets everything unacknowledged again; several chunks to a
// message (up to 1 MiB) for a coordinator that takes them; the spool's memory written
// to disk while there is no stream.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AgentMetrics } from "../../../agent/metrics/agent-metrics";
import type { CoordinatorStream } from "../../../agent/session/connection";
import { LogPump } from "../../../agent/session/log-pump";
import { LogSpool } from "../../../agent/session/log-spool";
import { Outbox } from "../../../agent/session/outbox";
import { type AgentMessage, AttemptOutcome, AttemptResult } from "../../../shared/gen/agent";

/** A stream that records what is written and is full after `room` writes, until drain(). */
class FakeStream extends EventEmitter {
  readonly written: string[] = [];
  room = Number.POSITIVE_INFINITY;
  write(m: AgentMessage): boolean {
    const b = m.body!;
    this.written.push(
      b.$case === "logChunk"
        ? `log ${b.value.attemptId}/${b.value.seq}`
        : b.$case === "logChunks"
          ? `logs ${b.value.chunks.map((c) => `${c.attemptId}/${c.seq}`).join(" ")}`
          : b.$case === "attemptResult"
            ? `result ${b.value.attemptId}`
            : b.$case,
    );
    return --this.room > 0;
  }
  drain(room = Number.POSITIVE_INFINITY): void {
    this.room = room;
    this.emit("drain");
  }
}

describe("agent log pump", () => {
  let dir: string;
  let spool: LogSpool;
  let outbox: Outbox;
  let stream: FakeStream | null;
  let pump: LogPump;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-pump-"));
    spool = new LogSpool(path.join(dir, "spool"), 0, () => undefined);
    spool.clearStale();
    outbox = new Outbox();
    stream = new FakeStream();
    const metrics = new AgentMetrics({ runningAttempts: () => 0, spooledBytes: () => spool.bytes, workBase: dir, scratchDir: dir });
    pump = new LogPump({ spool, outbox, metrics, stream: () => stream as unknown as CoordinatorStream | null });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const result = (attemptId: number) => AttemptResult.fromPartial({ attemptId, outcome: AttemptOutcome.OUTCOME_SUCCEEDED });

  it("sends log chunks, then a result only once all of its attempt's log is out, each once per stream", () => {
    spool.add(7, "s", Buffer.from("a"));
    outbox.addResult(result(7));
    pump.pump();
    assert.deepEqual(stream!.written, ["log 7/1", "result 7"]);
    pump.pump();
    assert.deepEqual(stream!.written, ["log 7/1", "result 7"], "nothing twice on the same stream");
  });

  it("holds a result back while its attempt's log is not all written", () => {
    spool.add(7, "s", Buffer.from("a"));
    spool.add(7, "s", Buffer.from("b"));
    outbox.addResult(result(7));
    stream!.room = 1;
    pump.pump();
    assert.deepEqual(stream!.written, ["log 7/1"], "the stream is full after one write");
    pump.pump();
    assert.deepEqual(stream!.written, ["log 7/1"], "nothing more until the stream drains");
    stream!.drain();
    assert.deepEqual(stream!.written, ["log 7/1", "log 7/2", "result 7"]);
  });

  it("writes nothing without a welcomed stream, and everything unacknowledged once a new one is welcomed", () => {
    const first = stream!;
    spool.add(7, "s", Buffer.from("a"));
    spool.add(7, "s", Buffer.from("b"));
    outbox.addResult(result(7));
    pump.pump();
    spool.ack(7, 1);
    stream = null;
    spool.add(7, "s", Buffer.from("c"));
    pump.pump();
    assert.deepEqual(first.written, ["log 7/1", "log 7/2", "result 7"]);
    stream = new FakeStream();
    pump.restart();
    assert.deepEqual(stream.written, ["log 7/2", "log 7/3", "result 7"]);
  });

  it("a full stream that is replaced does not hold back the new one", () => {
    const first = stream!;
    first.room = 1;
    spool.add(7, "s", Buffer.from("a"));
    spool.add(7, "s", Buffer.from("b"));
    pump.pump();
    assert.deepEqual(first.written, ["log 7/1"]);
    stream = new FakeStream();
    pump.restart();
    assert.deepEqual(stream.written, ["log 7/1", "log 7/2"]);
    first.drain();
    assert.deepEqual(first.written, ["log 7/1"], "the old stream's drain writes nothing to it");
  });

  it("after forget, a result given again goes again", () => {
    outbox.addResult(result(7));
    pump.pump();
    pump.forget(7);
    outbox.forget(7);
    outbox.addResult(result(7));
    pump.pump();
    assert.deepEqual(stream!.written, ["result 7", "result 7"]);
  });

  it("sends chunks in batches of up to 1 MiB to a coordinator that takes them, a result after its attempt's last batch", () => {
    stream = new FakeStream();
    pump.restart(true);
    for (let i = 0; i < 20; i++) spool.add(7, "s", Buffer.alloc(64 << 10));
    spool.add(9, "s", Buffer.from("x"));
    outbox.addResult(result(7));
    pump.pump();
    const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `7/${from + i}`).join(" ");
    assert.deepEqual(stream.written, [`logs ${seqs(1, 16)}`, `logs ${seqs(17, 20)} 9/1`, "result 7"]);
  });

  it("sends one message for the chunks of one flush (pumpSoon), and waits for a drain between batches", async () => {
    stream = new FakeStream();
    pump.restart(true);
    stream.room = 1;
    for (let i = 0; i < 3; i++) {
      spool.add(7, "s", Buffer.from(String(i)));
      pump.pumpSoon();
    }
    assert.deepEqual(stream.written, [], "not yet: the flush may add more");
    await Promise.resolve();
    assert.deepEqual(stream.written, ["logs 7/1 7/2 7/3"]);
    spool.add(7, "s", Buffer.from("3"));
    pump.pumpSoon();
    await Promise.resolve();
    assert.deepEqual(stream.written, ["logs 7/1 7/2 7/3"], "the stream is full");
    spool.add(7, "s", Buffer.from("4"));
    stream.drain();
    assert.deepEqual(stream.written, ["logs 7/1 7/2 7/3", "logs 7/4 7/5"], "what waited goes in one batch");
  });

  it("sends chunks one to a message to a coordinator that does not say it takes batches", () => {
    stream = new FakeStream();
    pump.restart(false);
    spool.add(7, "s", Buffer.from("a"));
    spool.add(7, "s", Buffer.from("b"));
    pump.pump();
    assert.deepEqual(stream.written, ["log 7/1", "log 7/2"]);
  });

  it("writes the spool's memory to disk while there is no stream, and sends it from there to the next one", () => {
    spool = new LogSpool(path.join(dir, "spool2"), 0, () => undefined);
    spool.clearStale();
    const metrics = new AgentMetrics({ runningAttempts: () => 0, spooledBytes: () => spool.bytes, workBase: dir, scratchDir: dir });
    pump = new LogPump({ spool, outbox, metrics, stream: () => stream as unknown as CoordinatorStream | null });
    const onDisk = () => fs.readdirSync(path.join(dir, "spool2")).length;
    stream = null;
    spool.add(7, "s", Buffer.from("a"));
    assert.equal(onDisk(), 0, "in memory");
    pump.pump();
    assert.equal(onDisk(), 1, "no stream: on disk");
    stream = new FakeStream();
    pump.restart(true);
    assert.deepEqual(stream.written, ["logs 7/1"]);
  });
});
