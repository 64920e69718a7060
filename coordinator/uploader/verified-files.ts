/**
 * Reading a results directory only through its manifest.
 *
 * Public API:
 *   class VerifiedDir
 *     VerifiedDir.open(dir): Promise<VerifiedDir>   reads manifest.json and checks every
 *                                                   file's size and SHA-256 against it
 *     .base, .manifest, .manifestText, .manifestSha256
 *     .has(rel) / .names()                          what the manifest lists
 *     .read(rel): Buffer                            the bytes, re-checked against the manifest
 *     .tarMembers(rel): Promise<Map<name, Buffer>>  every regular member, one pass
 *     .path(rel): string
 *
 * The manifest is checked as a whole first (a missing, changed or extra file is a
 * "checksum" error: the transfer from the agent was short or damaged, so the fix is
 * to fetch the results again, not to search again). Then every file the uploader
 * reads itself (blobs, tarballs, the candidate list, search_params.txt ...) is
 * hashed again from the very buffer that is parsed or stored, so a file changed
 * between the check and the read cannot slip into the DB. (The FITS header reader
 * and allDiagnostics' float values read their files by path, right after the check.)
 */

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import * as tar from "tar";
import { MANIFEST_NAME, type Manifest, type ManifestEntry, verifyManifest } from "../../shared/results/manifest";
import { plainName } from "../../shared/files/safe-path";
import { isRegularMember } from "../../shared/files/tarball";
import { UploadError } from "./errors";

export function sha256(bytes: Buffer): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

export class VerifiedDir {
  private constructor(
    readonly dir: string,
    readonly manifest: Manifest,
    readonly manifestText: string,
    private readonly entries: Map<string, ManifestEntry>,
  ) {}

  get base(): string {
    return this.manifest.base;
  }

  get manifestSha256(): string {
    return sha256(Buffer.from(this.manifestText, "utf8"));
  }

  static async open(dir: string): Promise<VerifiedDir> {
    const file = path.join(dir, MANIFEST_NAME);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw new UploadError("checksum", `${file}: cannot be read (${(e as Error).message})`, { file: MANIFEST_NAME, cause: e });
    }
    const manifest = checkManifestShape(text);
    const problems = await verifyManifest(dir, manifest).catch((e: unknown) => {
      throw new UploadError("checksum", `${dir}: cannot be checked against ${MANIFEST_NAME}: ${(e as Error).message}`, { cause: e });
    });
    if (problems.length > 0) {
      const shown = problems.slice(0, 5).join("; ") + (problems.length > 5 ? `; and ${problems.length - 5} more` : "");
      throw new UploadError("checksum", `${dir} does not match ${MANIFEST_NAME}: ${shown}`, { file: problems[0]!.split(":")[0] });
    }
    return new VerifiedDir(dir, manifest, text, new Map(manifest.files.map((f) => [f.path, f])));
  }

  has(rel: string): boolean {
    return this.entries.has(rel);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  path(rel: string): string {
    return path.join(this.dir, ...rel.split("/"));
  }

  read(rel: string): Buffer {
    const entry = this.entries.get(rel);
    if (entry === undefined) throw new UploadError("parse", `${rel} is not in ${MANIFEST_NAME}`, { file: rel });
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(this.path(rel));
    } catch (e) {
      throw new UploadError("checksum", `${rel}: cannot be read (${(e as Error).message})`, { file: rel, cause: e });
    }
    if (bytes.length !== entry.size || sha256(bytes) !== entry.sha256) {
      throw new UploadError("checksum", `${rel} changed after the manifest was checked`, { file: rel });
    }
    return bytes;
  }

  /**
   * Every regular-file member of a gzipped tarball, read in one pass (the folds'
   * tarball of a beam with 100 candidates is ~80 MB: reading it once per member
   * would gunzip it 100 times). Member names must be plain file names and unique,
   * as collectResults writes them; anything else is a "parse" error.
   */
  async tarMembers(rel: string): Promise<Map<string, Buffer>> {
    const bytes = this.read(rel);
    const members = new Map<string, Buffer>();
    const problems: string[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const parser = new tar.Parser({
          strict: true,
          onReadEntry: (e) => {
            if (!isRegularMember(e.type)) {
              problems.push(`${e.path}: a ${e.type}, not a file`);
              e.resume();
              return;
            }
            const chunks: Buffer[] = [];
            e.on("data", (c: Buffer) => chunks.push(c));
            e.on("end", () => {
              if (members.has(e.path)) problems.push(`${e.path}: twice in the archive`);
              members.set(e.path, Buffer.concat(chunks));
            });
          },
        });
        parser.on("error", reject);
        parser.on("end", () => resolve());
        parser.end(bytes);
      });
    } catch (e) {
      // An archive of zero blocks only is how an empty tarball is written (tarball.ts).
      if (members.size === 0 && problems.length === 0 && isEmptyArchive(bytes)) return members;
      throw new UploadError("parse", `${rel}: not a readable gzipped tarball: ${(e as Error).message}`, { file: rel, cause: e });
    }
    for (const name of members.keys()) {
      try {
        plainName(name, "tarball member");
      } catch {
        problems.push(`${name}: not a plain file name`);
      }
    }
    if (problems.length > 0) throw new UploadError("parse", `${rel}: ${problems.join("; ")}`, { file: rel });
    return members;
  }
}

function checkManifestShape(text: string): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch (e) {
    throw new UploadError("checksum", `${MANIFEST_NAME} is not JSON: ${(e as Error).message}`, { file: MANIFEST_NAME, cause: e });
  }
  const o = m as Partial<Manifest>;
  const ok =
    typeof o === "object" &&
    o !== null &&
    o.version === 1 &&
    typeof o.base === "string" &&
    Array.isArray(o.files) &&
    o.files.every((f) => typeof f?.path === "string" && Number.isSafeInteger(f.size) && /^[0-9a-f]{64}$/.test(String(f.sha256)));
  if (!ok) throw new UploadError("checksum", `${MANIFEST_NAME} is not a version-1 manifest`, { file: MANIFEST_NAME });
  try {
    plainName(o.base!, "beam base name");
  } catch (e) {
    throw new UploadError("parse", `${MANIFEST_NAME}: ${(e as Error).message}`, { file: MANIFEST_NAME, cause: e });
  }
  return o as Manifest;
}

function isEmptyArchive(bytes: Buffer): boolean {
  try {
    const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes;
    return raw.length > 0 && raw.length % 512 === 0 && raw.every((b) => b === 0);
  } catch {
    return false;
  }
}
