// Search benchmark: one palfa-search beam through a real coordinator and agent with the
// stand-in toolchain (test/toolchain/bin) idling for the real programs' per-call times
// (BEAMFLOW_STANDIN_TIME_SCALE = BEAMFLOW_BENCH_TIME_SCALE, default 0.5).
//  - overhead: the attempt's wall time (accepted -> finished, as the coordinator records it)
//    against a plain bash script running the same command lines, in the same order, in the
//    same work dir, with only the file moves the agent makes between them
//  - scaling: the same beam with 1, 2 and 4 reserved cores (agent cores = cores_per_beam)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { call } from "../cli/admin-client";
import { Cluster, waitFor } from "../test/support/cluster";

const REPO = path.join(__dirname, "..");
const TOOLCHAIN = path.join(REPO, "test", "toolchain", "bin");
const BEAM_SOURCE = path.join(REPO, "test", "fixtures", "psrfits", "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits");
const ZAPLIST_SOURCE = path.join(REPO, "test", "fixtures", "presto", "beam_J1903", "beam_J1903.zaplist");
const BASE = "beam_J1903";

// One pass of 26 DMs, away from DM 0 (so every trial gets both accelsearches); nothing
// is folded (max_cands_to_fold 0), so the run is the search itself.
const SEARCH = {
  ddplan_source: "explicit" as const,
  ddplan: [{ lodm: 26, dmstep: 1, dms_per_call: 26, calls: 1, nsub: 33, downsamp: 8 }],
  use_subbands: false, low_T_to_search: 0.5, max_cands_to_fold: 0, low_DM_cutoff: 1.0,
};

interface BeamRun {
  cores: number;
  attemptId: number;
  wallS: number;
  steps: number;
  workDir: string;
  /** every stand-in call, usage probes included */
  calls: string[][];
  /** the attempt's steps' argv and wall times, in step order */
  stepArgv: string[][];
  stepWalls: number[];
  /** where the attempt's wall time went (one core: the steps run one after another) */
  breakdown: { before_first_step_s: number; in_steps_s: number; between_steps_s: number; after_last_step_s: number };
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));

/** One beam, one agent with `cores` cores, cores_per_beam = `cores`. */
async function runBeam(cores: number, tmp: string, zaplist: string, beam: string): Promise<BeamRun> {
  const workBase = `/dev/shm/beamflow-bench-search-${process.pid}-${cores}`;
  const standinLog = path.join(tmp, `standin-${cores}.log`);
  const cluster = await Cluster.create({
    jobs: { type: "palfa-search" },
    logging: { level: "warn" },
    dispatch: { cores_per_beam: cores, memory_per_beam: 0 },
    search: SEARCH,
    zaplists: { source: path.dirname(zaplist), default_other: path.basename(zaplist) },
  });
  process.env.BEAMFLOW_STANDIN_LOG = standinLog;
  try {
    await cluster.startCoordinator();
    await cluster.startAgent("bench", { cores, heartbeat_s: 10, work_base: workBase, scratch_dir: path.join(cluster.dir, "scratch"), toolchain: { path: [TOOLCHAIN] } });
    const file = path.join(cluster.dir, `${BASE}.fits`);
    fs.copyFileSync(beam, file);
    const r = cluster.cli(["add-files", file]);
    if (r.status !== 0) throw new Error(`add-files failed: ${r.stderr}`);
    const [job] = await cluster.waitForJobs((js) => js.length === 1 && ["processed", "terminal_failure", "processing_failed"].includes(js[0].status), "the search to end", 300_000);
    const a = cluster.admin();
    const detail = await call(a, a.client.getJob, { id: job.id });
    const attempt = detail.attempts[0];
    if (job.status !== "processed") throw new Error(`the search ended ${job.status}: ${attempt?.errorClass}: ${attempt?.details}`);
    const workDir = path.join(workBase, String(attempt.id));
    await waitFor("the attempt's work dir to go", () => !fs.existsSync(workDir));
    const calls = fs.readFileSync(standinLog, "utf8").trim().split("\n").map((l) => JSON.parse(l) as string[]);
    const steps = [...attempt.steps].sort((x, y) => x.index - y.index);
    const stepArgv = steps.map((st) => st.argv);
    const inSteps = steps.reduce((n, st) => n + st.wallS, 0);
    const first = steps[0].startedAt;
    const lastEnd = Math.max(...steps.map((st) => st.startedAt + st.wallS));
    const breakdown = {
      before_first_step_s: round(first - attempt.startedAt),
      in_steps_s: round(inSteps),
      between_steps_s: round(lastEnd - first - inSteps),
      after_last_step_s: round(attempt.finishedAt - lastEnd),
    };
    return { cores, attemptId: attempt.id, wallS: attempt.finishedAt - attempt.startedAt, steps: steps.length, workDir, calls, stepArgv, stepWalls: steps.map((st) => st.wallS), breakdown };
  } finally {
    delete process.env.BEAMFLOW_STANDIN_LOG;
    await cluster.close();
    fs.rmSync(workBase, { recursive: true, force: true });
  }
}

const q = (s: string) => (/^[A-Za-z0-9_.,:=\/+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * A bash script running the agent's command lines (usage probes left out) in order, in a
 * recreated work dir at the same absolute path, with the file moves search-attempt.ts makes
 * between them: rednoise's _red.fft renamed over the .fft, ACCEL tables moved out of tmp/ and
 * their .txtcand deleted, the .fft deleted after its last accelsearch, .singlepulse/.inf moved
 * and the .dat deleted after the single-pulse search, tmp/ removed, single-pulse plots renamed
 * to the name gs renders. Outputs the agent keeps (rfifind, prepsubband) go to the same files.
 */
export function replayScript(calls: string[][], workDir: string, beam: string, zaplist: string, outputLog: string, timesFile: string): { script: string; commands: number } {
  const cmds = calls.filter((c) => c.length > 1);
  const tmp = path.join(workDir, "tmp");
  const lastUse = new Map<string, number>();
  cmds.forEach((c, i) => lastUse.set(c[c.length - 1], i));
  const lastSearchPass = cmds.map((c, i) => [c, i] as const).filter(([c]) => path.basename(c[0]) === "single_pulse_search.py" && c.includes("-p")).pop()?.[1] ?? -1;
  const lines = [
    "#!/bin/bash",
    "set -euo pipefail",
    `rm -rf ${q(workDir)}`,
    `mkdir -p ${q(tmp)}`,
    `cd ${q(workDir)}`,
    `cp ${q(beam)} ${q(path.join(workDir, `${BASE}.fits`))}`,
    `cp ${q(zaplist)} ${q(path.join(workDir, `${BASE}.zaplist`))}`,
    `: > ${q(outputLog)}`,
    "T=()", // each command's start and end ($EPOCHREALTIME, a bash 5 builtin variable: no fork), written at the end
  ];
  const inWork = (f: string) => q(path.join(workDir, path.basename(f)));
  cmds.forEach((c, i) => {
    const prog = path.basename(c[0]);
    const last = c[c.length - 1];
    // The log has the program's name; the agent ran it from the configured toolchain dir.
    const cmd = [path.join(TOOLCHAIN, prog), ...c.slice(1)].map(q).join(" ");
    lines.push('T+=("$EPOCHREALTIME")');
    if (prog === "rfifind") {
      lines.push(`${cmd} > ${q(path.join(workDir, `${c[c.indexOf("-o") + 1]}_rfifind.out`))} 2>&1`);
    } else if (prog === "prepsubband") {
      lines.push(`${cmd} > ${q(path.join(workDir, `${BASE}_lodm${c[c.indexOf("-lodm") + 1]}.prepout`))} 2>&1`);
    } else {
      lines.push(`${cmd} >> ${q(outputLog)} 2>&1`);
    }
    lines.push('T+=("$EPOCHREALTIME")');
    if (prog === "rednoise") {
      const stem = last.slice(0, -4);
      lines.push(`mv ${q(`${stem}_red.fft`)} ${q(last)}`, `rm -f ${q(`${stem}_red.inf`)}`);
    } else if (prog === "accelsearch") {
      const stem = last.slice(0, -4);
      const z = c[c.indexOf("-zmax") + 1];
      lines.push(`rm -f ${q(`${stem}_ACCEL_${z}.txtcand`)}`);
      for (const suffix of [`_ACCEL_${z}`, `_ACCEL_${z}.cand`]) lines.push(`if [ -e ${q(stem + suffix)} ]; then mv ${q(stem + suffix)} ${inWork(stem + suffix)}; fi`);
      if (lastUse.get(last) === i) lines.push(`rm -f ${q(last)}`);
    } else if (prog === "single_pulse_search.py" && c.includes("-p")) {
      for (const dat of c.filter((a) => a.endsWith(".dat"))) {
        const stem = dat.slice(0, -4);
        for (const suffix of [".singlepulse", ".inf"]) lines.push(`if [ -e ${q(stem + suffix)} ]; then mv ${q(stem + suffix)} ${inWork(stem + suffix)}; fi`);
        lines.push(`rm -f ${q(dat)}`);
      }
      if (i === lastSearchPass) lines.push(`rm -rf ${q(tmp)}`);
    } else if (prog === "single_pulse_search.py") {
      // The plot is written as <base>_singlepulse.ps; the agent renames it to the name it renders.
      const next = cmds[i + 1];
      if (next && path.basename(next[0]) === "gs") lines.push(`mv ${q(path.join(workDir, `${BASE}_singlepulse.ps`))} ${q(next[next.length - 1])}`);
    } else if (prog === "prepfold") {
      throw new Error("the replay does not fold: the benchmark's search must fold nothing");
    }
  });
  lines.push(`printf '%s\\n' "\${T[@]}" > ${q(timesFile)}`);
  return { script: lines.join("\n") + "\n", commands: cmds.length };
}

export async function searchBenchmark(opts: { timeScale?: number; cores?: number[] } = {}) {
  const timeScale = opts.timeScale ?? Number(process.env.BEAMFLOW_BENCH_TIME_SCALE ?? 0.5);
  const coresList = opts.cores ?? [1, 2, 4];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-bench-search-"));
  const savedScale = process.env.BEAMFLOW_STANDIN_TIME_SCALE;
  process.env.BEAMFLOW_STANDIN_TIME_SCALE = String(timeScale);
  let replayDir: string | null = null;
  try {
    const beam = path.join(tmp, `${BASE}.fits`);
    fs.copyFileSync(BEAM_SOURCE, beam);
    const zapDir = path.join(tmp, "zaplists");
    fs.mkdirSync(zapDir);
    const zaplist = path.join(zapDir, "default.zaplist");
    fs.copyFileSync(ZAPLIST_SOURCE, zaplist);

    // 1. Overhead: one core, then the same commands as a plain script.
    const one = await runBeam(1, tmp, zaplist, beam);
    const logged = one.calls.filter((c) => c.length > 1);
    const sameAsSteps = one.stepArgv.length === logged.length
      && one.stepArgv.every((a, i) => path.basename(a[0]) === logged[i][0] && JSON.stringify(a.slice(1)) === JSON.stringify(logged[i].slice(1)));
    if (!sameAsSteps) throw new Error("the stand-in log does not match the attempt's steps (one core runs them in order)");
    const timesFile = path.join(tmp, "replay-times.txt");
    const { script, commands } = replayScript(one.calls, one.workDir, beam, zaplist, path.join(tmp, "replay-output.log"), timesFile);
    const scriptFile = path.join(tmp, "replay.sh");
    fs.writeFileSync(scriptFile, script, { mode: 0o755 });
    const replayLog = path.join(tmp, "standin-replay.log");
    replayDir = one.workDir;
    const t0 = process.hrtime.bigint();
    const r = spawnSync("bash", [scriptFile], { encoding: "utf8", env: { ...process.env, BEAMFLOW_STANDIN_LOG: replayLog } });
    const scriptWallS = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`the replay script failed (${r.status}): ${r.stderr}`);
    const agentCmds = one.calls.filter((c) => c.length > 1).map((c) => JSON.stringify(c));
    const replayed = fs.readFileSync(replayLog, "utf8").trim().split("\n");
    if (replayed.length !== agentCmds.length || replayed.some((l, i) => l !== agentCmds[i])) throw new Error("the replay's command lines differ from the agent's");
    const stamps = fs.readFileSync(timesFile, "utf8").trim().split("\n").map(Number);
    const scriptWalls = agentCmds.map((_, i) => stamps[2 * i + 1] - stamps[2 * i]);
    fs.rmSync(replayDir, { recursive: true, force: true });
    fs.rmSync(path.dirname(replayDir), { recursive: true, force: true });
    replayDir = null;

    // 2. Scaling with the reserved cores.
    const runs: BeamRun[] = [one];
    for (const n of coresList) if (n !== 1) runs.push(await runBeam(n, tmp, zaplist, beam));

    const overheadS = one.wallS - scriptWallS;
    const byProgram: Record<string, number> = {};
    const perProgram = new Map<string, { n: number; agent: number; script: number }>();
    logged.forEach((c, i) => {
      byProgram[c[0]] = (byProgram[c[0]] ?? 0) + 1;
      const e = perProgram.get(c[0]) ?? { n: 0, agent: 0, script: 0 };
      e.n++; e.agent += one.stepWalls[i]; e.script += scriptWalls[i];
      perProgram.set(c[0], e);
    });
    const scriptInCommands = scriptWalls.reduce((n, x) => n + x, 0);
    return {
      benchmark: "search",
      time_scale: timeScale,
      beam: `${BASE}.fits (copy of ${path.basename(BEAM_SOURCE)})`,
      ddplan: SEARCH.ddplan,
      overhead: {
        cores: 1,
        steps: one.steps,
        commands: commands,
        commands_by_program: byProgram,
        usage_probes: one.calls.length - commands,
        agent_wall_s: round(one.wallS),
        script_wall_s: round(scriptWallS),
        overhead_s: round(overheadS),
        overhead_percent: round((overheadS / scriptWallS) * 100, 2),
        // The agent's wall split up: set-up (staging, usage probes, header checks), the steps'
        // own walls (program + the pty/bash wrapper around each), gaps between steps (file
        // moves, bookkeeping), and the end (sifting, results, tarballs, diagnostics).
        agent_breakdown: one.breakdown,
        script_breakdown: { in_commands_s: round(scriptInCommands), outside_commands_s: round(scriptWallS - scriptInCommands) },
        // Each step's wall under the agent (pty + bash wrapper + end-marker handshake around
        // the program) against the same command's wall in the script.
        per_step_ms: {
          agent_minus_script_mean: round(((one.breakdown.in_steps_s - scriptInCommands) / commands) * 1000, 1),
          by_program: Object.fromEntries([...perProgram].map(([name, e]) => [name, {
            calls: e.n, agent_mean: round((e.agent / e.n) * 1000, 1), script_mean: round((e.script / e.n) * 1000, 1),
          }])),
        },
      },
      scaling: runs.sort((x, y) => x.cores - y.cores).map((x) => ({
        cores: x.cores, steps: x.steps, wall_s: round(x.wallS), speedup: round(one.wallS / x.wallS, 2),
      })),
      targets: { overhead_percent: 2 },
    };
  } finally {
    if (savedScale === undefined) delete process.env.BEAMFLOW_STANDIN_TIME_SCALE;
    else process.env.BEAMFLOW_STANDIN_TIME_SCALE = savedScale;
    if (replayDir) fs.rmSync(path.dirname(replayDir), { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
