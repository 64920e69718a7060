/**
 * Where zaplists come from: a directory of *.zaplist files, or PALFA's
 * zaplists.tar.gz (the coordinator hands either to the agent).
 *
 * Public API:
 *   interface ZaplistSource { path; kind; find(name); read(location) }
 *   openZaplistSource(path): Promise<ZaplistSource>
 *
 * A tarball's member list is read once (PALFA kept a side file,
 * zaplist_tarball.list, for the same reason); read(name) then decompresses only up
 * to the chosen member and keeps it in memory, so nothing from the tarball is ever
 * written to disk. Members are matched by their base name, so lists stored under a
 * folder inside the tarball ("zaplists/p2030.20230225.all.zaplist") are found, as
 * with PALFA's `member.name.endswith(name)`, but "xp2030.20230225.all.zaplist" is
 * not taken for "p2030.20230225.all.zaplist" (endswith would).
 */

import fs from "node:fs";
import path from "node:path";
import { isRegularMember, listTarball, readTarMember } from "../../shared/files/tarball";

export interface ZaplistSource {
  /** The directory or tarball. */
  path: string;
  kind: "directory" | "tarball";
  /** Is there a list with this base name? Returns where it is (member path or file path). */
  find(name: string): string | undefined;
  /** The bytes of what find() returned. */
  read(location: string): Promise<Buffer>;
}

const TARBALL = /\.(tar\.gz|tgz)$/;

export async function openZaplistSource(source: string): Promise<ZaplistSource> {
  const st = fs.statSync(source);
  if (st.isDirectory()) {
    return {
      path: source,
      kind: "directory",
      find: (name) => {
        const p = path.join(source, name);
        try {
          // stat, not lstat: a list store may well hold symlinks, and we only read.
          return fs.statSync(p).isFile() ? p : undefined;
        } catch {
          return undefined;
        }
      },
      read: async (location) => fs.readFileSync(location),
    };
  }
  if (st.isFile() && TARBALL.test(source)) {
    const byBase = new Map<string, string>();
    for (const m of await listTarball(source)) {
      if (!isRegularMember(m.type)) continue;
      const base = path.posix.basename(m.path);
      // PALFA took the first match in archive order.
      if (!byBase.has(base)) byBase.set(base, m.path);
    }
    return {
      path: source,
      kind: "tarball",
      find: (name) => byBase.get(name),
      read: (member) => readTarMember(source, member),
    };
  }
  throw new Error(`zaplist source ${source} is neither a directory nor a .tar.gz/.tgz file`);
}
