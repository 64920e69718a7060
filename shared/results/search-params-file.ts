/**
 * search_params.txt, as PALFA's clean_up wrote it, and a hash of the parameters.
 *
 * Public API:
 *   SEARCH_PARAMS_FILE = "search_params.txt"
 *   effectiveParams(params): SearchParams     with sifting_sigma_threshold filled in
 *   formatSearchParams(params): string        the file's text
 *   writeSearchParamsFile(file, params): string  writes `file` (normally
 *                                       <work dir>/search_params.txt); returns it
 *   canonicalJson(value): string              sorted keys, no spaces
 *   paramsHash(params): string                SHA-256 (hex) of canonicalJson(effectiveParams)
 *
 * PALFA wrote one line per searching config, `"%-25s = %r\n" % (key, value)`, and
 * its uploader exec()s the file as Python to read to_prepfold_sigma,
 * max_cands_to_fold and the sifting periods back, and uploads it verbatim as the
 * "Search parameters" diagnostic. So each value is printed with Python's repr
 * (True/False, 6.0, 2.097152, 'text', [...]), keys padded to 25 columns as PALFA
 * did. Keys come in the schema's order (PALFA's came in dict order, i.e. arbitrary).
 *
 * sifting_sigma_threshold is optional in our schema (it defaults to
 * to_prepfold_sigma - 1, as PALFA's config computed it); the file and the hash use
 * the value the search actually used, so two configs that search identically get
 * the same hash, and the file says 5.0 like PALFA's did rather than None.
 */

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { type SearchParams, searchParamsSchema, siftingSigmaThreshold } from "../config/search-params";
import { pyRepr } from "./pyrepr";

export const SEARCH_PARAMS_FILE = "search_params.txt";

export function effectiveParams(params: SearchParams): SearchParams {
  return { ...params, sifting_sigma_threshold: siftingSigmaThreshold(params) };
}

export function formatSearchParams(params: SearchParams): string {
  const p = effectiveParams(params) as Record<string, unknown>;
  const shape = searchParamsSchema.shape as Record<string, Parameters<typeof pyRepr>[1]>;
  // Schema keys first (so an unset optional still gets a line), then anything else.
  const keys = [...Object.keys(shape), ...Object.keys(p).filter((k) => !(k in shape))];
  return keys.map((k) => `${k.padEnd(25)} = ${pyRepr(p[k], shape[k])}\n`).join("");
}

export function writeSearchParamsFile(file: string, params: SearchParams): string {
  // The uploader and the diagnostics look for exactly this name.
  if (path.basename(file) !== SEARCH_PARAMS_FILE) {
    throw new RangeError(`${file}: the search parameters file must be named ${SEARCH_PARAMS_FILE}`);
  }
  fs.writeFileSync(file, formatSearchParams(params));
  return file;
}

/**
 * JSON with object keys sorted at every level and no whitespace, so equal values
 * always give equal bytes (JSON.stringify follows insertion order). Undefined
 * members are dropped, as JSON.stringify drops them; non-finite numbers, which
 * JSON cannot hold, are an error rather than a silent null.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new RangeError(`canonicalJson: ${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  if (typeof value === "object") {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
}

export function paramsHash(params: SearchParams): string {
  return crypto
    .createHash("sha256")
    .update(canonicalJson(effectiveParams(params)))
    .digest("hex");
}
