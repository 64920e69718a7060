// `beamflow`: one binary for the coordinator, the agent and the operator.
// Commander parses the command line; a failure prints one line and exits with a
// status that says what kind of failure it was (exit-codes.ts, listed by --help).
import fs from "node:fs";
import path from "node:path";
import { Command, CommanderError } from "commander";
import { ConfigError, loadConfig } from "../shared/config/load";
import { BEAMFLOW_VERSION } from "../shared/version";
import { registerAdminCommands } from "./admin-commands";
import { registerAccessCommands } from "./access-commands";
import { registerCanaryCommand } from "./canary-command";
import { configFile, cliConfig, DEFAULT_CONFIG_FILE, DEFAULT_DATA_DIR } from "./config-option";
import { registerProcessCommands } from "./process-commands";
import { call, CliError, connectAdmin } from "./admin-client";
import { run } from "./run";
import { checkAgentId, checkPath } from "./args";
import { registerCompletionCommands } from "./completion";
import { EXIT, EXIT_HELP } from "./exit-codes";
import { ENV_HELP } from "../shared/config/env-help";
import { startProblems } from "../shared/config/checks";
import { registerLogsCommand } from "./logs-command";
import { registerResultsCommands } from "./results-commands";
import { registerSynthCommands } from "./synth-commands";
import { registerDownloadCommands } from "./download-commands";
import { registerFsckCommand } from "./fsck-command";
import { createTracker } from "../coordinator/tracker/open";
import { printJson } from "./format";
import { doctor } from "../agent/search/toolchain/doctor";
import { toolchainConfig, workBaseOf } from "../agent/start";

export function buildProgram(): Command {
  const program = new Command("beamflow")
    .description("Runs a pulsar survey's PRESTO processing across a cluster")
    .version(BEAMFLOW_VERSION)
    .option("-c, --config <file>", `config file (default: $BEAMFLOW_CONFIG or ./${DEFAULT_CONFIG_FILE} if present)`)
    // Settings copied to every subcommand as it is added: parse errors are one line, "beamflow: …", and exit 64.
    .exitOverride()
    .configureOutput({
      // A line break inside a quoted bad argument is shown escaped, so the error stays one line.
      outputError: (s, write) =>
        write(
          `beamflow: ${s.replace(/^error: /, "").replace(/(argument ')([\s\S]*?)(' is invalid)/, (_m, a, v: string, b) => a + v.replace(/\r/g, "\\r").replace(/\n/g, "\\n") + b)}`,
        ),
    })
    .addHelpText("after", `\n${ENV_HELP}\n\n${EXIT_HELP}\n`);

  program
    .command("init")
    .description("create a config file and the job tracker; does nothing to what exists")
    .option("--data-dir <dir>", "where the tracker, logs and results live", DEFAULT_DATA_DIR)
    .action(
      run(async (opts: { config?: string; dataDir?: string }) => {
        const file = configFile(opts.config) ?? DEFAULT_CONFIG_FILE;
        if (fs.existsSync(file)) {
          console.log(`config ${file} exists: left as it is`);
        } else {
          const example = fs.readFileSync(path.join(__dirname, "..", "deploy", "beamflow.example.yaml"), "utf8");
          fs.writeFileSync(file, example.replace(/^data_dir: .*$/m, `data_dir: ${opts.dataDir ?? DEFAULT_DATA_DIR}`), { flag: "wx" });
          console.log(`wrote config ${file}`);
        }
        const cfg = loadConfig(file);
        fs.mkdirSync(cfg.data_dir, { recursive: true, mode: 0o700 });
        console.log(
          createTracker(cfg.coordinator.db) ? `created job tracker ${cfg.coordinator.db}` : `job tracker ${cfg.coordinator.db} exists: left as it is`,
        );
      }),
    );

  program
    .command("check-config [file]")
    .description("validate a config file and report every problem")
    .action(
      run(async (opts: { config?: string }, file?: string) => {
        const f = file ?? configFile(opts.config);
        if (!f) throw new CliError(`no config file given and no ./${DEFAULT_CONFIG_FILE}`, EXIT.usage);
        // The same checks the coordinator and the agent make at start: the schema's, with BEAMFLOW_* applied,
        // then the files they read (TLS, notify secrets).
        const cfg = loadConfig(f);
        const problems = startProblems(cfg);
        if (problems.length) throw new ConfigError(f, problems);
        console.log(`${f}: OK`);
      }),
    );

  program
    .command("register-agent <id>")
    .description("register an agent and issue its token (shown once)")
    .option("--rotate", "replace the token of a registered agent")
    .option("--token-file <file>", "write the token to this file (mode 0600) instead of printing it")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: { config?: string; rotate?: boolean; tokenFile?: string; json?: boolean }, id: string) => {
        checkAgentId(id);
        if (opts.tokenFile !== undefined) checkPath(opts.tokenFile, "--token-file");
        const a = connectAdmin(cliConfig(opts.config));
        const r = await call(a, a.client.registerAgent, { agentId: id, rotate: !!opts.rotate });
        if (opts.tokenFile) {
          fs.writeFileSync(opts.tokenFile, r.token + "\n", { mode: 0o600 });
          fs.chmodSync(opts.tokenFile, 0o600);
          if (opts.json) printJson({ agentId: r.agentId, tokenFile: opts.tokenFile });
          else console.log(`agent ${r.agentId} registered; token written to ${opts.tokenFile}`);
        } else if (opts.json) printJson(r);
        else console.log(r.token);
      }),
    );

  program
    .command("doctor")
    .description("check this node for what a palfa-search needs: programs, versions, /dev/shm")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: { config?: string; json?: boolean }) => {
        const cfg = cliConfig(opts.config);
        const checks = await doctor(toolchainConfig(cfg), workBaseOf(cfg));
        if (opts.json) printJson(checks);
        else for (const c of checks) console.log(`${c.ok ? "ok  " : "FAIL"} ${c.what}: ${c.detail}${c.fix ? `\n     fix: ${c.fix}` : ""}`);
        const bad = checks.filter((c) => !c.ok);
        if (bad.length) throw new CliError(`${bad.length} problem${bad.length > 1 ? "s" : ""} found`);
      }),
    );

  registerProcessCommands(program);
  registerLogsCommand(program);
  registerResultsCommands(program);
  registerAdminCommands(program);
  registerAccessCommands(program);
  registerDownloadCommands(program);
  registerCanaryCommand(program);
  registerSynthCommands(program);
  registerCompletionCommands(program);
  registerFsckCommand(program);
  return program;
}

export async function main(argv = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // --help and --version exit 0; anything else commander refused is a usage error.
    process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  }
}
