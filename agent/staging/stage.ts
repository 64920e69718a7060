// Stage-in: a beam's raw files into the attempt's work dir (on /dev/shm), each
// checked against the size and SHA-256 the coordinator registered. A shared
// filesystem path is copied directly; otherwise the file is fetched from the
// coordinator over gRPC.
import crypto from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { Transform, type Readable } from "node:stream";
import type { FileRef } from "../../shared/gen/agent";
import { inside, plainName } from "../../shared/files/safe-path";
import { diskSpace } from "../resources/resources";

/** workdir (the agent cannot write its work dir) is the node's fault: the coordinator does not count it. */
export class StagingError extends Error {
  constructor(
    message: string,
    readonly errorClass: "staging" | "workdir" | "shm_full" | "checksum",
  ) {
    super(message);
    this.name = "StagingError";
  }
}

/** Opens a remote copy of a file when the coordinator's path is not visible here. */
export type RemoteOpener = (file: FileRef) => Readable;

export interface StagedFile {
  ref: FileRef;
  path: string;
  bytesPerSecond: number;
}

/** Opens the destination first, so a work dir the agent cannot write is told apart from a source it cannot read. */
function openDest(dest: string, name: string): number {
  try {
    return fs.openSync(dest, "wx");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOSPC") throw err;
    throw new StagingError(`cannot write ${name} into the work dir: ${e.message}`, "workdir");
  }
}

const CHUNK = 4 << 20;
const RING = 4;

/**
 * A file on a filesystem the agent sees, copied and hashed in one pass, overlapped: the
 * next read and the previous writes run in the thread pool while this chunk is hashed, so
 * the copy takes about as long as the slower of reading, writing and hashing alone.
 */
export async function copyLocalHashed(src: string, dest: string, name: string): Promise<{ size: number; sha256: string }> {
  const out = openDest(dest, name);
  const hash = crypto.createHash("sha256");
  let inp: fsp.FileHandle | undefined;
  const writes: (Promise<void> | undefined)[] = new Array(RING);
  try {
    inp = await fsp.open(src, "r");
    const bufs = Array.from({ length: RING }, () => Buffer.allocUnsafe(CHUNK));
    let pos = 0;
    let i = 0;
    let reading = inp.read(bufs[0], 0, CHUNK, 0);
    for (;;) {
      const { bytesRead } = await reading;
      if (bytesRead === 0) break;
      const cur = i;
      i = (i + 1) % RING;
      await writes[i]; // the next buffer's write must be done before it is read into
      reading = inp.read(bufs[i], 0, CHUNK, pos + bytesRead);
      const chunk = bufs[cur].subarray(0, bytesRead);
      hash.update(chunk);
      writes[cur] = writeAt(out, chunk, pos);
      pos += bytesRead;
    }
    await Promise.all(writes);
    return { size: pos, sha256: hash.digest("hex") };
  } finally {
    await Promise.allSettled(writes.filter(Boolean) as Promise<void>[]);
    await inp?.close();
    fs.closeSync(out);
  }
}

function writeAt(fd: number, buf: Buffer, at: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const next = (off: number) =>
      fs.write(fd, buf, off, buf.length - off, at + off, (err, n) => {
        if (err) return reject(err);
        if (off + n < buf.length) next(off + n);
        else resolve();
      });
    next(0);
  });
}

/** A stream (the coordinator's FetchFile) written and hashed as it arrives: the write of a chunk overlaps the hash of the next. */
async function copyHashed(openSource: () => Readable, dest: string, name: string): Promise<{ size: number; sha256: string }> {
  const fd = openDest(dest, name);
  const hash = crypto.createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(openSource(), tap, fs.createWriteStream(dest, { fd, highWaterMark: 4 << 20 }));
  return { size, sha256: hash.digest("hex") };
}

export async function stageFiles(files: FileRef[], workDir: string, openRemote: RemoteOpener): Promise<StagedFile[]> {
  if (files.length === 0) return [];
  const need = files.reduce((n, f) => n + f.size, 0);
  const { free } = diskSpace(workDir);
  if (need > free) {
    throw new StagingError(`not enough space in ${workDir} for the beam's files: ${need} bytes needed, ${free} free`, "shm_full");
  }
  const staged: StagedFile[] = [];
  for (const ref of files) {
    const dest = inside(workDir, plainName(ref.name));
    const local = ref.path && fs.existsSync(ref.path);
    const started = process.hrtime.bigint();
    let got: { size: number; sha256: string };
    try {
      got = local ? await copyLocalHashed(ref.path, dest, ref.name) : await copyHashed(() => openRemote(ref), dest, ref.name);
    } catch (err) {
      if (err instanceof StagingError) throw err;
      const e = err as NodeJS.ErrnoException;
      if (e.code === "ENOSPC") throw new StagingError(`${workDir} filled up while staging ${ref.name}`, "shm_full");
      throw new StagingError(`cannot stage ${ref.name} from ${local ? ref.path : "the coordinator"}: ${e.message}`, "staging");
    }
    if (got.size !== ref.size) throw new StagingError(`${ref.name}: staged ${got.size} bytes, expected ${ref.size}`, "checksum");
    if (ref.sha256 && got.sha256 !== ref.sha256)
      throw new StagingError(`${ref.name}: SHA-256 ${got.sha256} does not match the registered ${ref.sha256}`, "checksum");
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    staged.push({ ref, path: dest, bytesPerSecond: seconds > 0 ? got.size / seconds : 0 });
  }
  return staged;
}
