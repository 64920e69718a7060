// Which beam a raw-data file belongs to, decided by its file name only, as
// PALFA's datafile.group_files / pipeline_utils.can_add_file did.
//
// Order: the configured `beams.rules` first, then the built-in PALFA kinds
// (split Mock halves, merged Mock, WAPP), then the default: one file = one
// beam named after the file without its extension.
//
// Built-in regexes are PALFA's (lib/python/datafile.py), with two changes:
// the Mock `4bit-` prefix is optional (later data and our fixtures lack it),
// and every regex is anchored at both ends with the dots escaped (PALFA's Mock
// and merged-Mock regexes had no `$` and one unescaped `.`).
import path from "node:path";

/** One `beams.rules` entry of the config (shared/config/schema.ts). */
export interface BeamRule {
  name: string;
  /** Matched against the file's base name; must have a `(?<beam>…)` group, and `(?<member>…)` if `members` is not empty. Anchor it yourself. */
  regex: string;
  /** Values of `member` a complete group needs; empty: one file per beam. */
  members: string[];
}

export interface Classification {
  /** The rule's name for configured rules, else "mock", "merged-mock", "wapp" or "default". */
  kind: string;
  /** Beam name; files with the same kind and beam form one group. */
  beam: string;
  /** Which part of the beam the file is ("s0"/"s1" for Mock halves); null for single-file beams. */
  member: string | null;
  /** All members a complete group needs; empty for single-file beams. */
  members: string[];
}

/** The file must not be processed at all (PALFA: beam 7). */
export class RejectedFile extends Error {
  constructor(
    readonly fileName: string,
    readonly reason: string,
  ) {
    super(`${fileName}: ${reason}`);
    this.name = "RejectedFile";
  }
}

/** A configured rule cannot be used; this is a config error, not a file problem. */
export class BeamRuleError extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(`beams.rules '${rule}': ${message}`);
    this.name = "BeamRuleError";
  }
}

interface BuiltIn {
  kind: string;
  re: RegExp;
  members: string[];
  beam(g: Record<string, string>, fileName: string): string;
  member(g: Record<string, string>): string | null;
}

const BUILT_INS: BuiltIn[] = [
  {
    kind: "mock",
    re: /^(?:4bit-)?(?<projid>[Pp]\d{4})\.(?<date>\d{8})\.(?<source>.*)\.b(?<beam>[0-7])s(?<subband>[01])g0\.(?<scan>\d{5})\.fits$/,
    members: ["s0", "s1"],
    // The name PALFA gave the merged file (MockPsrfitsData.preprocess): projid.date.source.bN.scan
    beam: (g) => `${g.projid}.${g.date}.${g.source}.b${g.beam}.${g.scan}`,
    member: (g) => `s${g.subband}`,
  },
  {
    kind: "merged-mock",
    re: /^(?<projid>[Pp]\d{4})\.(?<date>\d{8})\.(?<source>.*)\.b(?<beam>[0-7])\.(?<scan>\d{5})\.fits$/,
    members: [],
    beam: (g) => `${g.projid}.${g.date}.${g.source}.b${g.beam}.${g.scan}`,
    member: () => null,
  },
  {
    kind: "wapp",
    re: /^(?<projid>[Pp]\d{4})_(?<mjd>\d{5})_(?<sec>\d{5})_(?<scan>\d{4})_(?<source>.*)_(?<beam>\d)\.w4bit\.fits$/,
    members: [],
    beam: (_g, fileName) => fileName.slice(0, -".w4bit.fits".length),
    member: () => null,
  },
];

interface CompiledRule {
  rule: BeamRule;
  re: RegExp;
}
const compiledCache = new WeakMap<readonly BeamRule[], CompiledRule[]>();

/** Compiles and checks the configured rules; throws BeamRuleError for an unusable one. */
export function compileRules(rules: readonly BeamRule[]): CompiledRule[] {
  const cached = compiledCache.get(rules);
  if (cached) return cached;
  const compiled = rules.map((rule) => {
    let re: RegExp;
    try {
      re = new RegExp(rule.regex);
    } catch (err) {
      throw new BeamRuleError(rule.name, `not a valid regular expression: ${(err as Error).message}`);
    }
    // An alternation with the empty string matches "" and lists every named group of the regex.
    const names = Object.keys(new RegExp(`(?:${rule.regex})|`).exec("")?.groups ?? {});
    if (!names.includes("beam")) throw new BeamRuleError(rule.name, "the regex has no (?<beam>…) group");
    if (rule.members.length > 0 && !names.includes("member")) {
      throw new BeamRuleError(rule.name, `members ${JSON.stringify(rule.members)} are given but the regex has no (?<member>…) group`);
    }
    if (new Set(rule.members).size !== rule.members.length) throw new BeamRuleError(rule.name, "members has duplicates");
    return { rule, re };
  });
  compiledCache.set(rules, compiled);
  return compiled;
}

/**
 * Classifies a file by its name (any directory part is ignored).
 * Throws RejectedFile when the file must not be processed (a built-in kind's
 * beam 7, or a member value a rule does not list), BeamRuleError for a bad rule.
 */
export function classify(fileName: string, rules: readonly BeamRule[]): Classification {
  const base = path.basename(fileName);
  for (const { rule, re } of compileRules(rules)) {
    const m = re.exec(base);
    if (!m) continue;
    const beam = m.groups?.beam;
    if (beam === undefined || beam === "") throw new RejectedFile(base, `rule '${rule.name}' matched but its (?<beam>…) group is empty`);
    if (rule.members.length === 0) return { kind: rule.name, beam, member: null, members: [] };
    const member = m.groups?.member;
    if (member === undefined || !rule.members.includes(member)) {
      throw new RejectedFile(base, `rule '${rule.name}': member ${JSON.stringify(member ?? null)} is not one of ${JSON.stringify(rule.members)}`);
    }
    return { kind: rule.name, beam, member, members: [...rule.members] };
  }
  for (const b of BUILT_INS) {
    const m = b.re.exec(base);
    if (!m) continue;
    const g = m.groups as Record<string, string>;
    // PALFA's can_add_file: "Ignoring beam 7 data". ALFA has 7 beams, 0-6; the
    // Mock/WAPP slot 7 is not a sky beam of the survey.
    if (g.beam === "7") throw new RejectedFile(base, `beam 7 is not an ALFA beam (ALFA has beams 0-6); PALFA ignored beam 7 data (${b.kind} file)`);
    return { kind: b.kind, beam: b.beam(g, base), member: b.member(g), members: [...b.members] };
  }
  const ext = path.extname(base);
  return { kind: "default", beam: ext ? base.slice(0, -ext.length) : base, member: null, members: [] };
}

/** Why the file must not be processed, or null if it may be. */
export function rejection(fileName: string, rules: readonly BeamRule[]): string | null {
  try {
    classify(fileName, rules);
    return null;
  } catch (err) {
    if (err instanceof RejectedFile) return err.reason;
    throw err;
  }
}

export interface GroupInput {
  id: number;
  filename: string;
}
export interface CompleteGroup {
  beam: string;
  kind: string;
  fileIds: number[];
}
export interface IncompleteGroup {
  beam: string;
  kind: string;
  have: string[];
  missing: string[];
  fileIds: number[];
}
export interface GroupResult {
  complete: CompleteGroup[];
  incomplete: IncompleteGroup[];
  /** Files that are in no group: rejected by classify, or a second file for a member already filled. */
  rejected: { id: number; filename: string; reason: string }[];
}

/**
 * Groups files into beams by name only (PALFA's group_files + is_complete).
 * Files are taken in id order; a group's fileIds follow its members' order
 * (s0 then s1). Pure: reads nothing but its arguments.
 */
export function groupFiles(files: readonly GroupInput[], rules: readonly BeamRule[]): GroupResult {
  const out: GroupResult = { complete: [], incomplete: [], rejected: [] };
  // Multi-member groups by kind + beam, in order of their first file.
  const groups = new Map<string, { beam: string; kind: string; members: string[]; byMember: Map<string, number> }>();
  const order: (CompleteGroup | string)[] = [];
  for (const f of [...files].sort((a, b) => a.id - b.id)) {
    let c: Classification;
    try {
      c = classify(f.filename, rules);
    } catch (err) {
      if (err instanceof RejectedFile) {
        out.rejected.push({ id: f.id, filename: f.filename, reason: err.reason });
        continue;
      }
      throw err;
    }
    if (c.members.length === 0) {
      order.push({ beam: c.beam, kind: c.kind, fileIds: [f.id] });
      continue;
    }
    const key = `${c.kind}\u0000${c.beam}`;
    let g = groups.get(key);
    if (!g) {
      g = { beam: c.beam, kind: c.kind, members: c.members, byMember: new Map() };
      groups.set(key, g);
      order.push(key);
    }
    const taken = g.byMember.get(c.member!);
    if (taken !== undefined) {
      out.rejected.push({ id: f.id, filename: f.filename, reason: `beam ${c.beam} already has its ${c.member} file (file id ${taken})` });
      continue;
    }
    g.byMember.set(c.member!, f.id);
  }
  for (const item of order) {
    if (typeof item !== "string") {
      out.complete.push(item);
      continue;
    }
    const g = groups.get(item)!;
    const missing = g.members.filter((m) => !g.byMember.has(m));
    const have = g.members.filter((m) => g.byMember.has(m));
    const fileIds = have.map((m) => g.byMember.get(m)!);
    if (missing.length === 0) out.complete.push({ beam: g.beam, kind: g.kind, fileIds });
    else out.incomplete.push({ beam: g.beam, kind: g.kind, have, missing, fileIds });
  }
  return out;
}
