// The fence watchdog on real processes: when its deadline passes it kills the steps' process
// groups, and never the step spawner, whether or not a step runs under it.
import assert from "node:assert/strict";
import { FenceWatchdog } from "../../../agent/session/fence-watchdog";
import { stepSpawner } from "../../../agent/runner/spawner";
import { silentLogger } from "../../../shared/logging/logger";
import { alive, newRunner, sh, waitFor } from "../runner/helpers";

describe("fence watchdog (real processes)", function () {
  this.timeout(30_000);

  it("kills a running step's group at its deadline and keeps the spawner, with a step under it or none", async () => {
    const { runner } = newRunner();
    let pgid = 0;
    const run = runner.run([sh("sleep 30", "long")], { onStart: (s) => (pgid = s.pgid!) });
    await waitFor(() => pgid > 0, 5000, "the step to start");
    const spawner = stepSpawner(silentLogger());
    const spawnerPid = spawner.pid;
    assert.ok(spawnerPid && alive(spawnerPid), "the spawner runs");
    const watchdog = new FenceWatchdog(silentLogger());
    watchdog.start();
    try {
      watchdog.arm(0);
      await waitFor(() => !alive(pgid), 5000, "the step's group killed");
      const res = await run;
      assert.equal(res.ok, false);
      assert.ok(alive(spawnerPid), "the spawner survived the kill with a step under it");
      // Nothing runs now: the spawner leads a group with no step, and is still not a step.
      watchdog.arm(0);
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(alive(spawnerPid), "the spawner survived the kill with no step under it");
      assert.equal(spawner.pid, spawnerPid, "the same spawner");
    } finally {
      watchdog.stop();
    }
  });
});
