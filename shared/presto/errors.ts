/**
 * The one error type every PRESTO-output parser throws.
 *
 * Public API:
 *   class ParseError extends Error { file; line; expected; found }
 *
 * PRESTO's own readers either exit() or silently read garbage when a file is cut
 * short (a full scratch disk, a killed job, a partial rsync). Callers of these
 * parsers must be able to tell "this beam's products are damaged" from a bug, so
 * every parser reports the file, the 1-based line and what it expected there,
 * instead of returning half-filled objects.
 */

export class ParseError extends Error {
  /** Name of the file (or other source label) being parsed. */
  readonly file: string;
  /** 1-based line number; for "ended too early" errors this is the line after the last one. */
  readonly line: number;
  /** What the parser needed at that point, in words. */
  readonly expected: string;
  /** The offending text, when there was any (absent at end of file). */
  readonly found: string | undefined;

  constructor(file: string, line: number, expected: string, found?: string) {
    const where = found === undefined ? "end of file" : JSON.stringify(clip(found));
    super(`${file}:${line}: expected ${expected}, found ${where}`);
    this.name = "ParseError";
    this.file = file;
    this.line = line;
    this.expected = expected;
    this.found = found;
  }
}

/** Keep messages readable when the offending line is a 160-column table row. */
function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
