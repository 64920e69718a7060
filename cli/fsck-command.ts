// `beamflow fsck [--repair] [--json]`: the tracker's invariants checked. With a coordinator
// running (it holds the tracker's lock) through its admin API, so the reservations it holds
// in memory are checked too and repairs go through it; with none, on the tracker file
// directly, holding the lock meanwhile so no coordinator starts under it.
import type { Command } from "commander";
import { describeFindings, fsck, type FsckReport } from "../coordinator/fsck/fsck";
import { openTracker, TrackerLock, TrackerLockedError } from "../coordinator/tracker/open";
import { Tracker } from "../coordinator/tracker/tracker";
import type { Config } from "../shared/config/schema";
import { CliError, call, connectAdmin } from "./admin-client";
import { cliConfig } from "./config-option";
import { printJson } from "./format";
import { run } from "./run";

async function fsckViaCoordinator(cfg: Config, repair: boolean): Promise<FsckReport> {
  const a = connectAdmin(cfg);
  try {
    const r = await call(a, a.client.fsck, { repair });
    return { findings: r.findings.map((f) => ({ ...f, check: f.check as never })), reservationsChecked: r.reservationsChecked };
  } finally {
    a.client.close();
  }
}

function fsckOnFile(cfg: Config, repair: boolean, lock: TrackerLock): FsckReport {
  try {
    const tracker = new Tracker(openTracker(cfg.coordinator.db));
    try {
      return fsck(tracker, { repair, resultsRoot: cfg.results.dir });
    } finally {
      tracker.close();
    }
  } finally {
    lock.release();
  }
}

export function registerFsckCommand(program: Command): void {
  program
    .command("fsck")
    .description("check the job tracker's invariants (attempts, job states, reservations, raw files, results dirs); --repair fixes what is safe")
    .option("--repair", "fix what can be fixed safely, and say what was done")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: { config?: string; repair?: boolean; json?: boolean }) => {
        const cfg = cliConfig(opts.config);
        let lock: TrackerLock | undefined;
        try {
          lock = TrackerLock.acquire(cfg.coordinator.db);
        } catch (err) {
          if (!(err instanceof TrackerLockedError)) throw err;
        }
        const report = lock ? fsckOnFile(cfg, !!opts.repair, lock) : await fsckViaCoordinator(cfg, !!opts.repair);
        if (opts.json) printJson(report);
        else console.log(describeFindings(report));
        const left = report.findings.filter((f) => !f.repaired).length;
        if (left) throw new CliError(`${left} violation${left > 1 ? "s" : ""} left`);
      }),
    );
}
