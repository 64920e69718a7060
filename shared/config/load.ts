// Reads and validates the YAML config. All problems are reported at once, each
// with the path of the key and what is wrong, so one edit fixes them all.
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { configSchema, type Config, type ConfigInput } from "./schema";
import { applyEnv } from "./env";

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` + problems.map((p) => `  - ${p}`).join("\n"));
    this.name = "ConfigError";
  }
}

/**
 * Validates an already-parsed object, with the BEAMFLOW_* variables of `env` applied over it
 * (env.ts); relative paths resolve against baseDir.
 */
export function resolveConfig(raw: unknown, file: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): Config {
  const withEnv = applyEnv(raw ?? {}, env);
  const parsed = configSchema.safeParse(withEnv.raw);
  if (!parsed.success || withEnv.problems.length) {
    const setBy = (where: string) => {
      for (const [key, name] of withEnv.sources) if (where === key || where.startsWith(`${key}.`)) return ` (set by ${name})`;
      return "";
    };
    const problems = (parsed.error?.issues ?? []).map((issue) => {
      const where = issue.path.length ? issue.path.join(".") : "(top level)";
      const unknown =
        issue.code === "unrecognized_keys" ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `'${k}'`).join(", ")}` : issue.message;
      return `${where}: ${unknown}${setBy(where)}`;
    });
    throw new ConfigError(file, [...withEnv.problems, ...problems]);
  }
  const cfg = parsed.data;
  const abs = (p: string) => (p === "" ? p : path.resolve(baseDir, p));
  cfg.data_dir = abs(cfg.data_dir);
  cfg.coordinator.db = cfg.coordinator.db ? abs(cfg.coordinator.db) : path.join(cfg.data_dir, "tracker.db");
  cfg.coordinator.admin_socket = cfg.coordinator.admin_socket ? abs(cfg.coordinator.admin_socket) : path.join(cfg.data_dir, "admin.sock");
  cfg.agent.token_file = cfg.agent.token_file ? abs(cfg.agent.token_file) : path.join(cfg.data_dir, "agent.token");
  if (cfg.agent.enrol_token_file) cfg.agent.enrol_token_file = abs(cfg.agent.enrol_token_file);
  cfg.agent.metrics_token_file = cfg.agent.metrics_token_file ? abs(cfg.agent.metrics_token_file) : path.join(cfg.data_dir, "metrics.token");
  cfg.results.dir = cfg.results.dir ? abs(cfg.results.dir) : path.join(cfg.data_dir, "results");
  cfg.agent.work_base = abs(cfg.agent.work_base);
  cfg.agent.scratch_dir = abs(cfg.agent.scratch_dir);
  cfg.downloader.dir = cfg.downloader.dir ? abs(cfg.downloader.dir) : path.join(cfg.data_dir, "rawdata");
  for (const src of cfg.downloader.sources) {
    if (src.type === "dir") src.path = abs(src.path);
    else {
      if (src.token_file) src.token_file = abs(src.token_file);
      if (src.ftp_password_file) src.ftp_password_file = abs(src.ftp_password_file);
    }
  }
  const smtp = cfg.notify.email.smtp;
  if (smtp.password_file) smtp.password_file = abs(smtp.password_file);
  if (cfg.notify.webhook.secret_file) cfg.notify.webhook.secret_file = abs(cfg.notify.webhook.secret_file);
  for (const t of [cfg.coordinator.tls, cfg.agent.tls]) {
    if (t) {
      t.ca = abs(t.ca);
      t.cert = abs(t.cert);
      t.key = abs(t.key);
    }
  }
  return cfg;
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [`cannot read the config file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => `YAML syntax: ${e.message.split("\n")[0]}${e.linePos ? ` (line ${e.linePos[0].line})` : ""}`),
    );
  }
  return resolveConfig(doc.toJS(), file, path.dirname(path.resolve(file)));
}

/** The config every setting left at its default, data under `dataDir`. */
export function defaultConfig(dataDir: string, overrides: ConfigInput = {}): Config {
  return resolveConfig({ ...overrides, data_dir: dataDir }, "(defaults)", process.cwd());
}
