// Stage-in: a beam's raw files into the attempt's work dir (on /dev/shm), each
// checked against the size and SHA-256 the coordinator registered. A shared
// filesystem path is copied directly; otherwise the file is fetched from the
// coordinator over gRPC.
import crypto from "node:crypto";
import fs from "node:fs";
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
async function copyHashed(openSource: () => Readable, dest: string, name: string): Promise<{ size: number; sha256: string }> {
  let fd: number;
  try {
    fd = fs.openSync(dest, "wx");
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ENOSPC") throw err;
    throw new StagingError(`cannot write ${name} into the work dir: ${e.message}`, "workdir");
  }
  const hash = crypto.createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(openSource(), tap, fs.createWriteStream(dest, { fd }));
  return { size, sha256: hash.digest("hex") };
}

export async function stageFiles(files: FileRef[], workDir: string, openRemote: RemoteOpener): Promise<StagedFile[]> {
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
      got = await copyHashed(() => (local ? fs.createReadStream(ref.path, { highWaterMark: 1 << 20 }) : openRemote(ref)), dest, ref.name);
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
