// Keeps only the last few KB of a step's output, so a failure message can quote the
// program's last line ("ERROR: cannot open beam_0012.fil") without the runner holding
// on to output that may be gigabytes long.

const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

export class OutputTail {
  private buf = Buffer.alloc(0);
  constructor(private readonly maxBytes = 2048) {}

  push(chunk: Buffer): void {
    if (chunk.length >= this.maxBytes) {
      // copy, so a large chunk isn't kept alive by a view onto it
      this.buf = Buffer.from(chunk.subarray(chunk.length - this.maxBytes));
    } else {
      const joined = Buffer.concat([this.buf, chunk]);
      this.buf = joined.length > this.maxBytes ? joined.subarray(joined.length - this.maxBytes) : joined;
    }
  }

  /** Last non-blank line, terminal escapes removed, at most maxChars long. */
  lastLine(maxChars = 200): string | undefined {
    const lines = this.buf
      .toString("utf8")
      .replace(ANSI, "")
      .split(/\r\n|\n|\r/);
    for (let i = lines.length - 1; i >= 0; i--) {
      const l = lines[i]!.replace(CONTROL, "").trim();
      if (l) return l.length > maxChars ? "…" + l.slice(l.length - maxChars + 1) : l;
    }
    return undefined;
  }
}
