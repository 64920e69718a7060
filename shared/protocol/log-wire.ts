// Log output on the wire without the generic code's copies. The generated code encodes
// bytes through a growing writer (copied while it grows, joined at the end, then copied
// into a Buffer) before gRPC copies the message once more to frame it, and decodes each
// chunk's bytes into a copy: for heavy output that was most of what the agent did, and
// most of the coordinator's time, as much in garbage collection as in copying (every
// large Buffer is memory outside V8's heap, and each 64 MiB of it allocated brings a full
// collection). These encoders write the same protobuf bytes into one Buffer of the right
// size, copying each chunk's data once (or not at all: allocFramable); the decoder hands
// out views into the message gRPC received. Everything else goes through the generated code.
import { makeGenericClientConstructor } from "@grpc/grpc-js";
import { AgentMessage as AgentMessageCodec, type AgentMessage, type AgentServiceClient, AgentServiceService, type LogChunk } from "../gen/agent";
import { AdminServiceService, type LogData } from "../gen/admin";

// Field tags (field number << 3 | wire type): 0 varint, 2 length-delimited.
const TAG = {
  agentLogChunk: (5 << 3) | 2, // AgentMessage.log_chunk
  agentLogChunks: (10 << 3) | 2, // AgentMessage.log_chunks
  chunksChunk: (1 << 3) | 2, // LogChunks.chunks
  chunkAttempt: 1 << 3, // LogChunk.attempt_id
  chunkSeq: 2 << 3, // LogChunk.seq
  chunkStep: (3 << 3) | 2, // LogChunk.step
  chunkData: (4 << 3) | 2, // LogChunk.data
  dataAttempt: 1 << 3, // LogData.attempt_id
  dataOffset: 2 << 3, // LogData.offset
  dataData: (3 << 3) | 2, // LogData.data
  dataEnd: 4 << 3, // LogData.end
  dataStatus: (5 << 3) | 2, // LogData.attempt_status
  dataNext: 6 << 3, // LogData.next_offset
};

/** Bytes of a varint: whole numbers up to 2^53 (the generated code's forceLong=number). */
function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

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
    buf[pos++] = TAG.chunkAttempt;
    pos = writeVarint(buf, pos, c.attemptId);
  }
  if (c.seq !== 0) {
    buf[pos++] = TAG.chunkSeq;
    pos = writeVarint(buf, pos, c.seq);
  }
  if (stepBytes !== 0) {
    buf[pos++] = TAG.chunkStep;
    pos = writeVarint(buf, pos, stepBytes);
    pos += buf.write(c.step, pos, "utf8");
  }
  if (c.data.length !== 0) {
    buf[pos++] = TAG.chunkData;
    pos = writeVarint(buf, pos, c.data.length);
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
  buf[pos++] = TAG.agentLogChunks;
  pos = writeVarint(buf, pos, inner);
  for (let i = 0; i < chunks.length; i++) {
    buf[pos++] = TAG.chunksChunk;
    pos = writeVarint(buf, pos, lengths[i]!);
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

const FRAME_HEAD = 32;
const FRAME_TAIL = 64;
/** Buffers with room around them for the rest of a LogData message (allocFramable). */
const framable = new WeakSet<Uint8Array>();

/**
 * A Buffer for `length` bytes of log output, with room before and after it for the rest of
 * a LogData message: serializeLogData then writes the message around the bytes where they
 * are instead of copying them (read a log piece straight into it).
 */
export function allocFramable(length: number): Buffer {
  const data = Buffer.allocUnsafe(FRAME_HEAD + length + FRAME_TAIL).subarray(FRAME_HEAD, FRAME_HEAD + length);
  framable.add(data);
  return data;
}

/** A LogData's bytes, as LogData.encode writes them. */
export function serializeLogData(d: LogData): Buffer {
  const status = Buffer.byteLength(d.attemptStatus, "utf8");
  const length = d.data.length;
  let head = 0;
  if (d.attemptId !== 0) head += 1 + varintLength(d.attemptId);
  if (d.offset !== 0) head += 1 + varintLength(d.offset);
  if (length !== 0) head += 1 + varintLength(length);
  let tail = 0;
  if (d.end) tail += 2;
  if (status !== 0) tail += 1 + varintLength(status) + status;
  if (d.nextOffset !== 0) tail += 1 + varintLength(d.nextOffset);
  let buf: Buffer;
  if (length !== 0 && framable.has(d.data) && head <= FRAME_HEAD && tail <= FRAME_TAIL) {
    // Around the bytes, where they are.
    buf = Buffer.from(d.data.buffer, d.data.byteOffset - head, head + length + tail);
  } else {
    buf = Buffer.allocUnsafe(head + length + tail);
    buf.set(d.data, head);
  }
  let pos = 0;
  if (d.attemptId !== 0) {
    buf[pos++] = TAG.dataAttempt;
    pos = writeVarint(buf, pos, d.attemptId);
  }
  if (d.offset !== 0) {
    buf[pos++] = TAG.dataOffset;
    pos = writeVarint(buf, pos, d.offset);
  }
  if (length !== 0) {
    buf[pos++] = TAG.dataData;
    pos = writeVarint(buf, pos, length);
    pos += length;
  }
  if (d.end) {
    buf[pos++] = TAG.dataEnd;
    buf[pos++] = 1;
  }
  if (status !== 0) {
    buf[pos++] = TAG.dataStatus;
    pos = writeVarint(buf, pos, status);
    pos += buf.write(d.attemptStatus, pos, "utf8");
  }
  if (d.nextOffset !== 0) {
    buf[pos++] = TAG.dataNext;
    pos = writeVarint(buf, pos, d.nextOffset);
  }
  return buf;
}

/** A varint at buf[at], as a number (up to 2^53), and where it ends; undefined if it does not end within `end`. */
function readVarint(buf: Buffer, at: number, end: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let pos = at; pos < end && pos < at + 10; pos++) {
    const b = buf[pos]!;
    value += (b & 127) * scale;
    if (b < 128) return { value, next: pos + 1 };
    scale *= 128;
  }
  return undefined;
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

const EMPTY = Buffer.alloc(0);

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

/** The AdminService as generated, with TailLog's LogData serialized by serializeLogData (for the coordinator's server). */
export const AdminServiceWire = {
  ...AdminServiceService,
  tailLog: { ...AdminServiceService.tailLog, responseSerialize: serializeLogData },
};

/** The generated AgentServiceClient's class, on AgentServiceWire. */
export const AgentServiceWireClient = makeGenericClientConstructor(AgentServiceWire, "beamflow.v1.AgentService") as unknown as typeof AgentServiceClient;
