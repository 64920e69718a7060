// The hand-written encoders of log output write exactly what the generated encoders write,
// and the hand-written decoders read what either writes, as the generated decoders do
// (handing anything else to them): chunks of any size, steps with non-ASCII names,
// sequence numbers and offsets past 2^32, fields at their defaults left out.
import assert from "node:assert/strict";
import { LogData } from "../../../shared/gen/admin";
import { AgentMessage, type LogChunk } from "../../../shared/gen/agent";
import { allocFramable, deserializeLogData, FramePool, serializeLogData } from "../../../shared/protocol/log-data-wire";
import { deserializeAgentMessage, encodeLogChunk, encodeLogChunks, serializeAgentMessage } from "../../../shared/protocol/log-wire";

const generic = (m: AgentMessage) => Buffer.from(AgentMessage.encode(m).finish());

describe("log output on the wire", () => {
  const chunks: LogChunk[] = [
    { attemptId: 1, seq: 1, step: "rfifind", data: Buffer.from("hello\n") },
    { attemptId: 2 ** 40 + 3, seq: 2 ** 33 + 1, step: "prepsubband ünïcödé", data: Buffer.alloc(200_000, 0x61) },
    { attemptId: 7, seq: 128, step: "", data: Buffer.alloc(0) },
    { attemptId: 0, seq: 0, step: "x", data: Buffer.from([0, 255, 13, 10]) },
  ];

  it("encodes a batch of chunks as the generated encoder does", () => {
    const msg: AgentMessage = { body: { $case: "logChunks", value: { chunks } } };
    const mine = encodeLogChunks(chunks);
    assert.ok(mine.equals(generic(msg)));
    assert.ok(serializeAgentMessage(msg).equals(mine));
    const back = AgentMessage.decode(mine).body;
    assert.equal(back?.$case, "logChunks");
    if (back?.$case !== "logChunks") return;
    assert.deepEqual(
      back.value.chunks.map((c) => [c.attemptId, c.seq, c.step, Buffer.from(c.data).toString("hex")]),
      chunks.map((c) => [c.attemptId, c.seq, c.step, c.data.toString("hex")]),
    );
    assert.ok(encodeLogChunks([]).equals(generic({ body: { $case: "logChunks", value: { chunks: [] } } })));
  });

  it("encodes a single chunk as the generated encoder does, and leaves other messages to it", () => {
    for (const c of chunks) {
      const msg: AgentMessage = { body: { $case: "logChunk", value: c } };
      assert.ok(encodeLogChunk(c).equals(generic(msg)), `chunk ${c.seq}`);
      assert.ok(serializeAgentMessage(msg).equals(generic(msg)));
    }
    const leaving: AgentMessage = { body: { $case: "leaving", value: { reason: "bye" } } };
    assert.ok(serializeAgentMessage(leaving).equals(generic(leaving)));
  });

  it("encodes LogData as the generated encoder does", () => {
    const cases: LogData[] = [
      { attemptId: 5, offset: 0, data: Buffer.alloc(1 << 20, 0x62), end: false, attemptStatus: "running", nextOffset: 1 << 20 },
      { attemptId: 2 ** 35, offset: 2 ** 45 + 17, data: Buffer.from("x"), end: false, attemptStatus: "", nextOffset: 2 ** 45 + 18 },
      { attemptId: 5, offset: 300, data: Buffer.alloc(0), end: true, attemptStatus: "processed ✓", nextOffset: 300 },
      { attemptId: 0, offset: 0, data: Buffer.alloc(0), end: false, attemptStatus: "", nextOffset: 0 },
    ];
    for (const d of cases) {
      const mine = serializeLogData(d);
      assert.ok(mine.equals(Buffer.from(LogData.encode(d).finish())), `offset ${d.offset}`);
      const back = LogData.decode(mine);
      assert.equal(back.offset, d.offset);
      assert.equal(back.nextOffset, d.nextOffset);
      assert.ok(Buffer.from(back.data).equals(d.data));
    }
  });

  it("decodes batches and single chunks as the generated decoder does, with the data as views, and leaves anything else to it", () => {
    const batch: AgentMessage = { body: { $case: "logChunks", value: { chunks } } };
    const single: AgentMessage = { body: { $case: "logChunk", value: chunks[1]! } };
    const other: AgentMessage = { body: { $case: "leaving", value: { reason: "bye" } } };
    for (const msg of [batch, single, other]) {
      const bytes = generic(msg);
      const mine = deserializeAgentMessage(bytes);
      assert.deepEqual(JSON.parse(JSON.stringify(AgentMessage.toJSON(mine))), JSON.parse(JSON.stringify(AgentMessage.toJSON(AgentMessage.decode(bytes)))));
    }
    const mine = deserializeAgentMessage(generic(batch));
    if (mine.body?.$case !== "logChunks") return assert.fail("not a batch");
    assert.ok(Buffer.isBuffer(mine.body.value.chunks[1]!.data));
    // An unknown field in a chunk (a newer agent): the generated decoder, which skips it.
    const extra = Buffer.concat([Buffer.from([42, 9, 8, 1, 16, 2, 26, 1, 0x73, 40, 7]), Buffer.alloc(0)]);
    const withExtra = deserializeAgentMessage(extra);
    assert.deepEqual(withExtra.body?.$case === "logChunk" && [withExtra.body.value.attemptId, withExtra.body.value.seq, withExtra.body.value.step], [
      1,
      2,
      "s",
    ]);
    assert.throws(() => deserializeAgentMessage(Buffer.from([82, 200])), "a truncated message is refused as the generated decoder refuses it");
  });

  it("writes LogData around bytes read into a framable Buffer, and reads it back as a view", () => {
    const data = allocFramable(5000);
    data.fill(0x63);
    for (const d of [
      { attemptId: 5, offset: 2 ** 40, data, end: false, attemptStatus: "running", nextOffset: 2 ** 40 + 5000 },
      { attemptId: 5, offset: 1, data, end: true, attemptStatus: "x".repeat(100), nextOffset: 5001 },
    ]) {
      const mine = serializeLogData(d);
      assert.ok(mine.equals(Buffer.from(LogData.encode(d).finish())));
      const back = deserializeLogData(mine);
      assert.deepEqual({ ...back, data: back.data.length }, { ...d, data: 5000 });
      assert.ok(back.data.equals(data));
    }
    assert.ok(data.equals(Buffer.alloc(5000, 0x63)), "the bytes themselves are untouched");
    const other = { attemptId: 1, offset: 0, data: Buffer.from("z"), end: false, attemptStatus: "", nextOffset: 1 };
    assert.deepEqual(
      deserializeLogData(Buffer.concat([serializeLogData(other), Buffer.from([0x50, 1])])),
      LogData.decode(Buffer.concat([serializeLogData(other), Buffer.from([0x50, 1])])),
      "an unknown field: the generated decoder",
    );
  });

  it("uses a pooled Buffer again only once the LogData around it is serialized, and keeps no more than it may", () => {
    const pool = new FramePool(1 << 20, 2);
    const piece = (data: Buffer) => ({ attemptId: 3, offset: 10, data, end: false, attemptStatus: "running", nextOffset: 10 + data.length });
    const a = pool.alloc(600_000).fill(0x61);
    const b = pool.alloc(600_000).fill(0x62);
    assert.notEqual(a.buffer, b.buffer, "a Buffer not serialized yet is not handed out again");
    const d = piece(a);
    const expected = Buffer.from(LogData.encode(d).finish());
    assert.ok(serializeLogData(d).equals(expected));
    assert.equal(pool.idle, 1);
    const again = serializeLogData(d);
    assert.ok(again.equals(expected), "serialized twice: the same bytes");
    assert.notEqual(again.buffer, a.buffer, "the second time, a copy: the pooled Buffer may be another piece's by then");
    assert.equal(pool.idle, 1, "nor is the Buffer freed twice");
    const c = pool.alloc(700_000);
    assert.equal(c.buffer, a.buffer, "the serialized one is used again");
    assert.ok(b.equals(Buffer.alloc(600_000, 0x62)), "the one still waiting is untouched");

    const small = pool.alloc(100);
    const large = pool.alloc((1 << 20) + 1);
    for (const x of [small, large]) serializeLogData(piece(x.fill(0x63)));
    assert.equal(pool.idle, 0, "a small or an oversized piece has a Buffer of its own, not the pool's");
    for (const x of [b, c, pool.alloc(1 << 20)]) serializeLogData(piece(x));
    assert.equal(pool.idle, 2, "three freed, two kept");
  });
});
