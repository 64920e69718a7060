// Cuts a step's pty output into chunks for the coordinator: a chunk is flushed at
// 64 KiB, or FLUSH_MS after its first byte, whichever comes first. The short
// delay batches a burst of lines into one message without making a person
// watching `logs -f` wait: sparse output arrives within tens of milliseconds,
// heavy output goes in full 64 KiB chunks.
export const CHUNK_BYTES = 64 * 1024;
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
    if (this.size >= CHUNK_BYTES) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.size === 0) return;
    const data = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    for (let at = 0; at < data.length; at += CHUNK_BYTES) this.sink(this.step, data.subarray(at, at + CHUNK_BYTES));
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
