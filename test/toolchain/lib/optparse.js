"use strict";
// The command-line behaviour of Python's optparse (used by PRESTO's
// single_pulse_search.py): short options (clustered flags, "-t5" and "-t 5"), long
// options ("--threshold=5", "--threshold 5", unique prefixes), interspersed
// positional arguments, "--"; errors print the usage line and
// "<prog>: error: <msg>" on stderr and exit with status 2.
const { out, err, exit } = require("./common");

function helpText(p) {
  const lines = [`Usage: ${p.usage}`, "", "Options:"];
  const rows = [["-h, --help", "show this help message and exit"]].concat(
    p.options.map((o) => {
      const meta = o.type ? o.dest.toUpperCase() : "";
      return [o.type ? `${o.short} ${meta}, ${o.long}=${meta}` : `${o.short}, ${o.long}`, o.help];
    }),
  );
  for (const [inv, help] of rows) {
    const words = help.split(" ");
    const wrapped = [];
    let cur = "";
    for (const w of words) {
      if (cur && (cur + " " + w).length > 54) {
        wrapped.push(cur);
        cur = w;
      } else cur = cur ? `${cur} ${w}` : w;
    }
    if (cur) wrapped.push(cur);
    if (inv.length <= 20) {
      lines.push(`  ${inv.padEnd(22)}${wrapped[0]}`);
    } else {
      lines.push(`  ${inv}`);
      lines.push(`${" ".repeat(24)}${wrapped[0]}`);
    }
    for (const w of wrapped.slice(1)) lines.push(`${" ".repeat(24)}${w}`);
  }
  return lines.join("\n") + "\n";
}

function error(p, msg) {
  err(`Usage: ${p.usage}\n\n${p.prog}: error: ${msg}\n`);
  exit(2);
}

function convert(p, o, flagText, value) {
  if (o.type === "float") {
    const v = Number(value);
    if (value.trim() === "" || (Number.isNaN(v) && !/^\s*[+-]?nan\s*$/i.test(value))) error(p, `option ${flagText}: invalid floating-point value: '${value}'`);
    return v;
  }
  if (o.type === "int") {
    if (!/^\s*[+-]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|\d+)\s*$/.test(value)) error(p, `option ${flagText}: invalid integer value: '${value}'`);
    return Number(value);
  }
  return value;
}

/** p = { prog, usage, options: [{ short, long, dest, type?: 'float'|'int'|'string', action?, default, help }] } */
function parse(p, argv) {
  const opts = {};
  for (const o of p.options) opts[o.dest] = o.default;
  const args = [];
  const takes = (o) => !!o.type;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(0, eq) : a;
      const all = ["--help", ...p.options.map((o) => o.long)];
      let match = all.filter((l) => l === name);
      if (!match.length) match = all.filter((l) => l.startsWith(name));
      if (match.length === 0) error(p, `no such option: ${name}`);
      if (match.length > 1) error(p, `ambiguous option: ${name} (${match.join(", ")}?)`);
      if (match[0] === "--help") {
        out(helpText(p));
        exit(0);
      }
      const o = p.options.find((x) => x.long === match[0]);
      if (takes(o)) {
        let v;
        if (eq >= 0) v = a.slice(eq + 1);
        else if (i + 1 < argv.length) v = argv[++i];
        else error(p, `${o.long} option requires 1 argument`);
        opts[o.dest] = convert(p, o, o.long, v);
      } else {
        if (eq >= 0) error(p, `${o.long} option does not take a value`);
        opts[o.dest] = o.action === "store_false" ? false : true;
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const flag = `-${a[k]}`;
        if (flag === "-h") {
          out(helpText(p));
          exit(0);
        }
        const o = p.options.find((x) => x.short === flag);
        if (!o) error(p, `no such option: ${flag}`);
        if (takes(o)) {
          let v;
          if (k + 1 < a.length) v = a.slice(k + 1);
          else if (i + 1 < argv.length) v = argv[++i];
          else error(p, `${flag} option requires 1 argument`);
          opts[o.dest] = convert(p, o, flag, v);
          break;
        }
        opts[o.dest] = o.action === "store_false" ? false : true;
      }
      continue;
    }
    args.push(a);
  }
  return { opts, args };
}

module.exports = { parse, helpText };
