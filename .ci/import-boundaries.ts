// The import boundaries of the source tree (`npm run check:imports`):
//   - coordinator/ and agent/ never import each other (what both need lives in shared/);
//   - shared/ imports neither of them, nor cli/;
//   - no import cycle among the source files (type-only imports count: they tie files together too).
// It reads every import of coordinator/, agent/, shared/, cli/ and bench/: `import … from "…"`,
// `export … from "…"`, `import "…"`, `import x = require("…")`, `require("…")` and `import("…")`
// with a literal specifier, resolves the relative ones to files the way tsx and Node do (x, x.ts, x/index.ts,
// x.js written for x.ts), and prints each offending import as file:line → target. Exit code 1 when there is any.
// Package imports (node:…, zod, …) are not followed; a relative import that resolves to no file is left to
// `npm run typecheck` (shared/gen exists only after `npm run gen:proto`). A small scanner rather than a library: the
// TypeScript compiler API is not there (TypeScript 7 is native), and esbuild's metafile drops
// type-only imports.
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const SOURCE_DIRS = ["coordinator", "agent", "shared", "cli", "bench"];
const SKIP_DIRS = new Set(["node_modules", "fixtures"]);

/** Top-level folder → the top-level folders it must not import. */
const FORBIDDEN: Record<string, string[]> = {
  coordinator: ["agent", "cli"],
  agent: ["coordinator", "cli"],
  shared: ["coordinator", "agent", "cli"],
};

interface Edge {
  from: string; // file, relative to the repository root
  line: number;
  specifier: string;
  to: string; // the file it resolves to, relative; or, when it resolves to none (shared/gen before
  // `npm run gen:proto`, a .json), the specifier's path relative to the root
  typeOnly: boolean;
}

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p);
      } else if (/\.(ts|tsx|mts|cts)$/.test(e.name) && !e.name.endsWith(".d.ts")) {
        out.push(path.relative(ROOT, p));
      }
    }
  };
  for (const d of SOURCE_DIRS) walk(path.join(ROOT, d));
  return out.sort();
}

/**
 * The text with comments blanked and the contents of strings and templates overwritten with `_`
 * (same length, newlines kept, so an offset in it is an offset in the source and gives the line):
 * what is left to match is code. A regex literal is told from a division by the token before it,
 * as a JavaScript tokenizer does.
 */
function blankCommentsAndStrings(src: string): string {
  const out = src.split("");
  let i = 0;
  let prev = ""; // last significant character outside comments and literals
  let prevWord = "";
  const blank = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " ";
  };
  while (i < src.length) {
    const c = src[i];
    const d = src[i + 1];
    if (c === "/" && d === "/") {
      const end = src.indexOf("\n", i);
      const stop = end < 0 ? src.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && d === "*") {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || c === "`") {
      let k = i + 1;
      while (k < src.length && src[k] !== c) {
        if (src[k] === "\\") k++;
        else if (c !== "`" && src[k] === "\n") break;
        k++;
      }
      for (let j = i + 1; j < k && j < src.length; j++) if (out[j] !== "\n") out[j] = "_";
      i = k + 1;
      prev = c;
      prevWord = "";
    } else if (c === "/" && (prev === "" || "(,=:[!&|?{};+-*%<>~^".includes(prev) || /^(return|typeof|case|do|else|in|of|void|yield|await)$/.test(prevWord))) {
      let k = i + 1;
      let inClass = false;
      while (k < src.length && src[k] !== "\n") {
        if (src[k] === "\\") k++;
        else if (src[k] === "[") inClass = true;
        else if (src[k] === "]") inClass = false;
        else if (src[k] === "/" && !inClass) break;
        k++;
      }
      i = k + 1;
      prev = "/";
      prevWord = "";
    } else {
      if (/\s/.test(c)) {
        i++;
        continue;
      }
      if (/[A-Za-z0-9_$]/.test(c)) {
        let k = i;
        while (k < src.length && /[A-Za-z0-9_$]/.test(src[k])) k++;
        prevWord = src.slice(i, k);
        prev = src[k - 1];
        i = k;
        continue;
      }
      prev = c;
      prevWord = "";
      i++;
    }
  }
  return out.join("");
}

const STATIC_IMPORT = /(?<![.\w$])(import|export)(\s+type\b)?(?:\s*[^'";]*?\bfrom\s*|\s*)(["'])([^"'\n]+)\3/g;
const CALL_IMPORT = /(?<![.\w$])(require|import)\s*\(\s*(["'])([^"'\n]+)\2\s*\)/g;

function resolve(fromFile: string, specifier: string): string | undefined {
  const base = path.resolve(ROOT, path.dirname(fromFile), specifier);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, path.join(base, "index.ts")];
  if (/\.(c|m)?js$/.test(base)) candidates.push(base.replace(/\.(c|m)?js$/, ".$1ts"));
  for (const c of candidates) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return path.relative(ROOT, c);
  }
  return undefined;
}

function importsOf(file: string): Edge[] {
  const src = fs.readFileSync(path.join(ROOT, file), "utf8");
  const text = blankCommentsAndStrings(src);
  const literal = (offset: number, length: number): string => src.slice(offset, offset + length);
  const lineAt = (offset: number): number => text.slice(0, offset).split("\n").length;
  const found: Array<{ offset: number; specifier: string; typeOnly: boolean }> = [];
  for (const m of text.matchAll(STATIC_IMPORT)) {
    const offset = (m.index ?? 0) + m[0].lastIndexOf(m[3] + m[4]);
    found.push({ offset, specifier: literal(offset + 1, m[4].length), typeOnly: m[2] !== undefined });
  }
  for (const m of text.matchAll(CALL_IMPORT)) {
    const offset = (m.index ?? 0) + m[0].indexOf(m[2]);
    found.push({ offset, specifier: literal(offset + 1, m[3].length), typeOnly: false });
  }
  const edges: Edge[] = [];
  const seen = new Set<number>();
  for (const f of found.sort((a, b) => a.offset - b.offset)) {
    if (seen.has(f.offset) || !f.specifier.startsWith(".")) continue;
    seen.add(f.offset);
    const to = resolve(file, f.specifier) ?? path.relative(ROOT, path.resolve(ROOT, path.dirname(file), f.specifier));
    edges.push({ from: file, line: lineAt(f.offset), specifier: f.specifier, to, typeOnly: f.typeOnly });
  }
  return edges;
}

const top = (file: string): string => file.split(path.sep)[0];

/** Strongly connected components with more than one file, or one file importing itself (Tarjan). */
function cycles(files: string[], edges: Edge[]): string[][] {
  const next = new Map<string, string[]>(files.map((f) => [f, []]));
  for (const e of edges) if (next.has(e.to)) next.get(e.from)?.push(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || next.get(v)?.includes(v)) out.push(scc.sort());
    }
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}

function main(): number {
  const files = sourceFiles();
  const edges = files.flatMap(importsOf);
  const where = (e: Edge): string => `${e.from}:${e.line} → ${e.to}${e.typeOnly ? " (type-only)" : ""}`;
  const problems: string[] = [];

  const crossing = edges.filter((e) => (FORBIDDEN[top(e.from)] ?? []).includes(top(e.to)));
  for (const e of crossing) problems.push(`${where(e)}  (${top(e.from)}/ must not import ${top(e.to)}/)`);

  const found = cycles(files, edges);
  for (const scc of found) {
    const members = new Set(scc);
    problems.push(`import cycle among ${scc.length} files: ${scc.join(", ")}`);
    for (const e of edges) if (members.has(e.from) && members.has(e.to)) problems.push(`  ${where(e)}`);
  }

  if (problems.length === 0) {
    console.log(`import boundaries: ok (${files.length} files, ${edges.length} relative imports)`);
    return 0;
  }
  console.log(problems.join("\n"));
  console.log(`import boundaries: ${crossing.length} forbidden import(s), ${found.length} cycle(s) in ${files.length} files`);
  return 1;
}

process.exitCode = main();
