// Cuts a step's pty output into chunks for the coordinator: output is flushed once
// FLUSH_BYTES have gathered, or FLUSH_MS after its first byte, whichever comes first,
// and handed on in chunks of at most CHUNK_BYTES. The short delay batches a burst of
// lines into one message without making a person watching `logs -f` wait: sparse
// output arrives within tens of milliseconds, heavy output goes a megabyte at a time
// (sixteen 64 KiB chunks that the log pump sends as one message).
//
// A chunk is the coordinator's unit of storage (one index entry, the granularity of a
// capped log's head and tail), so it stays small; a flush is the unit of sending.
export const CHUNK_BYTES = 64 * 1024;
export const FLUSH_BYTES = 16 * CHUNK_BYTES;
export const FLUSH_MS = 20;

export class LogChunker {
  private parts: Buffer[] = [];
  private size = 0;
  private step = "";
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly sink: (step: string, data: Buffer) => void) {}

  write(step: string, data: Buffer): void {
    if (step !== this.step) this.flush();
    this.step = step;
    this.parts.push(data);
    this.size += data.length;
    if (this.size >= FLUSH_BYTES) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.size === 0) return;
    const parts = this.parts;
    this.parts = [];
    this.size = 0;
    // Consecutive pieces joined while they fit in CHUNK_BYTES, so that a piece read whole (the
    // socket's 64 KiB reads) goes as it is, without a copy; only a larger piece is cut.
    let group: Buffer[] = [];
    let bytes = 0;
    const emit = () => {
      if (bytes) this.sink(this.step, group.length === 1 ? group[0]! : Buffer.concat(group, bytes));
      group = [];
      bytes = 0;
    };
    for (const part of parts) {
      if (bytes + part.length > CHUNK_BYTES) emit();
      for (let at = 0; at < part.length; at += CHUNK_BYTES) {
        const piece = part.subarray(at, at + CHUNK_BYTES);
        if (bytes + piece.length > CHUNK_BYTES) emit();
        group.push(piece);
        bytes += piece.length;
      }
    }
    emit();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
