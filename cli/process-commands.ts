// Long-running commands: the coordinator, an agent, and `up` (both in one
// process on the embedded default). SIGINT/SIGTERM stop them cleanly: the
// agent takes nothing new, lets its running attempts finish for agent.stop_timeout_s,
// then hands back what still runs (killing and reaping its steps' process groups);
// a second signal hands back at once.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { startAgent, agentId } from "../agent/start";
import type { Agent } from "../agent/session/agent";
import { Coordinator } from "../coordinator/server";
import { createTracker } from "../coordinator/tracker/open";
import type { Config } from "../shared/config/schema";
import { createLogger } from "../shared/logging/logger";
import { tuneGcForBuffers } from "../shared/runtime/buffer-gc";
import { cliConfig } from "./config-option";
import { run } from "./run";
import { EnrolmentRefused } from "../agent/session/enrol";
import { CliError, EXIT } from "./exit-codes";

type Stoppable = { stop(why?: string): Promise<void>; handBackNow?(): void };

/** Stops the parts in order on the first SIGINT/SIGTERM (or a call of the returned function); a second signal hurries them. */
function stopOnSignals(parts: Stoppable[], log: ReturnType<typeof createLogger>): (why: string) => void {
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ why }, "stopping");
    // In order: an agent reports its attempts before its coordinator goes.
    void parts
      .reduce((prev, p) => prev.then(() => p.stop(why)).catch((err) => log.error({ err }, "stop failed")), Promise.resolve())
      .then(() => process.exit(0));
  };
  const signalled = (signal: string) => {
    if (!stopping) return stop(signal);
    log.warn({ signal }, "a second signal: handing back what still runs at once");
    for (const p of parts) p.handBackNow?.();
  };
  process.on("SIGINT", () => signalled("SIGINT"));
  process.on("SIGTERM", () => signalled("SIGTERM"));
  return stop;
}

/** A crash is logged and noticed (PALFA's send_on_crash) before the process exits. */
function notifyCrashes(coordinator: Coordinator, log: ReturnType<typeof createLogger>): void {
  const crash = (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    log.fatal({ err: e }, "coordinator crashed");
    const notice = coordinator.core.notifier?.notify({ kind: "component_crashed", component: "coordinator", error: e.message, stack: e.stack ?? "" });
    void Promise.race([notice, new Promise((r) => setTimeout(r, 15_000))]).finally(() => process.exit(70));
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
}

/** The local agent of `up` gets a token kept in the data dir. */
function localAgentToken(cfg: Config): string {
  const file = cfg.agent.token_file;
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    const token = crypto.randomBytes(24).toString("base64url");
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, token + "\n", { mode: 0o600 });
    return token;
  }
}

export function registerProcessCommands(program: Command): void {
  program
    .command("coordinator")
    .description("run the coordinator (job tracker, dispatcher, agent and admin APIs)")
    .action(
      run(async (opts: { config?: string }) => {
        const cfg = cliConfig(opts.config);
        const log = createLogger("coordinator", cfg.logging.level);
        tuneGcForBuffers(log);
        const coordinator = await Coordinator.start(cfg, { log });
        notifyCrashes(coordinator, log);
        stopOnSignals([coordinator], log);
      }),
    );

  program
    .command("agent")
    .description("run an agent on this node")
    .option("--coordinator <addr>", "coordinator address HOST:PORT (default: agent.coordinator in the config)")
    .option("--id <id>", "agent id (default: agent.id, else the host name)")
    .option("--token-file <file>", "file holding this agent's token (default: agent.token_file)")
    .action(
      run(async (opts: { config?: string; coordinator?: string; id?: string; tokenFile?: string }) => {
        const cfg = cliConfig(opts.config);
        if (opts.id) cfg.agent.id = opts.id;
        if (opts.tokenFile) cfg.agent.token_file = path.resolve(opts.tokenFile);
        const log = createLogger("agent", cfg.logging.level);
        tuneGcForBuffers(log);
        let stop: (why: string) => void = () => undefined;
        const agent: Agent = await startAgent(cfg, log, {
          coordinator: opts.coordinator,
          onFatal: (err) => {
            process.stderr.write(`beamflow: ${err.message}\n`);
            void agent.stop(err.message, 0).then(() => process.exit(EXIT.agentRefused));
          },
          onIdle: (idleS) => stop(`idle for ${Math.round(idleS)} s (agent.idle_exit_s)`),
        }).catch((err: unknown) => {
          // A refused enrolment (the token expired, used up, revoked; the id taken): restarting will not help.
          throw err instanceof EnrolmentRefused ? new CliError(err.message, EXIT.agentRefused) : err;
        });
        stop = stopOnSignals([agent], log);
      }),
    );

  program
    .command("up")
    .description("coordinator and one local agent in one process, on the embedded default (SQLite)")
    .action(
      run(async (opts: { config?: string }) => {
        const cfg = cliConfig(opts.config);
        // One root logger per component (a child would repeat the `component` key in every line).
        const log = createLogger("beamflow", cfg.logging.level);
        tuneGcForBuffers(log);
        if (createTracker(cfg.coordinator.db)) log.info({ db: cfg.coordinator.db }, "created the job tracker");
        const coordinator = await Coordinator.start(cfg, { log: createLogger("coordinator", cfg.logging.level) });
        const token = localAgentToken(cfg);
        coordinator.core.tracker.ensureAgent(agentId(cfg), token);
        const agent = await startAgent(cfg, createLogger("agent", cfg.logging.level), { coordinator: coordinator.agentAddress, token });
        process.stderr.write(
          `beamflow up: coordinator on ${coordinator.agentAddress}, admin socket ${coordinator.adminSocket}, local agent '${agentId(cfg)}'${coordinator.http ? `, status page ${coordinator.http.url}/?token=… (token in ${cfg.data_dir}/admin.token)` : ""}\n`,
        );
        stopOnSignals([agent, coordinator], log);
      }),
    );
}
