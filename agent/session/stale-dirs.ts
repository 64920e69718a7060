// Work dirs left by an earlier run of this agent: their attempts died with it (the
// coordinator lost them when their leases ran out), so whatever of their processes
// still runs is killed and the dirs removed before this run takes new work. The step
// spawner is started here too, so the first step does not wait for it.
import fs from "node:fs";
import type { Logger } from "../../shared/logging/logger";
import { isBookkeeping } from "../resources/work-base-lock";
import { killStaleProcessGroups, warmStepSpawner } from "../runner";
import { STEP_STATE_DIR } from "./attempt";

export async function cleanStaleWorkDirs(base: string, log: Logger): Promise<void> {
  warmStepSpawner(log);
  try {
    fs.mkdirSync(base, { recursive: true, mode: 0o700 });
  } catch (err) {
    // Not fatal: the agent still connects, reports that it can run nothing, and is given nothing.
    log.error({ dir: base, err: (err as Error).message }, "cannot create the work base");
    return;
  }
  for (const name of fs.readdirSync(base)) {
    if (isBookkeeping(name)) continue;
    const dir = `${base}/${name}`;
    // An attempt's steps keep their pgid records in <workdir>/.steps (attempt.ts; one dir per
    // step below it before the steps shared one).
    let killed = 0;
    for (const d of [dir, ...stepStateDirs(`${dir}/${STEP_STATE_DIR}`)]) killed += await killStaleProcessGroups(d, log);
    fs.rmSync(dir, { recursive: true, force: true });
    log.warn({ dir, killed }, "removed a stale work dir left by an earlier run");
  }
}

function stepStateDirs(steps: string): string[] {
  let subs: fs.Dirent[];
  try {
    subs = fs.readdirSync(steps, { withFileTypes: true });
  } catch {
    return [];
  }
  return [steps, ...subs.filter((e) => e.isDirectory()).map((e) => `${steps}/${e.name}`)];
}
