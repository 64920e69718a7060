// Per-attempt logs on the coordinator. Chunks carry a per-attempt sequence
// number: one at or below the highest stored is a re-send and is dropped, so a
// reconnecting agent can re-send everything not yet acknowledged; the index
// (`attempt-N.idx`, one line per chunk: seq, offset, length, step) makes that
// survive a coordinator restart.
//
// Offsets are logical: the count of bytes the attempt ever logged. A log is capped
// (coordinator.log_max_bytes): the first half of the cap is kept as the head
// (`attempt-N.log`), the rest goes to tail segments (`attempt-N.tail-<offset>`) of
// a quarter of the cap each, of which only the newest two are kept. Appends stay
// O(chunk) however long the log; readers see the head, a line saying how much was
// cut, then the tail.
//
// Readers follow the log through readAt(), woken by "append" events, so a slow
// reader costs neither memory here nor time on the agent's side.
import { EventEmitter } from "node:events";
import fs from "node:fs";
import path from "node:path";
import { formatSize } from "../../shared/config/sizes";

export interface LogIndexEntry {
  seq: number;
  offset: number;
  length: number;
  step: string;
}

interface TailSegment {
  start: number;
  length: number;
}

interface AttemptLog {
  seq: number;
  /** logical size: every byte ever stored */
  size: number;
  /** the head file's length; the head holds logical [0, headEnd) */
  headEnd: number;
  /** kept tail segments, oldest first; once one exists the head is closed */
  segments: TailSegment[];
  /** chunks whose bytes are still kept */
  index: LogIndexEntry[];
  /** open for appending while the attempt logs: the file written last, and the index */
  out: { file: string; fd: number } | null;
  idxFd: number | null;
}

/** What readAt found: bytes of the log, or a note standing for bytes that were cut. */
export interface LogPiece {
  offset: number;
  data: Buffer;
  next: number;
  cut: boolean;
}

export interface LogStoreOptions {
  /** 0: keep everything */
  maxBytes?: number;
}

export class LogStore extends EventEmitter<{ append: [attemptId: number, bytes: number] }> {
  private readonly open = new Map<number, AttemptLog>();
  private readonly headLimit: number;
  private readonly segmentLimit: number;

  constructor(
    private readonly dir: string,
    private readonly options: LogStoreOptions = {},
  ) {
    super();
    this.setMaxListeners(0);
    fs.mkdirSync(dir, { recursive: true });
    const max = options.maxBytes ?? 0;
    this.headLimit = max > 0 ? Math.floor(max / 2) : Infinity;
    this.segmentLimit = max > 0 ? Math.max(1, Math.floor(max / 4)) : Infinity;
  }

  private headPath(attemptId: number): string {
    return path.join(this.dir, `attempt-${attemptId}.log`);
  }
  private indexPath(attemptId: number): string {
    return path.join(this.dir, `attempt-${attemptId}.idx`);
  }
  private segmentPath(attemptId: number, start: number): string {
    return path.join(this.dir, `attempt-${attemptId}.tail-${start}`);
  }

  /** Loads an attempt's index and files; drops bytes a crash left after the last indexed chunk. */
  private state(attemptId: number): AttemptLog {
    let st = this.open.get(attemptId);
    if (st) return st;
    // Nothing was ever written (a step that printed nothing): there is nothing to load or
    // repair, and listing the directory (every attempt's files) for it would cost each
    // result more as the tracker grows. A tail segment is only ever made after the head.
    if (!fs.existsSync(this.indexPath(attemptId)) && !fs.existsSync(this.headPath(attemptId))) {
      st = { seq: 0, size: 0, headEnd: 0, segments: [], index: [], out: null, idxFd: null };
      this.open.set(attemptId, st);
      return st;
    }
    const index: LogIndexEntry[] = [];
    try {
      for (const line of fs.readFileSync(this.indexPath(attemptId), "utf8").split("\n")) {
        const [seq, offset, length, step] = line.split("\t");
        if (step === undefined) continue;
        index.push({ seq: Number(seq), offset: Number(offset), length: Number(length), step });
      }
    } catch {
      /* no log yet */
    }
    const last = index[index.length - 1];
    const size = last ? last.offset + last.length : 0;
    const prefix = `attempt-${attemptId}.tail-`;
    const segments: TailSegment[] = [];
    for (const name of fs.readdirSync(this.dir)) {
      if (!name.startsWith(prefix)) continue;
      const start = Number(name.slice(prefix.length));
      const file = path.join(this.dir, name);
      const length = Math.min(fs.statSync(file).size, size - start);
      if (!(length > 0)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (fs.statSync(file).size > length) fs.truncateSync(file, length);
      segments.push({ start, length });
    }
    segments.sort((a, b) => a.start - b.start);
    let headEnd = 0;
    try {
      headEnd = fs.statSync(this.headPath(attemptId)).size;
    } catch {
      /* no log yet */
    }
    if (segments.length === 0 && headEnd > size) {
      fs.truncateSync(this.headPath(attemptId), size);
      headEnd = size;
    }
    const tailStart = segments[0]?.start ?? size;
    st = { seq: last?.seq ?? 0, size, headEnd, segments, index: index.filter((e) => e.offset < headEnd || e.offset >= tailStart), out: null, idxFd: null };
    this.open.set(attemptId, st);
    return st;
  }

  /**
   * Stores a chunk if it is the next one; returns the highest sequence number stored
   * (a chunk after a gap is not stored: the sender is to send again from there). A chunk
   * that cannot be written (the disk is full) leaves the files and the state as they were
   * and throws, so nothing after it is ever stored past the gap.
   */
  append(attemptId: number, seq: number, step: string, data: Buffer): number {
    return this.appendMany(attemptId, [{ seq, step, data }]);
  }

  /**
   * Stores a batch of one attempt's chunks, each as append() would, with one write per file
   * and one to the index: re-sends are skipped, nothing after a gap is stored, and the highest
   * sequence number stored is returned. A write that fails undoes the whole batch, and the
   * chunks are then stored one at a time, so that every chunk that fits is kept and the error
   * is thrown at the first that does not, as append() does.
   */
  appendMany(attemptId: number, chunks: readonly { seq: number; step: string; data: Buffer }[]): number {
    const st = this.state(attemptId);
    let first = 0;
    while (first < chunks.length && chunks[first]!.seq <= st.seq) first++;
    if (first === chunks.length || chunks[first]!.seq !== st.seq + 1) return st.seq;
    const before = { headEnd: st.headEnd, segments: st.segments.map((s) => ({ ...s })), index: st.index };
    const entries: LogIndexEntry[] = [];
    let size = st.size;
    let indexSize = 0;
    try {
      st.idxFd ??= fs.openSync(this.indexPath(attemptId), "a");
      indexSize = fs.fstatSync(st.idxFd).size;
      // Data first, then its index lines: a crash in between leaves bytes that the
      // next load cuts off, and the agent re-sends the chunks.
      const pending: { file: string; parts: Buffer[] } = { file: "", parts: [] };
      const flush = () => {
        if (pending.parts.length) this.write(st, pending.file, pending.parts);
        pending.parts = [];
      };
      const put = (file: string, data: Buffer) => {
        if (file !== pending.file) {
          flush();
          pending.file = file;
        }
        pending.parts.push(data);
      };
      let lines = "";
      for (let i = first; i < chunks.length; i++) {
        const c = chunks[i]!;
        if (c.seq !== st.seq + 1 + entries.length) break; // a gap: nothing past it
        if (st.segments.length === 0 && st.headEnd + c.data.length <= this.headLimit) {
          put(this.headPath(attemptId), c.data);
          st.headEnd += c.data.length;
        } else {
          // A new tail segment may remove the oldest: what is pending goes to its file first.
          const seg = this.tailSegment(attemptId, st, size, c.data.length, flush);
          put(this.segmentPath(attemptId, seg.start), c.data);
          seg.length += c.data.length;
        }
        const entry = { seq: c.seq, offset: size, length: c.data.length, step: c.step.replace(/[\t\n]/g, " ") };
        entries.push(entry);
        lines += `${entry.seq}\t${entry.offset}\t${entry.length}\t${entry.step}\n`;
        size += c.data.length;
      }
      flush();
      writeAll(st.idxFd, Buffer.from(lines));
    } catch (err) {
      this.undo(attemptId, st, before, indexSize);
      if (chunks.length - first === 1) throw err;
      // Which chunks fit is found one at a time.
      for (let i = first; i < chunks.length; i++) this.appendMany(attemptId, [chunks[i]!]);
      return st.seq;
    }
    // Of a batch longer than the tail, what the tail no longer holds has no index entry.
    const tailStart = st.segments[0]?.start ?? size;
    for (const e of entries) if (e.offset < st.headEnd || e.offset >= tailStart) st.index.push(e);
    const bytes = size - st.size;
    st.seq += entries.length;
    st.size = size;
    this.emit("append", attemptId, bytes);
    return st.seq;
  }

  /** The tail segment the next `length` bytes (at logical offset `at`) go to: a new one past a quarter of the cap. */
  private tailSegment(attemptId: number, st: AttemptLog, at: number, length: number, beforeRemoving: () => void): TailSegment {
    let seg = st.segments[st.segments.length - 1];
    if (!seg || seg.length + length > this.segmentLimit) {
      seg = { start: at, length: 0 };
      st.segments.push(seg);
      if (st.segments.length > 2) beforeRemoving();
      while (st.segments.length > 2) {
        const gone = st.segments.shift()!;
        fs.rmSync(this.segmentPath(attemptId, gone.start), { force: true }); // an open descriptor is for the newest only
      }
      const tailStart = st.segments[0]!.start;
      st.index = st.index.filter((e) => e.offset < st.headEnd || e.offset >= tailStart);
    }
    return seg;
  }

  /** Appends through a descriptor kept open while the attempt logs (one open per file, not per chunk). */
  private write(st: AttemptLog, file: string, parts: Buffer[]): void {
    if (st.out?.file !== file) {
      if (st.out) fs.closeSync(st.out.fd);
      st.out = null;
      st.out = { file, fd: fs.openSync(file, "a") };
    }
    writevAll(st.out.fd, parts);
  }

  /** Puts the files back as they were before a chunk that could not be stored (best effort: the disk may be full). */
  private undo(attemptId: number, st: AttemptLog, before: { headEnd: number; segments: TailSegment[]; index: LogIndexEntry[] }, indexSize: number): void {
    const quietly = (f: () => void) => {
      try {
        f();
      } catch {
        /* what cannot be cut now is cut by the next load (it trusts the index only) */
      }
    };
    if (st.out) quietly(() => fs.closeSync(st.out!.fd));
    st.out = null;
    // A write that failed part way wrote some bytes without moving headEnd or a segment's length:
    // every file is cut back to what the state before the chunk says it holds.
    const cut = (file: string, length: number) =>
      quietly(() => {
        if (fs.existsSync(file) && fs.statSync(file).size !== length) fs.truncateSync(file, length);
      });
    cut(this.headPath(attemptId), before.headEnd);
    for (const seg of st.segments) {
      const was = before.segments.find((s) => s.start === seg.start);
      if (!was) quietly(() => fs.rmSync(this.segmentPath(attemptId, seg.start), { force: true }));
      else cut(this.segmentPath(attemptId, seg.start), was.length);
    }
    if (st.idxFd !== null) quietly(() => fs.ftruncateSync(st.idxFd!, indexSize));
    st.headEnd = before.headEnd;
    // A segment that rotation removed is gone for good (it was the oldest of the tail, already cut from view).
    st.segments = before.segments.filter((s) => fs.existsSync(this.segmentPath(attemptId, s.start)));
    st.index = before.index;
  }

  /** The highest sequence number stored for the attempt. */
  storedSeq(attemptId: number): number {
    return this.state(attemptId).seq;
  }

  /** Logical size: every byte the attempt logged, cut or kept. */
  size(attemptId: number): number {
    return this.state(attemptId).size;
  }

  /** Bytes cut out of the middle of the log so far. */
  cutBytes(attemptId: number): number {
    const st = this.state(attemptId);
    return (st.segments[0]?.start ?? st.size) - st.headEnd;
  }

  /**
   * The next piece of the log at or after `offset` (of one step's chunks only, when
   * `step` is given), at most `max` bytes; undefined when nothing is there yet.
   * Where bytes were cut, the piece is a note saying so and `next` jumps past them.
   * The bytes are read into a Buffer from `alloc` (a follower's: one with room to frame them).
   */
  readAt(attemptId: number, offset: number, max: number, step = "", alloc: (length: number) => Buffer = Buffer.allocUnsafe): LogPiece | undefined {
    const st = this.state(attemptId);
    const tailStart = st.segments[0]?.start ?? st.size;
    let from = offset;
    let until = st.size;
    if (step) {
      const e = st.index.find((x) => x.step === step && x.offset + x.length > offset);
      if (!e) return undefined;
      from = Math.max(offset, e.offset);
      until = e.offset + e.length;
    } else if (from >= st.size) {
      return undefined;
    }
    if (tailStart > st.headEnd && offset < tailStart && from >= st.headEnd) {
      // The reader is about to pass the cut: say so once, then go on past it.
      const at = Math.max(offset, st.headEnd);
      const note = `\n[beamflow: ${formatSize(tailStart - st.headEnd)} of output cut here (log capped at ${formatSize(this.options.maxBytes ?? 0)}: head and tail kept)]\n`;
      return { offset: at, data: Buffer.from(note), next: Math.max(from, tailStart), cut: true };
    }
    let file: string;
    let fileOffset: number;
    if (from < st.headEnd) {
      file = this.headPath(attemptId);
      fileOffset = from;
      until = Math.min(until, st.headEnd);
    } else {
      const seg = st.segments.find((s) => from >= s.start && from < s.start + s.length);
      if (!seg) return undefined;
      file = this.segmentPath(attemptId, seg.start);
      fileOffset = from - seg.start;
      until = Math.min(until, seg.start + seg.length);
    }
    const length = Math.min(max, until - from);
    // Not zero-filled: every byte is read over (a stored range is never short).
    const data = alloc(length);
    const fd = fs.openSync(file, "r");
    let got = 0;
    try {
      while (got < length) {
        const n = fs.readSync(fd, data, got, length - got, fileOffset + got);
        if (n === 0) break;
        got += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    if (got < length) data.fill(0, got);
    return { offset: from, data, next: from + length, cut: false };
  }

  /** The whole kept log with the cut marked, for small logs and tests. */
  read(attemptId: number): Buffer {
    const parts: Buffer[] = [];
    for (let at = 0, p = this.readAt(attemptId, 0, 1 << 20); p; at = p.next, p = this.readAt(attemptId, at, 1 << 20)) parts.push(p.data);
    return Buffer.concat(parts);
  }

  /** The last `bytes` kept bytes (or fewer), for a quick look at the end of a log. */
  readEnd(attemptId: number, bytes: number): Buffer {
    const parts: Buffer[] = [];
    let at = Math.max(0, this.state(attemptId).size - bytes);
    for (let p = this.readAt(attemptId, at, bytes); p; at = p.next, p = this.readAt(attemptId, at, bytes)) if (!p.cut) parts.push(p.data);
    return Buffer.concat(parts);
  }

  /** Forgets the in-memory state of a finished attempt and closes its files (all reload from disk on demand). */
  close(attemptId: number): void {
    const st = this.open.get(attemptId);
    if (!st) return;
    if (st.out) fs.closeSync(st.out.fd);
    if (st.idxFd !== null) fs.closeSync(st.idxFd);
    this.open.delete(attemptId);
  }
}

/** write(2) may write less than asked (a full disk mid-buffer): the rest is written, or the error thrown. */
function writeAll(fd: number, data: Buffer): void {
  let done = 0;
  while (done < data.length) done += fs.writeSync(fd, data, done, data.length - done);
}

/** Several buffers in one writev(2) (IOV_MAX at a time), the rest after a short write. */
function writevAll(fd: number, parts: Buffer[]): void {
  let i = 0;
  while (i < parts.length) {
    const batch = parts.slice(i, i + 1024);
    let written = fs.writevSync(fd, batch);
    for (const p of batch) {
      if (written < p.length) {
        // A short write: the rest of this buffer, then the next ones.
        if (written > 0) parts[i] = p.subarray(written);
        break;
      }
      written -= p.length;
      i++;
    }
  }
}
