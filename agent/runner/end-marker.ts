// Finds the wrapper's end-of-output marker in the pty stream and cuts it out.
//
// Why: on Linux, once the last process holding the pty's slave side exits, reads on the
// master may fail with EIO while the program's last few KB are still in kernel buffers,
// and node-pty then drops them (node-pty issues #85, #726; reproduced here in ~5% of
// runs of a 3 MB output). So the wrapper, after the program has exited, prints a random
// per-step marker and waits for the runner to answer on the pty; the runner answers only
// once it has read the marker, i.e. everything written before it. Then the wrapper exits.
//
// The marker may be split across chunks, so a possible marker prefix at the end of a chunk
// is held back (at most marker.length - 1 bytes). Anything after the marker can only come
// from processes the step left behind after its program exited; it is dropped.
import crypto from "node:crypto";

export function newEndMarker(): Buffer {
  // An OSC sequence: terminals ignore it, so a stray one in a human's view is invisible.
  return Buffer.from(`\x1b]beamflow-step-end;${crypto.randomBytes(8).toString("hex")}\x07`, "latin1");
}

export class EndMarkerScanner {
  private held: Buffer = Buffer.alloc(0);
  private seen = false;

  constructor(private readonly marker: Buffer) {}

  get found(): boolean {
    return this.seen;
  }

  /** Returns the bytes that can be delivered now (possibly empty). */
  push(chunk: Buffer): Buffer {
    if (this.seen) return Buffer.alloc(0);
    const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const at = data.indexOf(this.marker);
    if (at >= 0) {
      this.seen = true;
      return data.subarray(0, at);
    }
    const keep = this.prefixSuffixLength(data);
    if (keep > 0) {
      this.held = Buffer.from(data.subarray(data.length - keep));
      return data.subarray(0, data.length - keep);
    }
    return data;
  }

  /** Whatever is held back, for when the stream ends without a marker (wrapper killed). */
  flush(): Buffer {
    const h = this.held;
    this.held = Buffer.alloc(0);
    return h;
  }

  /** Length of the longest suffix of data that is a proper prefix of the marker. */
  private prefixSuffixLength(data: Buffer): number {
    const first = this.marker[0]!;
    const from = Math.max(0, data.length - (this.marker.length - 1));
    for (let i = from; i < data.length; i++) {
      if (data[i] !== first) continue;
      const k = data.length - i;
      if (data.subarray(i).equals(this.marker.subarray(0, k))) return k;
    }
    return 0;
  }
}
