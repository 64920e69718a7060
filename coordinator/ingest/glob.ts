// Shell-style globs for `add-files --glob`, through tinyglobby (Node 20 has no
// fs.globSync). Files only, absolute, sorted per pattern, each path once; dot
// files only when the pattern names them, as in the shell.
import path from "node:path";
import { globSync } from "tinyglobby";

export interface GlobResult {
  /** Absolute paths of the matched files. */
  paths: string[];
  /** Patterns that matched nothing. */
  unmatched: string[];
}

export function expandGlobsDetailed(globs: readonly string[], cwd = process.cwd()): GlobResult {
  const seen = new Set<string>();
  const paths: string[] = [];
  const unmatched: string[] = [];
  for (const pattern of globs) {
    const found = globSync(pattern, { cwd, absolute: true, onlyFiles: true, dot: false, expandDirectories: false })
      .map((p) => path.resolve(p))
      .sort();
    if (found.length === 0) unmatched.push(pattern);
    for (const p of found)
      if (!seen.has(p)) {
        seen.add(p);
        paths.push(p);
      }
  }
  return { paths, unmatched };
}

export function expandGlobs(globs: readonly string[], cwd = process.cwd()): string[] {
  return expandGlobsDetailed(globs, cwd).paths;
}
