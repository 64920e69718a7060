/**
 * The manifest of a beam's results directory: every file with its size and
 * SHA-256, which the coordinator checks after the transfer. PALFA had no such
 * check; a short rsync only showed up later as an upload failure (or not at all,
 * for files the uploader does not parse).
 *
 * Public API:
 *   interface ManifestEntry, Manifest
 *   MANIFEST_NAME = "manifest.json"
 *   sha256File(path): Promise<string>
 *   buildManifest(dir, base): Promise<Manifest>     walks dir (subdirectories too)
 *   writeManifest(dir, manifest): string            path written
 *   verifyManifest(dir, manifest): Promise<string[]> problems; [] when all match
 *
 * Paths are relative to the results directory, "/"-separated, sorted; the manifest
 * itself is not listed. A symlink or other non-regular entry in the results
 * directory is an error: hashing it would follow the link outside the directory.
 */

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const MANIFEST_NAME = "manifest.json";

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface Manifest {
  version: 1;
  base: string;
  files: ManifestEntry[];
}

export class ManifestError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = "ManifestError";
    this.file = file;
  }
}

/** Streams the file, so multi-GB tarballs are hashed without loading them. */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash("sha256");
    fs.createReadStream(file)
      .on("error", reject)
      .on("data", (c) => hash.update(c))
      .on("end", () => resolve(hash.digest("hex")));
  });
}

function walk(root: string, rel: string, out: string[]): void {
  const dir = path.join(root, rel);
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const r = rel === "" ? d.name : `${rel}/${d.name}`;
    if (d.isDirectory()) walk(root, r, out);
    else if (d.isFile()) out.push(r);
    else throw new ManifestError(path.join(root, r), "not a regular file or directory (symlink?)");
  }
}

export async function buildManifest(dir: string, base: string): Promise<Manifest> {
  const rels: string[] = [];
  walk(dir, "", rels);
  const files: ManifestEntry[] = [];
  for (const rel of rels.filter((r) => r !== MANIFEST_NAME).sort()) {
    const full = path.join(dir, ...rel.split("/"));
    // Size from the same open file as the hash would be nicer; stat-then-hash is
    // fine here because nothing else writes into a results directory while we run.
    const size = fs.statSync(full).size;
    files.push({ path: rel, size, sha256: await sha256File(full) });
  }
  return { version: 1, base, files };
}

export function writeManifest(dir: string, manifest: Manifest): string {
  const file = path.join(dir, MANIFEST_NAME);
  const tmp = path.join(dir, `.${MANIFEST_NAME}.partial`);
  fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + "\n");
  fs.renameSync(tmp, file);
  return file;
}

export async function verifyManifest(dir: string, manifest: Manifest): Promise<string[]> {
  const problems: string[] = [];
  const actual = await buildManifest(dir, manifest.base);
  const byPath = new Map(actual.files.map((f) => [f.path, f]));
  for (const want of manifest.files) {
    const got = byPath.get(want.path);
    if (!got) problems.push(`${want.path}: missing`);
    else if (got.size !== want.size) problems.push(`${want.path}: size ${got.size}, expected ${want.size}`);
    else if (got.sha256 !== want.sha256) problems.push(`${want.path}: SHA-256 differs`);
    byPath.delete(want.path);
  }
  for (const extra of byPath.keys()) problems.push(`${extra}: not in the manifest`);
  return problems;
}
