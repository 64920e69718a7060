// Per-attempt logs on the coordinator: `attempt-N.log` holds the output bytes,
// `attempt-N.idx` one line per stored chunk (seq, offset, length, step). Chunks
// carry a per-attempt sequence number: one at or below the highest stored is a
// re-send and is dropped, so a reconnecting agent can re-send everything not yet
// acknowledged, and the index makes that survive a coordinator restart.
// Readers follow the file, woken by "append" events, so a slow reader costs
// neither memory here nor time on the agent's side.
import { EventEmitter } from "node:events";
import fs from "node:fs";
import path from "node:path";

export interface LogIndexEntry { seq: number; offset: number; length: number; step: string }

interface AttemptLog { seq: number; size: number; index: LogIndexEntry[] }

export class LogStore extends EventEmitter<{ append: [number] }> {
  private readonly open = new Map<number, AttemptLog>();

  constructor(private readonly dir: string) {
    super();
    this.setMaxListeners(0);
    fs.mkdirSync(dir, { recursive: true });
  }

  pathOf(attemptId: number): string { return path.join(this.dir, `attempt-${attemptId}.log`); }
  private indexPath(attemptId: number): string { return path.join(this.dir, `attempt-${attemptId}.idx`); }

  /** Loads an attempt's index; drops bytes a crash left after the last indexed chunk. */
  private state(attemptId: number): AttemptLog {
    let st = this.open.get(attemptId);
    if (st) return st;
    const index: LogIndexEntry[] = [];
    try {
      for (const line of fs.readFileSync(this.indexPath(attemptId), "utf8").split("\n")) {
        const [seq, offset, length, step] = line.split("\t");
        if (step === undefined) continue;
        index.push({ seq: Number(seq), offset: Number(offset), length: Number(length), step });
      }
    } catch { /* no log yet */ }
    const last = index[index.length - 1];
    const size = last ? last.offset + last.length : 0;
    try {
      if (fs.statSync(this.pathOf(attemptId)).size > size) fs.truncateSync(this.pathOf(attemptId), size);
    } catch { /* no log yet */ }
    st = { seq: last?.seq ?? 0, size, index };
    this.open.set(attemptId, st);
    return st;
  }

  /** Stores a chunk if it is the next one; returns the highest sequence number stored. */
  append(attemptId: number, seq: number, step: string, data: Buffer): number {
    const st = this.state(attemptId);
    if (seq !== st.seq + 1) return st.seq;
    // Data first, then its index line: a crash in between leaves bytes that the
    // next load cuts off, and the agent re-sends the chunk.
    fs.appendFileSync(this.pathOf(attemptId), data);
    const entry = { seq, offset: st.size, length: data.length, step: step.replace(/[\t\n]/g, " ") };
    fs.appendFileSync(this.indexPath(attemptId), `${entry.seq}\t${entry.offset}\t${entry.length}\t${entry.step}\n`);
    st.index.push(entry);
    st.seq = seq;
    st.size += data.length;
    this.emit("append", attemptId);
    return seq;
  }

  size(attemptId: number): number { return this.state(attemptId).size; }

  /** Byte ranges of one step's chunks, for reading a step's output alone. */
  stepRanges(attemptId: number, step: string): { offset: number; length: number }[] {
    return this.state(attemptId).index.filter((e) => e.step === step);
  }

  /** Forgets the in-memory state of a finished attempt (it reloads from disk on demand). */
  close(attemptId: number): void { this.open.delete(attemptId); }

  read(attemptId: number): Buffer {
    try { return fs.readFileSync(this.pathOf(attemptId)); } catch { return Buffer.alloc(0); }
  }
}
