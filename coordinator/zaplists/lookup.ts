/**
 * PALFA's choice of zaplist for a beam ("zaplists by MJD": find_zaplist_in_tarball
 * on the head node, copy_zaplist on the worker), first match wins:
 *   1. <projid>.<date>.<source>.b<beam>.<scan>.zaplist   this observation
 *   2. <projid>.<date>.b<beam>.zaplist                   this beam, that day
 *   3. <projid>.<date>.all.zaplist                       every beam that day
 *   4. the default list (PALFA_commondb_Mock.zaplist / PALFA_commondb_wapp.zaplist),
 *      unless useDefault is false
 *
 * Public API:
 *   interface BeamKey, ZaplistLookupOptions, ZaplistChoice
 *   type ZaplistRule = 1 | 2 | 3 | 4
 *   DEFAULT_ZAPLISTS                          PALFA's default names per backend
 *   zaplistCandidates(key, options?)          the names tried, in order
 *   findZaplist(source, key, options?): Promise<ZaplistChoice>
 *   findZaplistForFile(source, dataFileName, options?)   key from beamNameParts,
 *                                             default list by backend
 *   writeZaplist(choice, dir): string         puts the chosen list in the work dir
 *   (errors: ZaplistNotFoundError, ZaplistError in ./errors)
 *
 * The result records which list was used and why, so the results can say so (PALFA
 * only printed it to the job log). The chosen text is parsed before it is returned:
 * a damaged list fails here, naming the member, rather than in zapbirds thousands of
 * FFTs later.
 */

import fs from "node:fs";
import path from "node:path";
import { ParseError, type ZapEntry, parseZaplist } from "../../shared/presto";
import { plainName } from "../../shared/files/safe-path";
import { beamNameParts } from "./beam-name";
import { ZaplistError, ZaplistNotFoundError } from "./errors";
import { openZaplistSource } from "./sources";

export interface BeamKey {
  projid: string;
  /** YYYYMMDD. */
  date: string;
  source: string;
  beam: number | string;
  scan: string;
}

export type ZaplistRule = 1 | 2 | 3 | 4;

export const RULE_NAMES: Record<ZaplistRule, string> = {
  1: "this observation",
  2: "this beam on this date",
  3: "all beams on this date",
  4: "default list",
};

export const DEFAULT_ZAPLISTS = {
  mock: "PALFA_commondb_Mock.zaplist",
  wapp: "PALFA_commondb_wapp.zaplist",
} as const;

export interface ZaplistLookupOptions {
  /** Rule 4's file name (e.g. DEFAULT_ZAPLISTS.mock). Without it rule 4 never matches. */
  defaultName?: string;
  /** PALFA's use_default_zaplists (default true). */
  useDefault?: boolean;
  /** Where to find the default list if not in the same source (a directory or tarball). */
  defaultSource?: string;
}

export interface ZaplistChoice {
  /** The zaplist's file name (no directory). */
  name: string;
  text: string;
  entries: ZapEntry[];
  /** The directory or tarball it came from. */
  source: string;
  /** The file path (directory source) or member path (tarball) read. */
  location: string;
  rule: ZaplistRule;
  ruleName: string;
}

export function zaplistCandidates(key: BeamKey, options: ZaplistLookupOptions = {}): { rule: ZaplistRule; name: string }[] {
  if (!/^\d{8}$/.test(key.date)) throw new RangeError(`date ${JSON.stringify(key.date)} is not YYYYMMDD`);
  const beam = String(key.beam);
  const names: { rule: ZaplistRule; name: string }[] = [
    { rule: 1, name: `${key.projid}.${key.date}.${key.source}.b${beam}.${key.scan}.zaplist` },
    { rule: 2, name: `${key.projid}.${key.date}.b${beam}.zaplist` },
    { rule: 3, name: `${key.projid}.${key.date}.all.zaplist` },
  ];
  if ((options.useDefault ?? true) && options.defaultName !== undefined) {
    names.push({ rule: 4, name: options.defaultName });
  }
  // Parts of the names come from file names we were handed; never let one reach
  // outside the zaplist directory.
  for (const n of names) plainName(n.name, "zaplist name");
  return names;
}

export async function findZaplist(source: string, key: BeamKey, options: ZaplistLookupOptions = {}): Promise<ZaplistChoice> {
  const candidates = zaplistCandidates(key, options);
  const primary = await openZaplistSource(source);
  const wantsDefault = candidates.some((c) => c.rule === 4);
  const fallback = wantsDefault && options.defaultSource !== undefined ? await openZaplistSource(options.defaultSource) : primary;
  for (const { rule, name } of candidates) {
    const src = rule === 4 ? fallback : primary;
    const location = src.find(name);
    if (location === undefined) continue;
    let text: string;
    try {
      text = (await src.read(location)).toString("utf8");
    } catch (e) {
      throw new ZaplistError(src.path, location, `cannot be read: ${(e as Error).message}`, { cause: e });
    }
    let entries: ZapEntry[];
    try {
      entries = parseZaplist(text, `${src.path}:${location}`);
    } catch (e) {
      if (e instanceof ParseError) throw new ZaplistError(src.path, location, e.message, { cause: e });
      throw e;
    }
    return { name, text, entries, source: src.path, location, rule, ruleName: RULE_NAMES[rule] };
  }
  const sources = [primary.path, ...(fallback !== primary ? [fallback.path] : [])];
  const note =
    options.useDefault === false
      ? " (default zaplists are disabled: useDefault=false)"
      : options.defaultName === undefined
        ? " (no default zaplist configured)"
        : "";
  throw new ZaplistNotFoundError(
    candidates.map((c) => c.name),
    sources,
    note,
  );
}

/** Writes the chosen list into `dir` under its own name (where zapbirds and clean_up expect it). */
export function writeZaplist(choice: ZaplistChoice, dir: string): string {
  const file = path.join(dir, plainName(choice.name, "zaplist name"));
  fs.writeFileSync(file, choice.text);
  return file;
}

/**
 * findZaplist for a raw-data or merged file name: the key comes from
 * beamNameParts, and the default list is PALFA's for that backend unless
 * options.defaultName says otherwise.
 */
export async function findZaplistForFile(source: string, dataFileName: string, options: ZaplistLookupOptions = {}): Promise<ZaplistChoice> {
  const parts = beamNameParts(dataFileName);
  return findZaplist(source, parts, { ...options, defaultName: options.defaultName ?? DEFAULT_ZAPLISTS[parts.kind] });
}
