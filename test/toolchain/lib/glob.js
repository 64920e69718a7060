"use strict";
// Python glob.glob() semantics for the stand-ins: '*', '?' and '[...]' in any path
// component, hidden entries only matched by patterns starting with '.'. Python returns
// directory order; this returns the matches sorted (deterministic).
const fs = require("node:fs");
const path = require("node:path");

function toRegex(pat) {
  let re = "";
  for (let i = 0; i < pat.length; i++) {
    const ch = pat[i];
    if (ch === "*") re += ".*";
    else if (ch === "?") re += ".";
    else if (ch === "[") {
      const j = pat.indexOf("]", i + 2);
      if (j < 0) re += "\\[";
      else {
        let body = pat.slice(i + 1, j);
        if (body.startsWith("!")) body = "^" + body.slice(1);
        re += `[${body.replace(/\\/g, "\\\\")}]`;
        i = j;
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "s");
}
const magic = (s) => /[*?[]/.test(s);

function glob(pattern) {
  const abs = pattern.startsWith("/");
  const parts = pattern.split("/").filter((p, k) => p !== "" || k === 0);
  let bases = [abs ? "/" : ""];
  parts.forEach((part, k) => {
    if (abs && k === 0) return;
    const last = k === parts.length - 1;
    const next = [];
    for (const b of bases) {
      const dir = b === "" ? "." : b;
      if (!magic(part)) {
        const p = b === "" ? part : path.join(b, part);
        if (last ? fs.existsSync(p) : isDir(p)) next.push(p);
        continue;
      }
      let names;
      try {
        names = fs.readdirSync(dir);
      } catch {
        continue;
      }
      const re = toRegex(part);
      for (const n of names) {
        if (n.startsWith(".") && !part.startsWith(".")) continue;
        if (!re.test(n)) continue;
        const p = b === "" ? n : path.join(b, n);
        if (last || isDir(p)) next.push(p);
      }
    }
    bases = next;
  });
  return bases.filter((b) => b !== "" && b !== "/").sort();
}
function isDir(p) {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

module.exports = { glob };
