// What the coordinator and the agent check of a valid config when they start, beyond
// the schema: the files they read then (TLS keys and certificates, the notify
// secrets). `beamflow check-config` reports these too, so it passes exactly the
// configs that start.
import fs from "node:fs";
import type { Config } from "./schema";

function unreadable(file: string): string | undefined {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    if (!fs.statSync(file).isFile()) return "not a regular file";
    return undefined;
  } catch (err) {
    return `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  }
}

/** One line per file named by the config that cannot be read, with its key. */
export function startProblems(cfg: Config): string[] {
  const files: [string, string | undefined][] = [
    ["coordinator.tls.ca", cfg.coordinator.tls?.ca],
    ["coordinator.tls.cert", cfg.coordinator.tls?.cert],
    ["coordinator.tls.key", cfg.coordinator.tls?.key],
    ["agent.tls.ca", cfg.agent.tls?.ca],
    ["agent.tls.cert", cfg.agent.tls?.cert],
    ["agent.tls.key", cfg.agent.tls?.key],
    ["notify.email.smtp.password_file", cfg.notify.email.smtp.password_file],
    ["notify.webhook.secret_file", cfg.notify.webhook.secret_file],
  ];
  const problems: string[] = [];
  for (const [key, file] of files) {
    if (!file) continue;
    const why = unreadable(file);
    if (why) problems.push(`${key}: ${file}: ${why}`);
  }
  return problems;
}
