// The log pump between the spool and the stream: log chunks first, an attempt's
// result only after all of its log, each once per stream; a full stream waits for
// its "drain"; a new stream gets everything unacknowledged again.
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
      b.$case === "logChunk" ? `log ${b.value.attemptId}/${b.value.seq}` : b.$case === "attemptResult" ? `result ${b.value.attemptId}` : b.$case,
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
});
