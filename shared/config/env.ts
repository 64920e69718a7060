// BEAMFLOW_* environment variables override config keys, for batch systems and
// containers where editing a file per node is awkward. The mapping: after the
// prefix, a double underscore separates the levels of the key and the rest is the
// key's own name in upper case:
//
//   BEAMFLOW_DATA_DIR=/scratch/beamflow          data_dir
//   BEAMFLOW_JOBS__LEASE_S=30                    jobs.lease_s
//   BEAMFLOW_AGENT__TOOLCHAIN__PREFIX=/opt/presto agent.toolchain.prefix
//   BEAMFLOW_SEARCH__LOW_DM_CUTOFF=1.0           search.low_DM_cutoff (names match regardless of case)
//
// A value is read as YAML (30, true, [a, b], {k: v}) except where the key holds text,
// which takes it verbatim; an empty value is an empty string. The result is validated
// by the same schema as the file, so a bad value is reported with its key and the
// variable that set it. Other BEAMFLOW_* variables without a double underscore
// (BEAMFLOW_CONFIG, BEAMFLOW_LOG_FORMAT, …) are not config keys and are left alone.
import YAML from "yaml";
import type { z } from "zod";
import { configSchema } from "./schema";

const PREFIX = "BEAMFLOW_";

export { ENV_HELP } from "./env-help";

type Schema = z.ZodType;
const def = (s: Schema) => (s as unknown as { _zod: { def: Record<string, unknown> & { type: string } } })._zod.def;

/** Through default/prefault/optional/nullable/pipe wrappers to the schema that holds the value. */
function unwrap(s: Schema): Schema {
  for (;;) {
    const d = def(s);
    if (d.type === "default" || d.type === "prefault" || d.type === "optional" || d.type === "nullable" || d.type === "readonly") s = d.innerType as Schema;
    else if (d.type === "pipe") s = d.in as Schema;
    else return s;
  }
}

/** Whether a key takes text (a string, or a union of strings and string literals): its value is then not read as YAML. */
function takesText(s: Schema): boolean {
  const u = unwrap(s);
  const d = def(u);
  if (d.type === "string") return true;
  if (d.type === "literal") return (d.values as unknown[]).every((v) => typeof v === "string");
  if (d.type === "enum") return true;
  if (d.type === "union") return (d.options as Schema[]).every(takesText);
  return false;
}

export interface EnvOverrides {
  /** the raw config with the variables applied */
  raw: Record<string, unknown>;
  /** config key path ("jobs.lease_s") → the variable that set it */
  sources: Map<string, string>;
  /** variables that name no config key */
  problems: string[];
}

/** Applies BEAMFLOW_* variables to a parsed (not yet validated) config object; does not modify `raw`. */
export function applyEnv(raw: unknown, env: NodeJS.ProcessEnv = process.env): EnvOverrides {
  const out: Record<string, unknown> = structuredClone((raw && typeof raw === "object" ? raw : {}) as Record<string, unknown>);
  const sources = new Map<string, string>();
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!name.startsWith(PREFIX)) continue;
    const rest = name.slice(PREFIX.length);
    if (!rest.includes("__") && rest !== "DATA_DIR") continue;
    const value = env[name] ?? "";
    const segments = rest.split("__").map((x) => x.toLowerCase());
    if (segments.some((x) => x === "")) {
      problems.push(`${name}: an empty level in the name`);
      continue;
    }
    // Find each level's real key name in the schema (keys such as low_DM_cutoff are mixed case).
    let schema: Schema | undefined = configSchema;
    const keys: string[] = [];
    for (const seg of segments) {
      const u: Schema | undefined = schema && unwrap(schema);
      const d = u && def(u);
      if (d?.type === "object") {
        const shape = d.shape as Record<string, Schema>;
        const key = Object.keys(shape).find((k) => k.toLowerCase() === seg);
        if (key === undefined) {
          problems.push(`${name}: no config key ${[...keys, seg].join(".")}`);
          schema = undefined;
          break;
        }
        keys.push(key);
        schema = shape[key];
      } else if (d?.type === "record") {
        keys.push(seg);
        schema = d.valueType as Schema;
      } else {
        problems.push(`${name}: ${keys.join(".")} has no sub-keys`);
        schema = undefined;
        break;
      }
    }
    if (!schema) continue;
    let parsed: unknown = value;
    if (value !== "" && !takesText(schema)) {
      try {
        parsed = YAML.parse(value);
      } catch {
        parsed = value;
      }
    }
    let node = out;
    for (const k of keys.slice(0, -1)) {
      if (!node[k] || typeof node[k] !== "object" || Array.isArray(node[k])) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = parsed;
    sources.set(keys.join("."), name);
  }
  return { raw: out, sources, problems };
}
