// Leftovers of a crashed agent: the pgid records a runner keeps in the state dir let
// killStaleProcessGroups find and kill those groups after a restart, and only those.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { killStaleProcessGroups, pgidRecordFor, writePgidRecord } from "../../../agent/runner";
import { cleanStaleWorkDirs } from "../../../agent/session/stale-dirs";
import { alive, livePids, logger, tmpDir, waitFor } from "./helpers";

/** A detached (own process group) bash with a grandchild, like a step whose agent vanished. */
async function spawnGroup(): Promise<{ pgid: number; pids: number[] }> {
  const child = spawn("bash", ["-c", "sleep 300 & sleep 300; wait"], { detached: true, stdio: "ignore" });
  child.unref();
  const pgid = child.pid!;
  await waitFor(() => livePids(pgid).length >= 3, 2000, "the group's sleeps");
  return { pgid, pids: livePids(pgid) };
}

describe("killStaleProcessGroups", function () {
  it("kills a recorded group that still exists (grandchildren too) and drops its record", async () => {
    const stateDir = tmpDir();
    const { pgid, pids } = await spawnGroup();
    writePgidRecord(stateDir, pgidRecordFor(pgid, { index: 2, name: "accelsearch", startedAt: Date.now() / 1000 }));
    const n = await killStaleProcessGroups(stateDir, logger);
    assert.equal(n, 1);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} survived`);
    assert.deepEqual(fs.readdirSync(stateDir), []);
  });

  it("returns 0 for a missing state dir, a group that is gone, and garbage records", async () => {
    assert.equal(await killStaleProcessGroups(path.join(tmpDir(), "nope"), logger), 0);
    const stateDir = tmpDir();
    const { pgid } = await spawnGroup();
    writePgidRecord(stateDir, pgidRecordFor(pgid));
    process.kill(-pgid, "SIGKILL");
    await waitFor(() => livePids(pgid).length === 0, 2000, "group death");
    fs.writeFileSync(path.join(stateDir, "pgid-1.json"), '{"pgid":1}');
    fs.writeFileSync(path.join(stateDir, "pgid-x.json"), "not json");
    assert.equal(await killStaleProcessGroups(stateDir, logger), 0);
    assert.deepEqual(fs.readdirSync(stateDir), []);
  });

  it("does not kill a group whose pgid was reused by an unrelated process", async () => {
    const stateDir = tmpDir();
    const { pgid, pids } = await spawnGroup();
    try {
      const rec = pgidRecordFor(pgid);
      writePgidRecord(stateDir, { ...rec, startTicks: rec.startTicks! - 1 }); // the recorded group started earlier
      assert.equal(await killStaleProcessGroups(stateDir, logger), 0);
      for (const pid of pids) assert.equal(alive(pid), true);
      writePgidRecord(stateDir, { ...rec, bootId: "00000000-0000-0000-0000-000000000000" }); // from before a reboot
      assert.equal(await killStaleProcessGroups(stateDir, logger), 0);
      for (const pid of pids) assert.equal(alive(pid), true);
    } finally {
      process.kill(-pgid, "SIGKILL");
    }
  });

  it("a restarted agent's clean-up finds the records of an attempt's steps (<workdir>/.steps) and kills their groups", async () => {
    const base = tmpDir();
    const { pgid, pids } = await spawnGroup();
    const steps = path.join(base, "17", ".steps");
    fs.mkdirSync(steps, { recursive: true });
    writePgidRecord(steps, pgidRecordFor(pgid, { index: 4, name: "accelsearch" }));
    await cleanStaleWorkDirs(base, logger);
    for (const pid of pids) assert.equal(alive(pid), false, `pid ${pid} survived`);
    assert.deepEqual(fs.readdirSync(base), []);
  });

  it("cleans up after a real agent crash mid-step", async function () {
    this.timeout(10000);
    const stateDir = tmpDir();
    // The step ignores SIGHUP (as nohup'd or daemon-ish programs do), so it outlives the
    // pty hangup that the agent's death causes.
    const script = "trap '' HUP; sleep 300 & echo ready; wait";
    const agent = spawn(process.execPath, ["--require", require.resolve("tsx/cjs"), path.join(__dirname, "fixtures", "crash-agent.ts"), stateDir, script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    agent.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes("ready"), 8000, "the crash agent's step");
    } catch (e) {
      agent.kill("SIGKILL");
      throw e;
    }
    const pgid = Number(/pgid (\d+)/.exec(out)![1]);
    assert.ok(fs.readdirSync(stateDir).includes(`pgid-${pgid}.json`));
    agent.kill("SIGKILL");
    await new Promise((r) => agent.once("exit", r));
    await new Promise((r) => setTimeout(r, 100));
    const survivors = livePids(pgid);
    assert.ok(survivors.length >= 1, "the HUP-immune part of the step outlived the agent");

    assert.equal(await killStaleProcessGroups(stateDir, logger), 1);
    for (const pid of survivors) assert.equal(alive(pid), false, `pid ${pid} survived`);
    assert.equal(fs.readdirSync(stateDir).filter((n) => n.startsWith("pgid-")).length, 0);
  });
});
