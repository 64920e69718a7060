/**
 * Checks on file names that come from outside this process (a beam's base name
 * from the coordinator, a zaplist name built from a raw-data file name).
 *
 * Public API:
 *   assertPlainName(name, what): string   the name, or throws UnsafeNameError
 *   class UnsafeNameError
 *
 * Every results file is written as join(resultsDir, name). A name with a path
 * separator, "..", or a NUL would let a malformed beam name write outside the
 * results directory (or the work directory), so we refuse it outright instead of
 * normalising it.
 */

export class UnsafeNameError extends Error {
  readonly value: string;
  constructor(what: string, value: string, why: string) {
    super(`${what} ${JSON.stringify(value)} is not a plain file name: ${why}`);
    this.name = "UnsafeNameError";
    this.value = value;
  }
}

export function assertPlainName(name: string, what: string): string {
  if (name === "") throw new UnsafeNameError(what, name, "it is empty");
  if (name === "." || name === "..") throw new UnsafeNameError(what, name, "it names a directory");
  if (/[/\\]/.test(name)) throw new UnsafeNameError(what, name, "it contains a path separator");
  if (name.includes("\0")) throw new UnsafeNameError(what, name, "it contains a NUL byte");
  return name;
}
