// Paths that arrive over the network are never trusted: a name must be a plain
// file name, and whatever is written must land inside the attempt's work dir.
import path from "node:path";

export class UnsafePathError extends Error {
  constructor(
    readonly given: string,
    why: string,
  ) {
    super(`refusing path '${given}': ${why}`);
    this.name = "UnsafePathError";
  }
}

/** Joins a network-supplied relative name under dir, refusing anything that escapes it. */
export function inside(dir: string, name: string): string {
  if (name === "" || name.includes("\0")) throw new UnsafePathError(name, "empty or contains NUL");
  if (path.isAbsolute(name)) throw new UnsafePathError(name, "absolute paths are not allowed");
  const root = path.resolve(dir);
  const full = path.resolve(root, name);
  if (full !== root && !full.startsWith(root + path.sep)) throw new UnsafePathError(name, `it leaves ${root}`);
  if (full === root) throw new UnsafePathError(name, "it names the directory itself");
  return full;
}

/**
 * A plain file name: no directory part, not "." or "..", no NUL. Names from outside
 * (a beam name, a zaplist name built from a data file's name) are refused rather
 * than normalised, so nothing is ever written outside the directory meant.
 */
export function plainName(name: string, what = "file name"): string {
  const why =
    name === ""
      ? "it is empty"
      : name === "." || name === ".."
        ? "it names a directory"
        : /[/\\]/.test(name)
          ? "it contains a path separator"
          : name.includes("\0")
            ? "it contains a NUL byte"
            : undefined;
  if (why) throw new UnsafePathError(name, `${what} must be a plain file name: ${why}`);
  return name;
}
