// The Slurm pilot under a real Slurm (slurm-wlm: its own munged, slurmctld and slurmd,
// test/support/slurm.ts) against a real coordinator: the pilot learns its job's end from
// Slurm, tells the coordinator, gets only the beams expected to finish before it (small
// ones, whose duration the coordinator learned from one run before; not the large one,
// whose duration is unknown and taken as dispatch.unknown_duration_s), runs them, finds
// nothing more to fit and exits after its idle time, long before its walltime: Slurm's
// queue empty, no process of it left, its agent gone from the coordinator.
//
// The agent id is registered for the pilot (BEAMFLOW_REGISTER, register-agent --rotate)
// and stays registered, disconnected, after it exits; with enrolment tokens (ephemeral
// agents removed on exit) the last check becomes "no agent left registered".
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { call } from "../../cli/admin-client";
import { BIN, Cluster, waitFor } from "../support/cluster";
import { LocalSlurm, requireSlurm } from "../support/slurm";

const ROOT = path.join(__dirname, "..", "..");
const SBATCH = path.join(ROOT, "deploy", "slurm", "beamflow-pilot.sbatch");
const KiB = 1024;

describe("Slurm pilot under a real Slurm", function () {
  // Slurm's own start and the pilot's 3-minute walltime bound it; it ends well before.
  this.timeout(300_000);
  let slurm: LocalSlurm | undefined;
  let cluster: Cluster | undefined;

  before(async function () {
    this.timeout(120_000);
    requireSlurm(this);
    slurm = await LocalSlurm.start();
  });

  after(async function () {
    this.timeout(120_000);
    await slurm?.close();
    await cluster?.close();
  });

  it("drains before its walltime: runs only the beams that fit, exits when idle, leaves nothing behind", async () => {
    const s = slurm!;
    // Each beam of this survey: its raw file staged, then a short step.
    cluster = await Cluster.create({
      jobs: { type: "commands", commands: [{ name: "work", argv: ["sh", "-c", 'sleep 2; wc -c "$1"', "sh", "{files}"] }] },
      dispatch: { walltime_margin_s: 10, unknown_duration_s: 3600, memory_per_beam: 64 * 2 ** 20 },
    });
    const c = cluster;
    await c.startCoordinator();
    const beam = (name: string, size: number) => {
      const f = path.join(c.dir, `${name}.dat`);
      fs.writeFileSync(f, Buffer.alloc(size, 1));
      return f;
    };
    const addFiles = (...files: string[]) => {
      const r = c.cli(["add-files", ...files]);
      assert.equal(r.status, 0, r.stderr);
    };

    // The coordinator learns how long a small beam takes: one run on an ordinary agent.
    await c.startAgent("warmup", { cores: 1 });
    addFiles(beam("warmup", 4 * KiB));
    await c.waitForProcessed(1, 60_000);
    await Cluster.kill(c.agents.get("warmup")!, "SIGTERM");

    // Three more small beams and a large one (a size never finished: unknown_duration_s, an hour).
    addFiles(beam("small1", 4 * KiB), beam("small2", 5 * KiB), beam("small3", 3 * KiB), beam("large", 4 * 2 ** 20));
    const byBeam = async () => new Map((await c.jobs()).map((j) => [j.beam, j]));
    const large = (await byBeam()).get("large")!;

    const scratch = path.join(c.dir, "pilot-scratch");
    fs.mkdirSync(scratch);
    const submitted = Date.now();
    const jobId = s.sbatch(
      [
        "--time=3",
        // The lead time is short for a 3-minute job (Slurm may send it up to a minute early);
        // the pilot must be gone through its idle exit long before.
        "--signal=B:TERM@60",
        `--output=${path.join(c.dir, "pilot-%j.out")}`,
        `--chdir=${c.dir}`,
        SBATCH,
      ],
      {
        BEAMFLOW_COORDINATOR: `127.0.0.1:${c.port}`,
        BEAMFLOW_HOME: ROOT,
        BEAMFLOW_NODE: process.execPath,
        BEAMFLOW_REGISTER: `${process.execPath} ${BIN} --config ${c.configPath} register-agent --rotate`,
        BEAMFLOW_SCRATCH: scratch,
        BEAMFLOW_DRAIN_S: "60",
        BEAMFLOW_IDLE_EXIT_S: "8",
      },
    );
    const out = () => fs.readFileSync(path.join(c.dir, `pilot-${jobId}.out`), "utf8");
    const outOrNothing = () => (fs.existsSync(path.join(c.dir, `pilot-${jobId}.out`)) ? out() : "(no output yet)");
    const agentId = `pilot-${jobId}-${s.node}`;

    try {
      // Connected, it says when it must be done; the large beam waits for walltime alone.
      let reason = "";
      await waitFor(
        "the large beam to wait for walltime while the pilot is connected",
        async () => {
          const a = c.admin();
          const pilot = (await call(a, a.client.listAgents, {})).agents.find((x) => x.id === agentId);
          if (pilot?.state !== "connected") return false;
          reason = (await byBeam()).get("large")!.waiting;
          return /^walltime: /.test(reason) && reason;
        },
        90_000,
        250,
      );
      assert.match(reason, /^walltime: expected to take 3600 s \(dispatch\.unknown_duration_s\); the agent able to run it has at most \d+ s left/);

      await waitFor(`Slurm job ${jobId} to end`, () => s.squeue() === "", 170_000, 1000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- pilot output\n${outOrNothing()}\n${s.logs()}`);
    }
    const tookS = (Date.now() - submitted) / 1000;
    const log = out();
    assert.ok(tookS < 150, `the pilot ended ${tookS.toFixed(0)} s after submission, before its 180 s walltime:\n${log}`);
    assert.match(log, /beams must be done by/, log);
    assert.match(log, /idle for \d+ s \(agent\.idle_exit_s\)/, "it ended through its idle exit, not Slurm's signal");
    assert.doesNotMatch(log, /SIGTERM: stopping the agent/);
    assert.match(log, /agent exited with status 0/);

    const jobs = await byBeam();
    for (const b of ["small1", "small2", "small3"]) {
      assert.equal(jobs.get(b)!.status, "processed", `${b} ran on the pilot: ${jobs.get(b)!.details}`);
      assert.equal(jobs.get(b)!.agentId, agentId);
    }
    const l = jobs.get("large")!;
    assert.deepEqual([l.status, l.attempts], ["new", 0], "the large beam was never given to the pilot");
    assert.equal(l.id, large.id);

    // Nothing left behind: no process of the pilot, its work and scratch dirs, its connection.
    const left = spawnSync("pgrep", ["-af", `beamflow-${jobId}`], { encoding: "utf8" }).stdout.trim();
    assert.equal(left, "", `processes of the pilot are left:\n${left}`);
    assert.ok(!fs.existsSync(`/dev/shm/beamflow-${jobId}`), "the work dirs are removed");
    assert.ok(!fs.existsSync(path.join(scratch, `beamflow-${jobId}`)), "the scratch dir is removed");
    const a = c.admin();
    const view = (await call(a, a.client.listAgents, {})).agents.find((x) => x.id === agentId);
    assert.notEqual(view?.state, "connected", "the pilot's agent is gone");
  });
});
