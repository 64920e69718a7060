/**
 * The gzipped tarballs PALFA's clean_up made (tarfile.open(name, "w:gz"), one
 * member per file, added by its bare name) and the reads we need from tarballs
 * handed to us (the zaplists tarball).
 *
 * Public API:
 *   createTarball(file, cwd, names): Promise<void>   members are `names`, relative to cwd
 *   listTarball(file): Promise<TarMember[]>          every entry, in archive order
 *   readTarMember(file, memberPath): Promise<Buffer> one regular-file member's bytes
 *
 * createTarball writes to a temporary name next to `file` and renames it into place
 * only once it is complete and its listing matches `names`, so a crash or a full
 * disk never leaves a truncated tarball under the final name (the coordinator would
 * otherwise accept a short _ACCEL_0.tgz). With no names it writes an empty archive,
 * as tarfile does, so every beam has the same set of tarballs.
 */

import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import * as tar from "tar";

export interface TarMember {
  /** Path as stored in the archive. */
  path: string;
  /** tar entry type: "File", "Directory", "SymbolicLink", ... */
  type: string;
  size: number;
}

/** True for entry types that hold a file's bytes. */
export function isRegularMember(type: string): boolean {
  return type === "File" || type === "OldFile" || type === "ContiguousFile";
}

export async function createTarball(file: string, cwd: string, names: readonly string[]): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.partial`);
  fs.rmSync(tmp, { force: true }); // left by a crashed earlier attempt
  try {
    if (names.length === 0) {
      // tar.c refuses an empty list; an empty tar is two zero blocks, padded to one
      // 10240-byte record as Python's tarfile (and GNU tar) write it.
      fs.writeFileSync(tmp, zlib.gzipSync(Buffer.alloc(10240)), { flag: "wx" });
    } else {
      // portable: no uid/gid/user names (they mean nothing on the coordinator).
      await tar.c({ gzip: true, file: tmp, cwd, portable: true }, [...names]);
    }
    const listed = (await listTarball(tmp)).map((m) => m.path).sort();
    const wanted = [...names].sort();
    if (listed.length !== wanted.length || listed.some((p, i) => p !== wanted[i])) {
      throw new Error(`tarball ${file} lists ${listed.length} members, expected ${wanted.length}`);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

export async function listTarball(file: string): Promise<TarMember[]> {
  const members: TarMember[] = [];
  try {
    await tar.t({
      file,
      // strict: a truncated or corrupt archive is an error, not a shorter listing.
      strict: true,
      onReadEntry: (e) => {
        members.push({ path: e.path, type: e.type, size: e.size ?? 0 });
      },
    });
  } catch (e) {
    // node-tar calls an archive with no header at all "unrecognized"; Python's tarfile
    // and GNU tar read it as empty, and it is what we write for no members.
    if (isEmptyArchive(file)) return [];
    throw e;
  }
  return members;
}

/** Only zero blocks (after gunzip): the end-of-archive marker and nothing else. */
function isEmptyArchive(file: string): boolean {
  try {
    let data = fs.readFileSync(file);
    if (data[0] === 0x1f && data[1] === 0x8b) data = zlib.gunzipSync(data);
    return data.length > 0 && data.length % 512 === 0 && data.every((b) => b === 0);
  } catch {
    return false;
  }
}

export async function readTarMember(file: string, memberPath: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let found = false;
  await tar.t({
    file,
    strict: true,
    // Only the chosen member is read into memory; nothing is written to disk.
    filter: (p) => p === memberPath,
    onReadEntry: (e) => {
      if (found || !isRegularMember(e.type)) return;
      found = true;
      e.on("data", (c: Buffer) => chunks.push(c));
    },
  });
  if (!found) throw new Error(`${file} has no regular-file member ${JSON.stringify(memberPath)}`);
  return Buffer.concat(chunks);
}
