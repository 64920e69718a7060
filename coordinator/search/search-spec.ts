// What a palfa-search attempt is sent: the search parameters (the config's
// `search` with the job's own overrides) and the beam's zaplist, looked up
// on the coordinator in PALFA's order when the beam is assigned.
import type { SearchSpec } from "../../shared/gen/agent";
import type { Config } from "../../shared/config/schema";
import { searchParamsSchema, type SearchParams } from "../../shared/config/search-params";
import { RefusedAction } from "../tracker/tracker";

/** A beam that must not be searched as it stands (PALFA's FailedPreCheckError). */
export class PrecheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PrecheckFailed";
  }
}

export function mergedParams(cfg: Config, overrides: Record<string, unknown>): SearchParams {
  const parsed = searchParamsSchema.safeParse({ ...cfg.search, ...overrides });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(params)"}: ${i.code === "unrecognized_keys" ? `unknown parameter${i.keys.length > 1 ? "s" : ""} ${i.keys.join(", ")}` : i.message}`);
    throw new RefusedAction(`bad search parameters: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/** Parses the JSON overrides an operator gave and checks them against the schema at once. */
export function parseOverrides(cfg: Config, json: string): Record<string, unknown> {
  if (!json) return {};
  let value: unknown;
  try { value = JSON.parse(json); } catch (err) { throw new RefusedAction(`search parameters are not JSON: ${(err as Error).message}`); }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new RefusedAction("search parameters must be a JSON object");
  mergedParams(cfg, value as Record<string, unknown>);
  return value as Record<string, unknown>;
}

export type ZaplistLookup = (beam: string, files: string[]) => { name: string; text: string; rule: string; source: string };

export function searchSpec(cfg: Config, jobSpec: { params?: Record<string, unknown> }, beam: string, files: string[], zaplist: ZaplistLookup): SearchSpec {
  const params = mergedParams(cfg, jobSpec.params ?? {});
  let z;
  try {
    z = zaplist(beam, files);
  } catch (err) {
    throw new PrecheckFailed(`no zaplist for beam ${beam}: ${(err as Error).message}`);
  }
  return { paramsJson: JSON.stringify(params), zaplist: z };
}
