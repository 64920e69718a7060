// Log output on the wire without the generic code's copies. The generated code encodes
// bytes through a growing writer (copied while it grows, joined at the end, then copied
// into a Buffer) before gRPC copies the message once more to frame it, and decodes each
// chunk's bytes into a copy: for heavy output that was most of what the agent did, and
// most of the coordinator's time, as much in garbage collection as in copying (every
// large Buffer is memory outside V8's heap, and each 64 MiB of it allocated brings a full
// collection). These encoders write the same protobuf bytes into one Buffer of the right
// size, copying each chunk's data once (a follower's LogData not even that:
// log-data-wire.ts); the decoder hands out views into the message gRPC received.
// Everything else goes through the generated code.
import { makeGenericClientConstructor } from "@grpc/grpc-js";
import { AgentMessage as AgentMessageCodec, type AgentMessage, type AgentServiceClient, AgentServiceService, type LogChunk } from "../gen/agent";
import { EMPTY, readVarint, varintLength, writeTagged, writeVarint } from "./wire-varint";

// Field tags (field number << 3 | wire type): 0 varint, 2 length-delimited.
const TAG = {
  agentLogChunk: (5 << 3) | 2, // AgentMessage.log_chunk
  agentLogChunks: (10 << 3) | 2, // AgentMessage.log_chunks
  chunksChunk: (1 << 3) | 2, // LogChunks.chunks
  chunkAttempt: 1 << 3, // LogChunk.attempt_id
  chunkSeq: 2 << 3, // LogChunk.seq
  chunkStep: (3 << 3) | 2, // LogChunk.step
  chunkData: (4 << 3) | 2, // LogChunk.data
};

/** A LogChunk's encoded length; `stepBytes` is the step name's UTF-8 length. */
function chunkLength(c: LogChunk, stepBytes: number): number {
  let n = 0;
  if (c.attemptId !== 0) n += 1 + varintLength(c.attemptId);
  if (c.seq !== 0) n += 1 + varintLength(c.seq);
  if (stepBytes !== 0) n += 1 + varintLength(stepBytes) + stepBytes;
  if (c.data.length !== 0) n += 1 + varintLength(c.data.length) + c.data.length;
  return n;
}

function writeChunk(buf: Buffer, pos: number, c: LogChunk, stepBytes: number): number {
  if (c.attemptId !== 0) {
    pos = writeTagged(buf, pos, TAG.chunkAttempt, c.attemptId);
  }
  if (c.seq !== 0) {
    pos = writeTagged(buf, pos, TAG.chunkSeq, c.seq);
  }
  if (stepBytes !== 0) {
    pos = writeTagged(buf, pos, TAG.chunkStep, stepBytes);
    pos += buf.write(c.step, pos, "utf8");
  }
  if (c.data.length !== 0) {
    pos = writeTagged(buf, pos, TAG.chunkData, c.data.length);
    buf.set(c.data, pos);
    pos += c.data.length;
  }
  return pos;
}

/** AgentMessage { log_chunks: { chunks } }, as AgentMessage.encode writes it. */
export function encodeLogChunks(chunks: readonly LogChunk[]): Buffer {
  const steps = chunks.map((c) => Buffer.byteLength(c.step, "utf8"));
  const lengths = chunks.map((c, i) => chunkLength(c, steps[i]!));
  let inner = 0;
  for (const l of lengths) inner += 1 + varintLength(l) + l;
  const buf = Buffer.allocUnsafe(1 + varintLength(inner) + inner);
  let pos = 0;
  pos = writeTagged(buf, pos, TAG.agentLogChunks, inner);
  for (let i = 0; i < chunks.length; i++) {
    pos = writeTagged(buf, pos, TAG.chunksChunk, lengths[i]!);
    pos = writeChunk(buf, pos, chunks[i]!, steps[i]!);
  }
  return buf;
}

/** AgentMessage { log_chunk }, as AgentMessage.encode writes it. */
export function encodeLogChunk(chunk: LogChunk): Buffer {
  const step = Buffer.byteLength(chunk.step, "utf8");
  const length = chunkLength(chunk, step);
  const buf = Buffer.allocUnsafe(1 + varintLength(length) + length);
  buf[0] = TAG.agentLogChunk;
  writeChunk(buf, writeVarint(buf, 1, length), chunk, step);
  return buf;
}

/** An AgentMessage's bytes: log output by the encoders above, the rest by the generated code. */
export function serializeAgentMessage(msg: AgentMessage): Buffer {
  const b = msg.body;
  if (b?.$case === "logChunks") return encodeLogChunks(b.value.chunks);
  if (b?.$case === "logChunk") return encodeLogChunk(b.value);
  return Buffer.from(AgentMessageCodec.encode(msg).finish());
}

/** The chunks of an AgentMessage that holds log_chunks or log_chunk and nothing else, with their data as views into buf; undefined otherwise. */
function decodeLogChunks(buf: Buffer): LogChunk[] | undefined {
  const outer = buf[0];
  if (outer !== TAG.agentLogChunks && outer !== TAG.agentLogChunk) return undefined;
  const len = readVarint(buf, 1, buf.length);
  if (!len || len.next + len.value !== buf.length) return undefined;
  const chunk = (from: number, end: number): LogChunk | undefined => {
    const c: LogChunk = { attemptId: 0, seq: 0, step: "", data: EMPTY };
    for (let pos = from; pos < end; ) {
      const tag = buf[pos++];
      const v = readVarint(buf, pos, end);
      if (!v) return undefined;
      pos = v.next;
      if (tag === TAG.chunkAttempt) c.attemptId = v.value;
      else if (tag === TAG.chunkSeq) c.seq = v.value;
      else if (tag === TAG.chunkStep || tag === TAG.chunkData) {
        if (pos + v.value > end) return undefined;
        if (tag === TAG.chunkStep) c.step = buf.toString("utf8", pos, pos + v.value);
        else c.data = buf.subarray(pos, pos + v.value);
        pos += v.value;
      } else return undefined;
    }
    return c;
  };
  if (outer === TAG.agentLogChunk) {
    const c = chunk(len.next, buf.length);
    return c && [c];
  }
  const chunks: LogChunk[] = [];
  for (let pos = len.next; pos < buf.length; ) {
    if (buf[pos++] !== TAG.chunksChunk) return undefined;
    const l = readVarint(buf, pos, buf.length);
    if (!l || l.next + l.value > buf.length) return undefined;
    const c = chunk(l.next, l.next + l.value);
    if (!c) return undefined;
    chunks.push(c);
    pos = l.next + l.value;
  }
  return chunks;
}

/**
 * An AgentMessage from its bytes. Log output (as this module and the generated code encode
 * it) is decoded here with each chunk's data a view into the message, not a copy; anything
 * else, or anything unexpected, by the generated decoder.
 */
export function deserializeAgentMessage(buf: Buffer): AgentMessage {
  const chunks = decodeLogChunks(buf);
  if (chunks === undefined) return AgentMessageCodec.decode(buf);
  if (buf[0] === TAG.agentLogChunk) return { body: { $case: "logChunk", value: chunks[0]! } };
  return { body: { $case: "logChunks", value: { chunks } } };
}

/** The AgentService as generated, with the agent's messages serialized and deserialized here (for the agent's client and the coordinator's server). */
export const AgentServiceWire = {
  ...AgentServiceService,
  connect: { ...AgentServiceService.connect, requestSerialize: serializeAgentMessage, requestDeserialize: deserializeAgentMessage },
};

/** The generated AgentServiceClient's class, on AgentServiceWire. */
export const AgentServiceWireClient = makeGenericClientConstructor(AgentServiceWire, "beamflow.v1.AgentService") as unknown as typeof AgentServiceClient;
