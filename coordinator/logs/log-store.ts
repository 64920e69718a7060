// Per-attempt log files on the coordinator. Chunks carry a per-attempt sequence
// number; a chunk at or below the highest stored one is a re-send and is dropped,
// so a reconnecting agent can re-send everything not yet acknowledged.
import fs from "node:fs";
import path from "node:path";

export class LogStore {
  private readonly lastSeq = new Map<number, number>();

  constructor(private readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  pathOf(attemptId: number): string {
    return path.join(this.dir, `attempt-${attemptId}.log`);
  }

  private seqPath(attemptId: number): string {
    return path.join(this.dir, `attempt-${attemptId}.seq`);
  }

  private stored(attemptId: number): number {
    let seq = this.lastSeq.get(attemptId);
    if (seq === undefined) {
      try { seq = Number(fs.readFileSync(this.seqPath(attemptId), "utf8")) || 0; } catch { seq = 0; }
      this.lastSeq.set(attemptId, seq);
    }
    return seq;
  }

  /** Stores a chunk if it is the next one; returns the highest sequence number stored. */
  append(attemptId: number, seq: number, _step: string, data: Buffer): number {
    const last = this.stored(attemptId);
    if (seq !== last + 1) return last;
    fs.appendFileSync(this.pathOf(attemptId), data);
    fs.writeFileSync(this.seqPath(attemptId), String(seq));
    this.lastSeq.set(attemptId, seq);
    return seq;
  }

  read(attemptId: number): Buffer {
    try { return fs.readFileSync(this.pathOf(attemptId)); } catch { return Buffer.alloc(0); }
  }
}
