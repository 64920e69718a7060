// A download's partial file (<dir>/.partial/<name>.part): bytes are hashed as they are
// written (one pass), a resumed transfer starts from the bytes already there, and only
// a file whose size and SHA-256 are verified is renamed into place, so a partial file
// is never seen, or registered, as a raw data file.
import fs from "node:fs";
import fsp from "node:fs/promises";
import { Writable } from "node:stream";
import { DownloadFailure } from "./errors";
import { newHasher, type StreamHasher } from "./hasher";

/** Where a transfer stands: bytes on disk and the SHA-256 state over exactly those bytes. */
export interface PartState {
  bytes: number;
  hash: StreamHasher;
}

/** A transfer from zero. */
export const freshState = (): PartState => ({ bytes: 0, hash: newHasher() });

/** Hashes the bytes of an existing partial file (after a restart, when no hash state was kept). */
export async function hashPrefix(file: string, chunkBytes = 4 << 20): Promise<PartState> {
  const hash = newHasher();
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { bytes: 0, hash };
    throw err;
  }
  try {
    const bufs = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
    let bytes = 0;
    let cur = 0;
    let pending = fh.read(bufs[cur], 0, chunkBytes, 0);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const filled = bufs[cur];
      bytes += bytesRead;
      cur ^= 1;
      hash.update(filled.subarray(0, bytesRead));
      await hash.drained();
      pending = fh.read(bufs[cur], 0, chunkBytes, bytes);
    }
    return { bytes, hash };
  } finally {
    await fh.close();
  }
}

/**
 * A Writable that appends to the partial file at `state.bytes` and hashes each chunk as it
 * goes; refuses (size_mismatch) a byte past `expectedSize`. Writes are issued in order and
 * several may be in flight (the hash of the next chunk overlaps the write of this one).
 */
export class PartWriter extends Writable {
  private fd = -1;
  readonly state: PartState;

  constructor(
    private readonly file: string,
    state: PartState,
    private readonly expectedSize: number,
    private readonly onBytes: (n: number) => void = () => {},
  ) {
    super({ highWaterMark: 8 << 20 });
    this.state = state;
  }

  override _construct(done: (err?: Error | null) => void): void {
    fs.open(this.file, fs.existsSync(this.file) ? "r+" : "w", (err, fd) => {
      if (err) return done(err);
      this.fd = fd;
      // Whatever lies past what was hashed is not trusted: cut it off.
      fs.ftruncate(fd, this.state.bytes, done);
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this._writev([{ chunk }], done);
  }

  /** Chunks that arrived while the previous write was in flight: hashed, then written with one writev (no copy). */
  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    let n = 0;
    for (const c of chunks) n += c.chunk.length;
    if (this.state.bytes + n > this.expectedSize) {
      done(new DownloadFailure("size_mismatch", `the server sent more than the ${this.expectedSize} bytes listed`));
      return;
    }
    const at = this.state.bytes;
    const bufs = chunks.map((c) => c.chunk);
    for (const b of bufs) this.state.hash.update(b);
    this.state.bytes += n;
    this.onBytes(n);
    // The next chunks are taken once this write is done and the hash is not too far behind.
    writevAll(this.fd, bufs, at, (err) => (err ? done(err) : this.state.hash.drained().then(() => done(), done)));
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (this.fd < 0) return done(err);
    const fd = this.fd;
    this.fd = -1;
    fs.close(fd, () => done(err));
  }

  override _final(done: (err?: Error | null) => void): void {
    fs.fsync(this.fd, done);
  }
}

function writevAll(fd: number, bufs: Buffer[], at: number, done: (err?: Error | null) => void): void {
  fs.writev(fd, bufs, at, (err, n) => {
    if (err) return done(err);
    let left = n;
    let i = 0;
    while (i < bufs.length && left >= bufs[i].length) left -= bufs[i++].length;
    if (i === bufs.length) return done();
    const rest = [bufs[i].subarray(left), ...bufs.slice(i + 1)];
    writevAll(fd, rest, at + n, done);
  });
}
