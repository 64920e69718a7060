// Cuts a step's pty output into chunks: flushed when 64 KiB have gathered or a
// second has passed since the first unflushed byte, whichever comes first.
export const CHUNK_BYTES = 64 * 1024;
export const CHUNK_MS = 1000;

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
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), CHUNK_MS);
  }

  flush(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
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
