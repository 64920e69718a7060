// `beamflow canary [AGENT…]`: a synthetic beam with a known pulsar searched on each
// agent; with --wait, the verdicts, and a non-zero exit when any failed.
import type { Command } from "commander";
import type { CanaryRunView } from "../shared/gen/admin";
import { call, CliError, connectAdmin } from "./admin-client";
import { cliConfig } from "./config-option";
import { ago, duration, printJson, table } from "./format";
import { run } from "./run";
import { checkAgentId, numberOption } from "./args";

interface Opts {
  config?: string;
  json?: boolean;
  wait?: boolean;
  timeout: number;
}

/** "passed 3m ago" / "running" / "-": an agent's newest canary run in one cell. */
export function canaryCell(r: CanaryRunView | undefined): string {
  if (!r) return "-";
  return r.status === "running" ? "running" : `${r.status} ${ago(r.finishedAt)}`;
}

function rows(runs: CanaryRunView[]): (string | number)[][] {
  return runs.map((r) => [
    r.id,
    r.agentId,
    r.jobId || "-",
    `${(r.periodS * 1000).toFixed(3)} ms`,
    r.dm,
    r.status,
    r.finishedAt ? duration(r.finishedAt - r.startedAt) : `${duration(Date.now() / 1000 - r.startedAt)} so far`,
  ]);
}

export function registerCanaryCommand(program: Command): void {
  program
    .command("canary [agents...]")
    .description(
      "search a synthetic beam with a known pulsar on each agent (every connected one fit for searches when none is named); a run that does not find it drains its agent",
    )
    .option("--wait", "wait for the verdicts; exit 1 if any run failed")
    .option("--timeout <minutes>", "with --wait, give up after this long", numberOption(0.1), 90)
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Opts, agents: string[] = []) => {
        for (const id of agents) checkAgentId(id);
        const a = connectAdmin(cliConfig(opts.config));
        let runs = (await call(a, a.client.runCanary, { agentIds: agents })).runs;
        if (!opts.wait) {
          if (opts.json) return printJson(runs);
          console.log(table(["run", "agent", "job", "pulsar P", "DM", "status", "time"], rows(runs)));
          console.log("`beamflow agents` shows each agent's newest canary; `beamflow job JOB` follows a run's search");
          return;
        }
        const until = Date.now() + opts.timeout * 60_000;
        while (runs.some((r) => r.status === "running")) {
          if (Date.now() > until)
            throw new CliError(
              `canary runs ${runs
                .filter((r) => r.status === "running")
                .map((r) => r.id)
                .join(", ")} still running after ${opts.timeout} min`,
            );
          await new Promise((r) => setTimeout(r, 2000));
          runs = (await call(a, a.client.getCanaryRuns, { ids: runs.map((r) => r.id) })).runs;
        }
        if (opts.json) printJson(runs);
        else {
          console.log(table(["run", "agent", "job", "pulsar P", "DM", "status", "time"], rows(runs)));
          for (const r of runs) console.log(`${r.agentId}: ${r.status}: ${r.summary}`);
        }
        const failed = runs.filter((r) => r.status !== "passed");
        if (failed.length)
          throw new CliError(
            `${failed.length} of ${runs.length} canary run${runs.length > 1 ? "s" : ""} failed: ${failed.map((r) => r.agentId).join(", ")} drained`,
          );
      }),
    );
}
