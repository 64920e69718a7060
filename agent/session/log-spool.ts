// Log chunks the coordinator has not acknowledged yet. While the coordinator keeps up
// they are held in memory (up to a budget, 32 MiB by default): they are sent from there
// and dropped at their acknowledgement, never touching the disk. What comes while that
// budget is used up (the coordinator falls behind), or while there is no stream at all,
// goes to the agent's disk (<scratch>/beamflow-spool/<agent id>), and when the stream is
// lost what is held in memory is written there too (spill()): a coordinator that is away
// for an hour while PRESTO prints costs disk, bounded by agent.log_spool_bytes, and nothing
// is lost. Each attempt's chunks on disk go to segment files; a segment is deleted once
// every chunk in it is acknowledged. For those, memory holds only where each chunk is
// (seq, step, segment, offset, length).
//
// When the unacknowledged bytes (in memory and on disk) reach the bound, onFull(true) is
// called (the agent shuts the steps' output gate); when they fall to half of it, onFull(false).
//
// A full scratch disk (ENOSPC, EDQUOT) is the same condition, not a crash: the chunk
// that could not be written is kept in memory, the gate shut (so at most one chunk per
// step is held that way), and it opens again once the coordinator has acknowledged
// every chunk held in memory; output then flows at the coordinator's pace.
import fs from "node:fs";
import path from "node:path";
import type { LogChunk } from "../../shared/gen/agent";

const SEGMENT_BYTES = 8 << 20;
/** unacknowledged output kept in memory while the coordinator keeps up */
export const MEMORY_BYTES = 32 << 20;

interface Spooled {
  seq: number;
  step: string;
  segment: number;
  offset: number;
  length: number;
  /** the bytes, when the disk had no room for them */
  held?: Buffer;
  /** the bytes, kept in memory (within the memory budget) rather than written to disk */
  mem?: Buffer;
}

interface Segment {
  fd: number;
  size: number;
  unacked: number;
}

interface AttemptSpool {
  nextSeq: number;
  /** unacknowledged chunks, in seq order */
  chunks: Spooled[];
  /** the highest seq written to the current stream */
  sentSeq: number;
  segments: Map<number, Segment>;
  current: number;
}

export class LogSpool {
  private readonly attempts = new Map<number, AttemptSpool>();
  private unackedBytes = 0;
  private full = false;
  /** chunks kept in memory because the disk was full */
  private heldChunks = 0;
  /** the last write found the disk full: every segment is freed as soon as it is acknowledged */
  private diskPressure = false;
  /** bytes of chunks kept in memory (mem) */
  private memBytes = 0;
  /** no stream since the last spill(): new chunks go to disk until a new stream rewinds */
  private offline = false;

  /** Called when the scratch disk fills up (with the error) and when output may flow again. */
  onDiskFull: (err: NodeJS.ErrnoException | null) => void = () => {};

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
    private readonly onFull: (full: boolean) => void,
    /** unacknowledged output kept in memory before chunks go to disk (0: every chunk to disk) */
    private readonly memoryBytes = MEMORY_BYTES,
  ) {}

  /** Removes what an earlier run of the agent left: its attempts are gone with it. */
  clearStale(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  get bytes(): number {
    return this.unackedBytes;
  }

  private spoolOf(attemptId: number): AttemptSpool {
    let s = this.attempts.get(attemptId);
    if (!s) this.attempts.set(attemptId, (s = { nextSeq: 1, chunks: [], sentSeq: 0, segments: new Map(), current: -1 }));
    return s;
  }

  private segmentPath(attemptId: number, n: number): string {
    return path.join(this.dir, `${attemptId}-${n}.spool`);
  }

  /** Spools a chunk of output; returns its sequence number. */
  add(attemptId: number, step: string, data: Buffer): number {
    const s = this.spoolOf(attemptId);
    const seq = s.nextSeq++;
    if (!this.offline && this.memBytes + data.length <= this.memoryBytes) {
      s.chunks.push({ seq, step, segment: -1, offset: 0, length: data.length, mem: data });
      this.memBytes += data.length;
    } else {
      s.chunks.push(this.toDisk(attemptId, s, seq, step, data));
    }
    this.unackedBytes += data.length;
    if (!this.full && this.maxBytes > 0 && this.unackedBytes >= this.maxBytes) {
      this.full = true;
      this.onFull(true);
    }
    return seq;
  }

  /** A chunk written to a segment, or held in memory when the disk has no room for it. */
  private toDisk(attemptId: number, s: AttemptSpool, seq: number, step: string, data: Buffer): Spooled {
    try {
      const { segment, offset } = this.write(attemptId, s, data);
      this.diskPressure = false;
      return { seq, step, segment, offset, length: data.length };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== "ENOSPC" && e.code !== "EDQUOT") throw err;
      this.diskPressure = true;
      if (this.heldChunks++ === 0) this.onDiskFull(e);
      return { seq, step, segment: -1, offset: 0, length: data.length, held: data };
    }
  }

  private write(attemptId: number, s: AttemptSpool, data: Buffer): { segment: number; offset: number } {
    let seg = s.segments.get(s.current);
    if (!seg || seg.size + data.length > SEGMENT_BYTES) {
      if (seg && seg.unacked === 0) this.dropSegment(attemptId, s, s.current);
      const fd = fs.openSync(this.segmentPath(attemptId, s.current + 1), "w+", 0o600);
      s.current++;
      seg = { fd, size: 0, unacked: 0 };
      s.segments.set(s.current, seg);
    }
    let done = 0;
    while (done < data.length) done += fs.writeSync(seg.fd, data, done, data.length - done, seg.size + done);
    const at = { segment: s.current, offset: seg.size };
    seg.size += data.length;
    seg.unacked++;
    return at;
  }

  /** A chunk no longer owed: its memory or its place in a segment freed. */
  private settle(attemptId: number, s: AttemptSpool, c: Spooled): void {
    this.unackedBytes -= c.length;
    if (c.mem) {
      this.memBytes -= c.length;
      return;
    }
    if (c.held) {
      if (--this.heldChunks === 0) this.onDiskFull(null);
      return;
    }
    const seg = s.segments.get(c.segment)!;
    // The segment being written stays for the next chunks, unless its room is needed now.
    if (--seg.unacked === 0 && (c.segment !== s.current || this.diskPressure)) this.dropSegment(attemptId, s, c.segment);
  }

  /** The coordinator stored every chunk up to seq. */
  ack(attemptId: number, seq: number): void {
    const s = this.attempts.get(attemptId);
    if (!s) return;
    let n = 0;
    for (const c of s.chunks) {
      if (c.seq > seq) break;
      n++;
      this.settle(attemptId, s, c);
    }
    s.chunks.splice(0, n);
    this.relieve();
  }

  /** The attempt is over and its result acknowledged (or no longer wanted): drop all of it. */
  forget(attemptId: number): void {
    const s = this.attempts.get(attemptId);
    if (!s) return;
    for (const c of s.chunks) this.settle(attemptId, s, c);
    for (const n of [...s.segments.keys()]) this.dropSegment(attemptId, s, n);
    this.attempts.delete(attemptId);
    this.relieve();
  }

  /** The seq of the attempt's last chunk (0: none). */
  lastSeq(attemptId: number): number {
    return (this.attempts.get(attemptId)?.nextSeq ?? 1) - 1;
  }

  /** The coordinator did not store what came after `seq`: it is to be sent again from there. */
  resendFrom(attemptId: number, seq: number): void {
    const s = this.attempts.get(attemptId);
    if (s && s.sentSeq > seq) s.sentSeq = seq;
  }

  /** A new stream: everything unacknowledged is to be sent again. */
  rewind(): void {
    this.offline = false;
    for (const s of this.attempts.values()) s.sentSeq = s.chunks.length ? s.chunks[0]!.seq - 1 : s.nextSeq - 1;
  }

  /** Whether every chunk of the attempt has been written to the current stream. */
  allSent(attemptId: number): boolean {
    const s = this.attempts.get(attemptId);
    return !s || s.sentSeq >= s.nextSeq - 1;
  }

  /**
   * No stream to send on: what is kept in memory goes to disk (in a full disk's case, what
   * does not fit stays in memory), and so do new chunks until a new stream rewinds.
   */
  spill(): void {
    this.offline = true;
    if (this.memBytes === 0) return;
    for (const [attemptId, s] of this.attempts) {
      for (const c of s.chunks) {
        if (!c.mem) continue;
        try {
          const { segment, offset } = this.write(attemptId, s, c.mem);
          c.segment = segment;
          c.offset = offset;
          c.mem = undefined;
          this.memBytes -= c.length;
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          if (e.code !== "ENOSPC" && e.code !== "EDQUOT") throw err;
          this.diskPressure = true;
          return;
        }
      }
    }
  }

  /** The chunks not yet written to the current stream (those on disk read back one at a time), marked sent as they go. */
  *unsent(): Generator<LogChunk> {
    for (const [attemptId, s] of this.attempts) {
      for (const c of s.chunks) {
        if (c.seq <= s.sentSeq) continue;
        let data = c.held ?? c.mem;
        if (!data) {
          data = Buffer.allocUnsafe(c.length);
          fs.readSync(s.segments.get(c.segment)!.fd, data, 0, c.length, c.offset);
        }
        s.sentSeq = c.seq;
        yield { attemptId, seq: c.seq, step: c.step, data };
      }
    }
  }

  private dropSegment(attemptId: number, s: AttemptSpool, n: number): void {
    const seg = s.segments.get(n);
    if (!seg) return;
    fs.closeSync(seg.fd);
    fs.rmSync(this.segmentPath(attemptId, n), { force: true });
    s.segments.delete(n);
  }

  private relieve(): void {
    if (this.full && this.unackedBytes <= this.maxBytes / 2) {
      this.full = false;
      this.onFull(false);
    }
  }
}
