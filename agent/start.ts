// Builds an agent from the config: its id, token and settings.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import type { Config } from "../shared/config/schema";
import type { Logger } from "../shared/logging/logger";
import { BEAMFLOW_VERSION } from "../shared/version";
import { plainName } from "../shared/files/safe-path";
import { Agent } from "./session/agent";
import { agentCredential } from "./session/enrol";
import { Toolchain, type ToolchainConfig } from "./search/toolchain/toolchain";
import { toolchainFingerprint } from "./search/toolchain/fingerprint";
import { capabilitiesFingerprint, checkCapabilities } from "./fitness/capabilities";
import path from "node:path";

export function agentId(cfg: Config): string {
  return (
    cfg.agent.id ??
    os
      .hostname()
      .split(".")[0]
      .replace(/[^A-Za-z0-9._-]/g, "-")
  );
}

/** The agent's work base, `{agent}` replaced by its id (agent.work_base). */
export function workBaseOf(cfg: Config, id = plainName(agentId(cfg), "agent.id")): string {
  return cfg.agent.work_base.replaceAll("{agent}", id);
}

export function readAgentToken(file: string): string {
  try {
    const token = fs.readFileSync(file, "utf8").trim();
    if (!token) throw new Error("empty");
    return token;
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new Error(
      `cannot read the agent token ${file} (${why}): register the agent with 'beamflow register-agent ID --token-file ${file}' on the coordinator and copy the file here`,
    );
  }
}

/** The read-only token for the agent's /metrics, created (mode 0600) on first use. */
export function ensureMetricsToken(file: string): string {
  try {
    const token = fs.readFileSync(file, "utf8").trim();
    if (token) return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read the metrics token ${file}: ${(err as Error).message}`);
  }
  const token = crypto.randomBytes(24).toString("base64url");
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, token + "\n", { mode: 0o600 });
  return token;
}

export async function startAgent(
  cfg: Config,
  log: Logger,
  over: { coordinator?: string; token?: string; onFatal?: (err: Error) => void; onIdle?: (idleS: number) => void } = {},
): Promise<Agent> {
  const a = cfg.agent;
  const toolchain = toolchainConfig(cfg);
  // The id names the agent's own folders under scratch_dir (results, log spool).
  const id = plainName(agentId(cfg), "agent.id");
  const workBase = workBaseOf(cfg, id);
  // Its own credential, from token_file or (the first time, with agent.enrol_token_file) by enrolling.
  const token =
    over.token ??
    (a.enrol_token_file
      ? (
          await agentCredential({
            agentId: id,
            tokenFile: a.token_file,
            enrolTokenFile: a.enrol_token_file,
            coordinator: over.coordinator ?? a.coordinator,
            tls: a.tls,
            reconnectInitialS: a.reconnect_initial_s,
            reconnectMaxS: a.reconnect_max_s,
            log: log.child({ agent: id }),
          })
        ).token
      : readAgentToken(a.token_file));
  const agent = new Agent({
    id,
    token,
    coordinator: over.coordinator ?? a.coordinator,
    tls: a.tls,
    version: BEAMFLOW_VERSION,
    labels: a.labels,
    cores: a.cores,
    scratchDir: a.scratch_dir,
    logSpoolBytes: a.log_spool_bytes,
    metricsListen: a.metrics_listen,
    metricsToken: a.metrics_listen ? ensureMetricsToken(a.metrics_token_file) : undefined,
    heartbeatS: a.heartbeat_s,
    reconnectInitialS: a.reconnect_initial_s,
    reconnectMaxS: a.reconnect_max_s,
    stopTimeoutS: a.stop_timeout_s,
    endTime: a.end_time,
    idleExitS: a.idle_exit_s,
    onIdle: over.onIdle,
    attempts: {
      workBase,
      // Per agent, as the log spool: two agents sharing a scratch dir must never drop each other's results.
      resultsBase: path.join(a.scratch_dir, "beamflow-results", id),
      toolchain: toolchainLoader(toolchain),
      killGraceS: a.kill_grace_s,
      stepTimeoutS: a.step_timeout_s,
      idleTimeoutS: a.idle_timeout_s,
    },
    fitness: {
      checks: { full: () => checkCapabilities(toolchain, workBase), fingerprint: () => capabilitiesFingerprint(toolchain, workBase) },
      checkS: a.fitness_check_s,
      fullCheckS: a.fitness_full_check_s,
    },
    log,
    onFatal: over.onFatal,
  });
  await agent.start();
  return agent;
}

/**
 * The toolchain is resolved at the first search and kept while the programs stay
 * where they were (their fingerprint: paths, sizes, mtimes); a failed resolution is
 * not kept, so installing a missing program helps the next attempt, and a program
 * moved or replaced is resolved again.
 */
function toolchainLoader(cfg: ToolchainConfig): (opts: { mock: boolean }) => Promise<Toolchain> {
  const cache = new Map<boolean, Promise<Toolchain>>();
  let cachedFor = "";
  return (opts) => {
    const fingerprint = toolchainFingerprint(cfg);
    if (fingerprint !== cachedFor) {
      cache.clear();
      cachedFor = fingerprint;
    }
    let t = cache.get(opts.mock);
    if (!t) {
      t = Toolchain.load(cfg, opts);
      cache.set(opts.mock, t);
      t.catch(() => cache.delete(opts.mock));
    }
    return t;
  };
}

export function toolchainConfig(cfg: Config): ToolchainConfig {
  const t = cfg.agent.toolchain;
  return { path: t.path, prefix: t.prefix, wrapper: t.wrapper, prestoDir: t.presto_dir, psrfitsUtilsDir: t.psrfits_utils_dir };
}
