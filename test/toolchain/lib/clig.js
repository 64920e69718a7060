"use strict";
// A parser and usage printer with the behaviour of PRESTO's clig/pyCLIG-generated
// *_cmd.c files (and the old clig used by psrfits_utils' combine_mocks):
//  - no arguments: main() prints "\n" on stdout (most PRESTO programs), usage() writes
//    the usage to stderr and exits with EXIT_FAILURE (1);
//  - unknown option: "\n<prog>: unknown option `-x'\n\n" + usage on stderr, exit 1;
//  - missing/malformed value, out of range, missing mandatory option, wrong number of
//    positional arguments: the clig message on stderr, exit 1.
// Facts only were taken from the real generated parsers; this is not their code.
const { err, out, exit } = require("./common");

const TYPE_WORD = { Int: "int", Long: "long", Float: "float", Double: "double", String: "char*" };

/**
 * spec = { name, usage, footer, newlineFirst, options: [ [type, flag, var, desc, extra] ],
 *          rest: { name, desc, min, max } }
 * extra = { r: [lo, hi] (strings, 'oo' = unbounded), d: 'default text', m: mandatory,
 *           c: [min, max] value count for multi-value options }
 */
function usageText(spec) {
  const items = spec.options.map(([type, flag, v, , x = {}]) => {
    if (type === "Flag") return `[${flag}]`;
    const arg = x.c && x.c[0] === 0 ? `[${v}]` : v;
    return x.m ? `${flag} ${arg}` : `[${flag} ${arg}]`;
  });
  const r = spec.rest;
  items.push("[--]");
  items.push(r.max > 1 ? `${r.name} ...` : r.name);
  const names = spec.options.map((o) => o[1]).concat([r.name]);
  const W = Math.max(...names.map((n) => n.length)) + 4;
  const pad = " ".repeat(W + 2);
  const lines = [`   ${items.join(" ")}`];
  for (const l of spec.usage.split("\n")) lines.push(`      ${l}`);
  for (const [type, flag, , desc, x = {}] of spec.options) {
    lines.push(`${flag.padStart(W)}: ${desc}`);
    if (type === "Flag") continue;
    const count = x.c ? (x.c[0] === x.c[1] ? `${x.c[0]}` : `${x.c[0]}...${x.c[1]}`) : "1";
    const plural = x.c && !(x.c[0] === 1 && x.c[1] === 1) ? "s" : "";
    let t = `${count} ${TYPE_WORD[type]} value${plural}`;
    if (x.r && type !== "String") t += ` between ${x.r[0]} and ${x.r[1]}`;
    lines.push(pad + t);
    if (x.d !== undefined)
      lines.push(
        `${pad}default: ${x.d
          .split(" ")
          .map((d) => `\`${d}'`)
          .join(" ")}`,
      );
  }
  lines.push(`${r.name.padStart(W)}: ${r.desc}`);
  lines.push(pad + (r.min === 1 && r.max === 1 ? "1 value" : `${r.min}...${r.max} values`));
  lines.push(spec.footer || "  CLI code generated: 20Aug26");
  return lines.join("\n") + "\n  ";
}

function usage(spec) {
  err(usageText(spec));
  exit(1);
}

/** No arguments: what every clig-generated PRESTO main() does. */
function noArgs(spec) {
  if (spec.newlineFirst !== false) out("\n");
  usage(spec);
}

const INT_RE = /^\s*[+-]?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\s*$/;
const DBL_RE = /^\s*[+-]?(((\d+\.?\d*)|(\.\d+))([eE][+-]?\d+)?|inf(inity)?|nan)\s*$/i;

function parseIntC(s) {
  if (!INT_RE.test(s)) return null;
  const t = s.trim();
  const neg = t.startsWith("-");
  const body = t.replace(/^[+-]/, "");
  let v;
  if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16);
  else if (body.length > 1 && body.startsWith("0")) v = parseInt(body, 8);
  else v = parseInt(body, 10);
  return neg ? -v : v;
}
function parseDoubleC(s) {
  if (!DBL_RE.test(s)) return null;
  const t = s.trim().toLowerCase();
  if (t.includes("inf")) return t.startsWith("-") ? -Infinity : Infinity;
  if (t.includes("nan")) return NaN;
  return Number(t);
}

function fail(msg) {
  err(msg);
  exit(1);
}

/** Parses argv (without argv[0]) the way the generated parseCmdline() does. */
function parse(spec, argv, prog) {
  const byFlag = new Map(spec.options.map((o) => [o[1], o]));
  const opts = {};
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      rest.push(...argv.slice(i + 1));
      break;
    }
    const o = byFlag.get(a);
    if (!o) {
      if (a.startsWith("-")) {
        err(`\n${prog}: unknown option \`${a}'\n\n`);
        usage(spec);
      }
      rest.push(a);
      continue;
    }
    const [type, flag, v, , x = {}] = o;
    if (type === "Flag") {
      opts[v] = true;
      continue;
    }
    if (x.c) {
      // multi-value option: take as many following values of the type as fit
      const vals = [];
      while (vals.length < x.c[1] && i + 1 < argv.length) {
        const n = type === "String" ? argv[i + 1] : type === "Int" || type === "Long" ? parseIntC(argv[i + 1]) : parseDoubleC(argv[i + 1]);
        if (n === null || (type === "String" && vals.length >= x.c[0] && argv[i + 1].startsWith("-"))) break;
        vals.push(n);
        i++;
      }
      if (vals.length < x.c[0]) fail(`${prog}: option \`${flag}' wants at least ${x.c[0]} parameters\n`);
      checkRange(prog, flag, type, vals, x.r);
      opts[v] = vals;
      continue;
    }
    if (i + 1 >= argv.length) {
      if (type === "String") fail(`${prog}: missing string after option \`${flag}'\n`);
      fail(`${prog}: missing or malformed ${type === "Int" ? "integer " : type === "Float" ? "float " : ""}value after option \`${flag}'\n`);
    }
    const s = argv[++i];
    let val;
    if (type === "String") val = s;
    else {
      val = type === "Int" || type === "Long" ? parseIntC(s) : parseDoubleC(s);
      if (val === null) fail(`${prog}: missing or malformed ${type === "Int" ? "integer " : type === "Float" ? "float " : ""}value after option \`${flag}'\n`);
      checkRange(prog, flag, type, [val], x.r);
    }
    opts[v] = val;
  }
  for (const [, flag, v, , x = {}] of spec.options) {
    if (x.m && !(v in opts)) fail(`${prog}: mandatory option \`${flag}' missing\n`);
  }
  const r = spec.rest;
  if (rest.length < r.min) fail(`${prog}: there should be at least ${r.min} non-option argument(s)\n`);
  if (rest.length > r.max) fail(`${prog}: there should be at most ${r.max} non-option argument(s)\n`);
  // defaults, as the generated Cmdline struct carries them
  for (const [type, , v, , x = {}] of spec.options) {
    if (!(v in opts) && x.d !== undefined && type !== "Flag" && !x.c) {
      opts[v] = type === "String" ? x.d : Number(x.d);
    }
  }
  return { opts, rest, has: (v) => Object.prototype.hasOwnProperty.call(opts, v) };
}

function checkRange(prog, flag, type, vals, r) {
  if (!r) return;
  const isInt = type === "Int" || type === "Long";
  const fmt = (n) => (isInt ? String(n) : Number(n).toFixed(6));
  vals.forEach((val, k) => {
    if (r[1] !== "oo" && val > Number(r[1])) fail(`${prog}: parameter ${k + 1} of option \`${flag}' greater than max=${fmt(r[1])}\n`);
    if (r[0] !== "-oo" && val < Number(r[0])) fail(`${prog}: parameter ${k + 1} of option \`${flag}' smaller than min=${fmt(r[0])}\n`);
  });
}

module.exports = { usageText, usage, noArgs, parse };
