/**
 * Python glob.glob semantics for one directory level, which is how PALFA picked
 * the files to tar, move and upload ("*_ACCEL_0", "*rfifind.[bimors]*",
 * "*.accelcands*"). Keeping the same patterns keeps the same file sets.
 *
 * Public API:
 *   fnmatchRegExp(pattern): RegExp     fnmatch.translate: * ? [seq] [!seq]
 *   globFiles(dir, pattern): string[]  names of regular files in dir that match,
 *                                      sorted (glob order is the OS's; we sort so
 *                                      results do not depend on the filesystem)
 *   listRegularFiles(dir): string[]
 *
 * Like glob.glob, a pattern that does not start with "." never matches names that
 * do ("hidden" files). Unlike glob.glob we only return regular files: symlinks and
 * directories are never tarred, moved or uploaded, so a stray link cannot pull a
 * file from elsewhere into a beam's results.
 */

import fs from "node:fs";

export function fnmatchRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      // A "[" without a closing "]" is a literal, as in fnmatch.
      let j = i + 1;
      if (pattern[j] === "!") j++;
      if (pattern[j] === "]") j++;
      while (j < pattern.length && pattern[j] !== "]") j++;
      if (j >= pattern.length) {
        re += "\\[";
        continue;
      }
      let body = pattern.slice(i + 1, j);
      const negate = body.startsWith("!");
      if (negate) body = body.slice(1);
      body = body.replace(/\\/g, "\\\\").replace(/\^/g, "\\^");
      re += negate ? `[^/${body}]` : `[${body}]`;
      i = j;
    } else re += c.replace(/[.+^${}()|\\\]]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}

/** Names of the regular files (not symlinks, not directories) directly in `dir`. */
export function listRegularFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => d.name)
    .sort();
}

export function globFiles(dir: string, pattern: string): string[] {
  const re = fnmatchRegExp(pattern);
  const hiddenOk = pattern.startsWith(".");
  return listRegularFiles(dir).filter((name) => (hiddenOk || !name.startsWith(".")) && re.test(name));
}
