// TailLog's LogData on the wire without the generic code's copies (see log-wire.ts for
// why): the coordinator writes a follower's message around the log bytes it read, and
// the CLI decodes it with the data a view into what gRPC received.
import { makeGenericClientConstructor } from "@grpc/grpc-js";
import { type AdminServiceClient, AdminServiceService, LogData as LogDataCodec, type LogData } from "../gen/admin";
import { EMPTY, readVarint, varintLength, writeTagged } from "./wire-varint";

// Field tags (field number << 3 | wire type): 0 varint, 2 length-delimited.
const TAG = {
  attempt: 1 << 3, // LogData.attempt_id
  offset: 2 << 3, // LogData.offset
  data: (3 << 3) | 2, // LogData.data
  end: 4 << 3, // LogData.end
  status: (5 << 3) | 2, // LogData.attempt_status
  next: 6 << 3, // LogData.next_offset
};

const FRAME_HEAD = 32;
const FRAME_TAIL = 64;
/**
 * Buffers with room around them for the rest of a LogData message (allocFramable), each with
 * the FramePool that lent it until its message is serialized, or null.
 */
const framable = new WeakMap<Uint8Array, FramePool | null>();

/**
 * A Buffer for `length` bytes of log output, with room before and after it for the rest of
 * a LogData message: serializeLogData then writes the message around the bytes where they
 * are instead of copying them (read a log piece straight into it).
 */
export function allocFramable(length: number): Buffer {
  return frame(Buffer.allocUnsafe(FRAME_HEAD + length + FRAME_TAIL), length, null);
}

function frame(whole: Buffer, length: number, pool: FramePool | null): Buffer {
  const data = whole.subarray(FRAME_HEAD, FRAME_HEAD + length);
  framable.set(data, pool);
  return data;
}

/**
 * Framable Buffers of up to `capacity` bytes, each used again once the LogData around it
 * has been serialized. Why: every large Buffer is memory outside V8's heap, and enough of
 * it allocated brings a full collection; a follower of heavy output took a fresh
 * megabyte per message, a quarter of what the coordinator allocated for the log's way
 * through it, and collections were a third of its CPU. Serializing is where the bytes
 * leave the Buffer: gRPC copies the serialized message into a frame of its own before it
 * returns to anything that could take the Buffer again (a follower's test attacks this
 * with stopped and running readers sharing a pool). So a LogData with pooled data is
 * serialized once, or not at all (then its Buffer is simply not reused).
 */
export class FramePool {
  private readonly free: Buffer[] = [];

  /** At most `keep` free Buffers are kept: more in use at once are allocated, and dropped after. */
  constructor(
    readonly capacity: number,
    private readonly keep: number,
  ) {}

  /**
   * A framable Buffer for `length` bytes: a pooled one for a large piece (a free one when
   * there is one); a small piece gets one of its own, so that many followers of sparse
   * output, their messages queued, do not each hold megabytes for a few lines.
   */
  alloc(length: number): Buffer {
    if (length > this.capacity || length < this.capacity / 16) return allocFramable(length);
    return frame(this.free.pop() ?? Buffer.allocUnsafe(FRAME_HEAD + this.capacity + FRAME_TAIL), length, this);
  }

  /** Free Buffers kept now. */
  get idle(): number {
    return this.free.length;
  }

  /** `data`'s Buffer is free again (it was serialized); only once. */
  static serialized(data: Uint8Array): void {
    const pool = framable.get(data);
    if (!pool) return;
    // Framing in place again would write into a Buffer that may be another piece's now.
    framable.delete(data);
    if (pool.free.length < pool.keep) pool.free.push(Buffer.from(data.buffer, data.byteOffset - FRAME_HEAD, FRAME_HEAD + pool.capacity + FRAME_TAIL));
  }
}

/**
 * A LogData's bytes, as LogData.encode writes them. When its data is pooled (FramePool),
 * the bytes returned are only good until the pool's next alloc: gRPC copies them at once.
 */
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
    pos = writeTagged(buf, pos, TAG.attempt, d.attemptId);
  }
  if (d.offset !== 0) {
    pos = writeTagged(buf, pos, TAG.offset, d.offset);
  }
  if (length !== 0) {
    pos = writeTagged(buf, pos, TAG.data, length);
    pos += length;
  }
  if (d.end) {
    buf[pos++] = TAG.end;
    buf[pos++] = 1;
  }
  if (status !== 0) {
    pos = writeTagged(buf, pos, TAG.status, status);
    pos += buf.write(d.attemptStatus, pos, "utf8");
  }
  if (d.nextOffset !== 0) {
    pos = writeTagged(buf, pos, TAG.next, d.nextOffset);
  }
  FramePool.serialized(d.data);
  return buf;
}

/**
 * A LogData from its bytes, its data a view into them rather than a copy (a follower takes
 * heavy output a megabyte per message); anything unexpected by the generated decoder.
 */
export function deserializeLogData(buf: Buffer): LogData {
  const d: LogData = { attemptId: 0, offset: 0, data: EMPTY, end: false, attemptStatus: "", nextOffset: 0 };
  for (let pos = 0; pos < buf.length; ) {
    const tag = buf[pos++];
    const v = readVarint(buf, pos, buf.length);
    if (!v) return LogDataCodec.decode(buf);
    pos = v.next;
    if (tag === TAG.attempt) d.attemptId = v.value;
    else if (tag === TAG.offset) d.offset = v.value;
    else if (tag === TAG.end) d.end = v.value !== 0;
    else if (tag === TAG.next) d.nextOffset = v.value;
    else if (tag === TAG.data || tag === TAG.status) {
      if (pos + v.value > buf.length) return LogDataCodec.decode(buf);
      if (tag === TAG.data) d.data = buf.subarray(pos, pos + v.value);
      else d.attemptStatus = buf.toString("utf8", pos, pos + v.value);
      pos += v.value;
    } else return LogDataCodec.decode(buf);
  }
  return d;
}

/** The AdminService as generated, with TailLog's LogData serialized and deserialized here (for the coordinator's server and the CLI). */
export const AdminServiceWire = {
  ...AdminServiceService,
  tailLog: { ...AdminServiceService.tailLog, responseSerialize: serializeLogData, responseDeserialize: deserializeLogData },
};

/** The generated AdminServiceClient's class, on AdminServiceWire. */
export const AdminServiceWireClient = makeGenericClientConstructor(AdminServiceWire, "beamflow.v1.AdminService") as unknown as typeof AdminServiceClient;
