/**
 * Line splitting shared by the parsers.
 *
 * Public API:
 *   splitLines(text, file, requireFinalNewline): string[]
 *
 * Every PRESTO text product ends each line (including the last) with "\n", so a
 * file whose last line has no newline was cut while being written or copied.
 * Parsers of machine-written products pass requireFinalNewline=true to turn that
 * into a ParseError instead of silently accepting a clipped last value such as a
 * profile bin "53" that was really "5310722".
 */

import { ParseError } from "./errors";

export function splitLines(text: string, file: string, requireFinalNewline: boolean): string[] {
  if (text.length === 0) return [];
  const lines = text.split("\n");
  const last = lines.pop() ?? "";
  if (last.length > 0) {
    if (requireFinalNewline) {
      throw new ParseError(file, lines.length + 1, "a complete line ending in a newline (file looks truncated)", last);
    }
    lines.push(last);
  }
  // Tolerate CRLF copies (files edited or transferred on Windows); PRESTO never writes "\r".
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.endsWith("\r")) lines[i] = line.slice(0, -1);
  }
  return lines;
}
