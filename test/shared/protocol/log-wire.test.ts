// The hand-written encoders of log output write exactly what the generated encoders write,
// and decode with the generated decoders: chunks of any size, steps with non-ASCII names,
// sequence numbers and offsets past 2^32, fields at their defaults left out.
import assert from "node:assert/strict";
import { LogData } from "../../../shared/gen/admin";
import { AgentMessage, type LogChunk } from "../../../shared/gen/agent";
import { encodeLogChunk, encodeLogChunks, serializeAgentMessage, serializeLogData } from "../../../shared/protocol/log-wire";

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
});
