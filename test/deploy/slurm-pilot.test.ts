// The Slurm pilot under a real Slurm (slurm-wlm: its own munged, slurmctld and slurmd,
// test/support/slurm.ts) against a real coordinator. Each pilot enrols with an ephemeral
// enrolment token (`token create --ephemeral`), learns its job's end from Slurm and tells
// the coordinator, which gives it only beams expected to finish before then.
//
//   1. The small beams (their duration learned from one run before) run on the pilot; the
//      large one (a size never finished: dispatch.unknown_duration_s, an hour) is never
//      given to it. With nothing left to fit the pilot exits after its idle time, long
//      before its walltime: Slurm's queue empty, no process of it left, no agent left
//      registered.
//   2. A beam expected to be short that runs on: Slurm's signal (--signal=B:TERM@60, the
//      last resort) makes the pilot hand it back before the walltime: requeued, not
//      counted, its steps gone, and again nothing left behind.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { call } from "../../cli/admin-client";
import { Cluster, waitFor } from "../support/cluster";
import { LocalSlurm, requireSlurm } from "../support/slurm";
import { findAgent } from "../../cli/agent-listing";

const ROOT = path.join(__dirname, "..", "..");
const SBATCH = path.join(ROOT, "deploy", "slurm", "beamflow-pilot.sbatch");
const KiB = 1024;
/** The seconds a beam's step sleeps: written at the start of its raw file (see the step below). */
const SLOW_S = 987;

describe("Slurm pilot under a real Slurm", function () {
  // Slurm's own start and the pilots' 3-minute walltimes bound it; the first ends well before.
  this.timeout(300_000);
  let slurm: LocalSlurm | undefined;
  let c: Cluster;
  let enrol = "";

  before(async function () {
    this.timeout(180_000);
    requireSlurm(this);
    slurm = await LocalSlurm.start();
    // Each beam of this survey: its raw file staged, then a step that sleeps as long as the file
    // says at its start (2 s when it says nothing).
    c = await Cluster.create({
      jobs: {
        type: "commands",
        commands: [{ name: "work", argv: ["sh", "-c", 'n=$(head -c 8 "$1" | tr -dc 0-9); sleep "${n:-2}"; wc -c "$1"', "sh", "{files}"] }],
      },
      dispatch: { walltime_margin_s: 10, unknown_duration_s: 3600, memory_per_beam: 64 * 2 ** 20 },
    });
    await c.startCoordinator();
    // The pilots' enrolment token, as an operator makes it.
    enrol = path.join(c.dir, "pilots.enrol");
    const r = c.cli(["token", "create", "--ttl", "15m", "--uses", "2", "--ephemeral", "--label", "slurm-test", "--token-file", enrol]);
    assert.equal(r.status, 0, r.stderr);

    // The coordinator learns how long a small beam takes: one run on an ordinary agent.
    await c.startAgent("warmup", { cores: 1 });
    addFiles(beam("warmup", 4 * KiB));
    await c.waitForProcessed(1, 60_000);
    await Cluster.kill(c.agents.get("warmup")!, "SIGTERM");
  });

  after(async function () {
    this.timeout(120_000);
    await slurm?.close();
    await c?.close();
  });

  const beam = (name: string, size: number, sleepS?: number) => {
    const f = path.join(c.dir, `${name}.dat`);
    const data = Buffer.alloc(size, "x");
    if (sleepS !== undefined) data.write(`${sleepS} `);
    fs.writeFileSync(f, data);
    return f;
  };
  const addFiles = (...files: string[]) => {
    const r = c.cli(["add-files", ...files]);
    assert.equal(r.status, 0, r.stderr);
  };
  const byBeam = async () => new Map((await c.jobs()).map((j) => [j.beam, j]));
  const agentView = async (id: string) => {
    const a = c.admin();
    return await findAgent(a, id);
  };

  /** Submits the real pilot script with a 3-minute walltime; returns its id, output and agent id. */
  const submitPilot = () => {
    const s = slurm!;
    const scratch = fs.mkdtempSync(path.join(c.dir, "pilot-scratch-"));
    const jobId = s.sbatch(
      [
        "--time=3",
        // Short for a 3-minute job: Slurm may send it up to a minute early (60-120 s in).
        "--signal=B:TERM@60",
        `--output=${path.join(c.dir, "pilot-%j.out")}`,
        `--chdir=${c.dir}`,
        SBATCH,
      ],
      {
        BEAMFLOW_COORDINATOR: `127.0.0.1:${c.port}`,
        BEAMFLOW_HOME: ROOT,
        BEAMFLOW_NODE: process.execPath,
        // Enrolment only: no ssh, no register command.
        BEAMFLOW_REGISTER: "false",
        BEAMFLOW_ENROL_TOKEN_FILE: enrol,
        BEAMFLOW_SCRATCH: scratch,
        BEAMFLOW_DRAIN_S: "60",
        BEAMFLOW_IDLE_EXIT_S: "8",
      },
    );
    const file = path.join(c.dir, `pilot-${jobId}.out`);
    return {
      jobId,
      scratch,
      submitted: Date.now(),
      agentId: `pilot-${jobId}-${s.node}`,
      out: () => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "(no output yet)"),
    };
  };
  type Pilot = ReturnType<typeof submitPilot>;

  /** Waits until Slurm's queue is empty; returns the seconds since submission. */
  const pilotEnded = async (p: Pilot): Promise<number> => {
    await waitFor(`Slurm job ${p.jobId} to end`, () => slurm!.squeue() === "", 200_000, 1000);
    return (Date.now() - p.submitted) / 1000;
  };

  /** Processes of the Slurm job: every one started under it has its SLURM_JOB_ID (the agent, its helpers, the steps). */
  const processesOf = (jobId: string): string[] => {
    const mine: string[] = [];
    for (const pid of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
      try {
        if (!fs.readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`SLURM_JOB_ID=${jobId}`)) continue;
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
        if (/^\d+ \(.*\) Z /.test(stat)) continue; // a zombie its parent has not reaped yet runs nothing
        mine.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").replaceAll("\0", " ").trim()}`);
      } catch {
        /* gone meanwhile, or not ours to read */
      }
    }
    return mine;
  };

  /** No process, dir or agent of the pilot is left. */
  const nothingLeft = async (p: Pilot) => {
    const left = spawnSync("pgrep", ["-af", `beamflow-${p.jobId}`], { encoding: "utf8" }).stdout.trim();
    assert.equal(left, "", `processes of the pilot are left:\n${left}`);
    assert.deepEqual(processesOf(p.jobId), [], "no process of the Slurm job is left");
    assert.ok(!fs.existsSync(`/dev/shm/beamflow-${p.jobId}`), "the work dirs are removed");
    assert.ok(!fs.existsSync(path.join(p.scratch, `beamflow-${p.jobId}`)), "the scratch dir is removed");
    await waitFor(`agent ${p.agentId} to be removed`, async () => (await agentView(p.agentId)) === undefined, 30_000, 250);
  };

  const withLogs = async <T>(p: Pilot, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (err) {
      (err as Error).message += `\n--- pilot output\n${p.out()}\n${slurm!.logs()}`;
      throw err;
    }
  };

  it("runs only the beams that fit, exits when idle long before its walltime, and leaves nothing behind", async () => {
    // Three more small beams and a large one (a size never finished: unknown_duration_s, an hour).
    addFiles(beam("small1", 4 * KiB), beam("small2", 5 * KiB), beam("small3", 3 * KiB), beam("large", 4 * 2 ** 20));
    const p = submitPilot();
    const tookS = await withLogs(p, async () => {
      // Connected, it says when it must be done; the large beam waits for walltime alone.
      let reason = "";
      await waitFor(
        "the large beam to wait for walltime while the pilot is connected",
        async () => {
          const view = await agentView(p.agentId);
          if (view?.state !== "connected") return false;
          assert.equal(view.ephemeral, true, "enrolled as an ephemeral agent");
          // Its job's end minus the 60 s lead (Slurm's end is whole seconds of a 3-minute limit).
          assert.ok(view.endTime > p.submitted / 1000 + 100 && view.endTime < p.submitted / 1000 + 180, `end_time ${view.endTime}`);
          reason = (await byBeam()).get("large")!.waiting;
          return /^walltime: /.test(reason);
        },
        90_000,
        250,
      );
      assert.match(reason, /^walltime: expected to take 3600 s \(dispatch\.unknown_duration_s\); the agent able to run it has at most \d+ s left/);
      assert.ok(
        processesOf(p.jobId).some((l) => /bin\/beamflow .* agent ?$/.test(l)),
        `the agent runs as a process of the Slurm job (what the check for leftovers looks for): ${processesOf(p.jobId).join("; ")}`,
      );
      assert.match(c.cli(["agents"]).stdout, new RegExp(`${p.agentId}: must be done by \\S+ \\(in \\d+ min\\)`));
      return pilotEnded(p);
    });
    const log = p.out();
    assert.ok(tookS < 150, `the pilot ended ${tookS.toFixed(0)} s after submission, before its 180 s walltime:\n${log}`);
    assert.match(log, /beams must be done by/, log);
    assert.match(log, /idle for \d+ s \(agent\.idle_exit_s\)/, "it ended through its idle exit, not Slurm's signal");
    assert.doesNotMatch(log, /SIGTERM: stopping the agent/);
    assert.match(log, /agent exited with status 0/);

    const jobs = await byBeam();
    for (const b of ["small1", "small2", "small3"]) {
      assert.equal(jobs.get(b)!.status, "processed", `${b} ran on the pilot: ${jobs.get(b)!.details}`);
      assert.equal(jobs.get(b)!.agentId, p.agentId);
    }
    const large = jobs.get("large")!;
    assert.deepEqual([large.status, large.attempts], ["new", 0], "the large beam was never given to the pilot");
    await nothingLeft(p);
  });

  it("hands back a beam that outruns its estimate when Slurm's signal comes, before the walltime, uncounted", async () => {
    // As small as the others, so expected to take seconds; it sleeps SLOW_S.
    addFiles(beam("slow", 4 * KiB, SLOW_S));
    const sleeping = () => spawnSync("pgrep", ["-f", `^sleep ${SLOW_S}$`], { encoding: "utf8" }).stdout.trim();
    const p = submitPilot();
    const tookS = await withLogs(p, async () => {
      await waitFor("the slow beam to run on the pilot", async () => (await byBeam()).get("slow")?.agentId === p.agentId && sleeping() !== "", 90_000, 250);
      return pilotEnded(p);
    });
    const log = p.out();
    assert.ok(tookS < 180, `the pilot ended ${tookS.toFixed(0)} s after submission, within its 180 s walltime:\n${log}`);
    assert.match(log, /SIGTERM: stopping the agent/, log);
    assert.match(log, /agent exited with status 0/);
    assert.equal(sleeping(), "", "the beam's step is gone");

    const slow = (await byBeam()).get("slow")!;
    assert.equal(slow.failures, 0, "the hand-back is not counted");
    assert.equal(slow.status, "retrying");
    const a = c.admin();
    const [attempt, ...more] = (await call(a, a.client.getJob, { id: slow.id })).attempts;
    assert.equal(more.length, 0, "handed back once, and given to no one since (the large and the slow beam wait)");
    assert.deepEqual([attempt.status, attempt.counted], ["lost", false]);
    assert.match(attempt.details, /cancelled it: handed back: SIGTERM/);
    assert.deepEqual([(await byBeam()).get("large")!.attempts], [0], "the large beam was never given to a pilot");
    await nothingLeft(p);
  });
});
