/**
 * Read search_params.txt back into SearchParams.
 *
 * Public API:
 *   parsePyLiteral(text): unknown              one Python literal (the subset pyRepr writes)
 *   parseSearchParamsText(text, file): SearchParams   throws UploadError "parse"
 *
 * PALFA's uploader exec()'d this file as Python to learn to_prepfold_sigma,
 * max_cands_to_fold and the sifting periods. We read the `key = repr(value)` lines
 * with a small literal reader (None, True/False, numbers, inf/nan, quoted strings
 * with Python's escapes, lists, dicts: exactly what pyRepr writes), validate them
 * with the same zod schema the config uses, and then insist that
 * formatSearchParams(result) gives back the file byte for byte. That last check is
 * what makes the reader trustworthy: whatever it got wrong would show up as a
 * difference, and the parameter hash recorded with the upload is the hash of what
 * the file says.
 */

import { searchParamsSchema, type SearchParams } from "../../shared/config/search-params";
import { formatSearchParams } from "../../shared/results/search-params-file";
import { UploadError } from "./errors";

class LiteralError extends Error {}

export function parsePyLiteral(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t")) i++;
  };
  const fail = (what: string): never => {
    throw new LiteralError(`expected ${what} at column ${i + 1} of ${JSON.stringify(text)}`);
  };

  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "[") return sequence("]", () => value());
    if (c === "{") {
      const obj: Record<string, unknown> = {};
      sequence("}", () => {
        const k = value();
        if (typeof k !== "string") fail("a string key");
        ws();
        if (text[i] !== ":") fail('":"');
        i++;
        obj[k as string] = value();
      });
      return obj;
    }
    if (c === "'" || c === '"') return str(c);
    const m = /^(None|True|False|[-+]?inf|nan|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/.exec(text.slice(i));
    if (!m) return fail("a value");
    i += m[0].length;
    const t = m[0];
    if (t === "None") return null;
    if (t === "True") return true;
    if (t === "False") return false;
    if (t === "nan") return Number.NaN;
    if (t.endsWith("inf")) return t.startsWith("-") ? -Infinity : Infinity;
    return Number(t);
  };

  const sequence = <T>(close: string, item: () => T): T[] => {
    const out: T[] = [];
    i++;
    ws();
    if (text[i] === close) {
      i++;
      return out;
    }
    for (;;) {
      out.push(item());
      ws();
      if (text[i] === ",") {
        i++;
        ws();
        if (text[i] === close) break; // Python allows a trailing comma
        continue;
      }
      if (text[i] === close) break;
      fail(`"," or "${close}"`);
    }
    i++;
    return out;
  };

  const str = (quote: string): string => {
    let out = "";
    i++;
    for (;;) {
      if (i >= text.length) fail(`closing ${quote}`);
      const ch = text[i]!;
      if (ch === quote) {
        i++;
        return out;
      }
      if (ch !== "\\") {
        out += ch;
        i++;
        continue;
      }
      const e = text[i + 1];
      const simple: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", t: "\t", r: "\r" };
      if (e !== undefined && e in simple) {
        out += simple[e];
        i += 2;
      } else if (e === "x" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
        i += 4;
      } else {
        fail("a known escape");
      }
    }
  };

  const v = value();
  ws();
  if (i !== text.length) fail("end of the value");
  return v;
}

const LINE = /^([A-Za-z_][A-Za-z0-9_]*)\s* = (.*)$/;

export function parseSearchParamsText(text: string, file: string): SearchParams {
  const raw: Record<string, unknown> = {};
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const [n, line] of lines.entries()) {
    const m = LINE.exec(line);
    if (!m) throw new UploadError("parse", `${file}:${n + 1}: expected "key = value", found ${JSON.stringify(line)}`, { file });
    const key = m[1]!;
    if (key in raw) throw new UploadError("parse", `${file}:${n + 1}: ${key} is set twice`, { file });
    try {
      const v = parsePyLiteral(m[2]!);
      // None is how an unset optional parameter is written; the schema wants it absent.
      if (v !== null) raw[key] = v;
    } catch (e) {
      if (!(e instanceof LiteralError)) throw e;
      throw new UploadError("parse", `${file}:${n + 1}: ${e.message}`, { file });
    }
  }
  const parsed = searchParamsSchema.safeParse(raw);
  if (!parsed.success) {
    const why = parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ");
    throw new UploadError("parse", `${file}: not valid search parameters: ${why}`, { file });
  }
  const again = formatSearchParams(parsed.data);
  if (again !== text) {
    const a = again.split("\n");
    const b = text.split("\n");
    let k = 0;
    while (k < a.length && a[k] === b[k]) k++;
    throw new UploadError(
      "parse",
      `${file}:${k + 1}: does not read back as written: ${JSON.stringify(b[k] ?? "")} would be written as ${JSON.stringify(a[k] ?? "")}`,
      { file },
    );
  }
  return parsed.data;
}
