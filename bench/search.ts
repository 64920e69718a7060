// Search benchmarks: one palfa-search beam through a real coordinator and agent.
//
// `search` (real toolchain): a synthetic beam (shared/synth, a pulsar at DM 41) searched with
// the real PRESTO + psrfits_utils under /opt/presto (BEAMFLOW_BENCH_PRESTO_PREFIX), the agent
// finding them through agent.toolchain.prefix. Without that install it says so and measures
// the stand-in variant instead.
// `search-standin`: the fixture beam with the stand-in toolchain (test/toolchain/bin) idling
// for the real programs' per-call times (BEAMFLOW_STANDIN_TIME_SCALE = BEAMFLOW_BENCH_TIME_SCALE,
// default 0.5): what is left is the agent's own cost.
//
// Both report
//  - overhead: one reserved core (so the steps run one after another), the attempt's wall time
//    (accepted -> finished, as the coordinator records it) split into before the first step /
//    in steps / between steps / after the last step, against a plain bash script running the
//    same command lines, in the same order, in the same work dir, with the same environment
//    and only the file moves the agent makes between them; per step and per program, the
//    agent's step wall against the script's command wall
//    (the paired median, step by step, resists the odd step slowed by other load on the machine),
//    and the agent's and the coordinator's own CPU during the attempt
//  - scaling: the same beam with more reserved cores (agent cores = cores_per_beam);
//    BEAMFLOW_BENCH_SEARCH_CORES chooses the list (real: 1,2; stand-in: 1,2,4)
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { call } from "../cli/admin-client";
import { toolchainStepEnv } from "../agent/search/toolchain/step-env";
import { isRegularMember, listTarball, readTarMember } from "../shared/files/tarball";
import { writeSynthBeam, type SynthOptions } from "../shared/synth";
import { Cluster, waitFor } from "../test/support/cluster";
import { PRESTO_PREFIX } from "../test/support/presto";
import { cpuSeconds } from "./proc-cpu";

const REPO = path.join(__dirname, "..");
const STANDIN_TOOLCHAIN = path.join(REPO, "test", "toolchain", "bin");
const STANDIN_BEAM_SOURCE = path.join(REPO, "test", "fixtures", "psrfits", "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits");
const STANDIN_ZAPLIST_SOURCE = path.join(REPO, "test", "fixtures", "presto", "beam_J1903", "beam_J1903.zaplist");
const STANDIN_BASE = "beam_J1903";

// Stand-in: one pass of 26 DMs, away from DM 0 (so every trial gets both accelsearches).
const STANDIN_SEARCH = {
  ddplan_source: "explicit" as const,
  ddplan: [{ lodm: 26, dmstep: 1, dms_per_call: 26, calls: 1, nsub: 33, downsamp: 8 }],
  use_subbands: false,
  low_T_to_search: 0.5,
  max_cands_to_fold: 0,
  low_DM_cutoff: 1.0,
};

// Real: two passes of 16 DM trials 2 pc cm^-3 apart (DM 0-62; the second pass also runs the
// high-acceleration search), PALFA's defaults otherwise (subbands, zapbirds skipped for the
// default zaplist, which has no birdies). Nothing is folded: the run is the search itself.
const REAL_SEARCH = {
  ddplan_source: "explicit" as const,
  ddplan: [{ lodm: 0, dmstep: 2, dms_per_call: 16, calls: 2, nsub: 32, downsamp: 4 }],
  max_cands_to_fold: 0,
};
const REAL_BEAM: SynthOptions = { nchan: 64, lengthS: 21, seed: 11, beam: 5, pulsar: { periodS: 0.0734, dm: 41, snr: 25 } };
const REAL_BASE = "synth_J1000";

/** Everything that differs between the real and the stand-in runs. */
interface Variant {
  kind: "real" | "stand-in";
  /** the beam file to add, named <base>.fits */
  beam: string;
  base: string;
  toolchain: { prefix: string } | { path: string[] };
  /** added to the agent's environment (the step environment derives from it) */
  agentEnv: Record<string, string>;
  search: Record<string, unknown>;
  zaplists: Record<string, unknown>;
  /** the stand-ins log every call here when set */
  standinLog?: (cores: number) => string;
  timeoutMs: number;
}

interface StepRun {
  name: string;
  program: string;
  argv: string[];
  startedAt: number;
  wallS: number;
  cpuS: number;
}

interface BeamRun {
  cores: number;
  attemptId: number;
  wallS: number;
  workDir: string;
  /** the attempt's steps, in step order */
  steps: StepRun[];
  /** every stand-in call, usage probes included (stand-in variant only) */
  calls: string[][];
  /** the filed results' ACCEL and single-pulse tarballs, copied out before the cluster goes */
  tarballs: string[];
  /** where the attempt's wall time went (one core: the steps run one after another) */
  breakdown: { before_first_step_s: number; in_steps_s: number; between_steps_s: number; after_last_step_s: number };
  /** the agent's and the coordinator's own CPU (not their children's) from add-files to the search's end */
  processCpuS: { agent: number | null; coordinator: number | null };
}

/** A process's own user + system CPU seconds (/proc/<pid>/stat utime + stime), null if unreadable. */
function ownCpuS(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    return cpuSeconds(pid);
  } catch {
    return null;
  }
}

const round = (x: number, digits = 3) => Number(x.toFixed(digits));
const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One beam, one agent with `cores` cores, cores_per_beam = `cores`. */
async function runBeam(v: Variant, cores: number, tmp: string): Promise<BeamRun> {
  const workBase = `/dev/shm/beamflow-bench-search-${process.pid}-${cores}`;
  const standinLog = v.standinLog?.(cores);
  const cluster = await Cluster.create({
    jobs: { type: "palfa-search" },
    logging: { level: "warn" },
    dispatch: { cores_per_beam: cores, memory_per_beam: 0 },
    search: v.search,
    zaplists: v.zaplists,
  });
  if (standinLog) process.env.BEAMFLOW_STANDIN_LOG = standinLog;
  try {
    await cluster.startCoordinator();
    const agent = await cluster.startAgent(
      "bench",
      {
        cores,
        heartbeat_s: 10,
        work_base: workBase,
        scratch_dir: path.join(cluster.dir, "scratch"),
        toolchain: v.toolchain,
      },
      v.agentEnv,
    );
    const pids = { agent: agent.child.pid, coordinator: cluster.coordinator?.child.pid };
    const cpu0 = { agent: ownCpuS(pids.agent), coordinator: ownCpuS(pids.coordinator) };
    const file = path.join(cluster.dir, `${v.base}.fits`);
    fs.copyFileSync(v.beam, file);
    const r = cluster.cli(["add-files", file]);
    if (r.status !== 0) throw new Error(`add-files failed: ${r.stderr}`);
    const searched = ["processed", "uploaded", "upload_failed"];
    const [job] = await cluster.waitForJobs(
      (js) => js.length === 1 && [...searched, "terminal_failure", "processing_failed"].includes(js[0].status),
      "the search to end",
      v.timeoutMs,
    );
    const cpu1 = { agent: ownCpuS(pids.agent), coordinator: ownCpuS(pids.coordinator) };
    const delta = (k: "agent" | "coordinator") => (cpu0[k] === null || cpu1[k] === null ? null : round(cpu1[k]! - cpu0[k]!, 2));
    const processCpuS = { agent: delta("agent"), coordinator: delta("coordinator") };
    const a = cluster.admin();
    const detail = await call(a, a.client.getJob, { id: job.id });
    const attempt = detail.attempts[0];
    if (!searched.includes(job.status) || detail.attempts.length !== 1) {
      throw new Error(
        `the search ended ${job.status} after ${detail.attempts.length} attempt(s): ${detail.attempts.map((x) => `${x.errorClass}: ${x.details}`).join("; ")}`,
      );
    }
    const workDir = path.join(workBase, String(attempt.id));
    await waitFor("the attempt's work dir to go", () => !fs.existsSync(workDir), 60_000);
    const calls = standinLog
      ? fs
          .readFileSync(standinLog, "utf8")
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as string[])
      : [];
    const steps: StepRun[] = [...attempt.steps]
      .sort((x, y) => x.index - y.index)
      .map((st) => ({
        name: st.name,
        program: path.basename(st.argv[0]),
        argv: st.argv,
        startedAt: st.startedAt,
        wallS: st.wallS,
        cpuS: st.cpuS,
      }));
    const inSteps = sum(steps.map((st) => st.wallS));
    const first = steps[0].startedAt;
    const lastEnd = Math.max(...steps.map((st) => st.startedAt + st.wallS));
    const breakdown = {
      before_first_step_s: round(first - attempt.startedAt),
      in_steps_s: round(inSteps),
      between_steps_s: round(lastEnd - first - inSteps),
      after_last_step_s: round(attempt.finishedAt - lastEnd),
    };
    const keep = path.join(tmp, `results-${cores}`);
    fs.mkdirSync(keep, { recursive: true });
    const tarballs = fs.existsSync(attempt.resultsDir)
      ? fs
          .readdirSync(attempt.resultsDir)
          .filter((n) => /_ACCEL_\d+\.tgz$|_singlepulse\.tgz$/.test(n))
          .map((n) => {
            fs.copyFileSync(path.join(attempt.resultsDir, n), path.join(keep, n));
            return path.join(keep, n);
          })
      : [];
    return { cores, attemptId: attempt.id, wallS: attempt.finishedAt - attempt.startedAt, workDir, steps, calls, tarballs, breakdown, processCpuS };
  } finally {
    if (standinLog) delete process.env.BEAMFLOW_STANDIN_LOG;
    await cluster.close();
    fs.rmSync(workBase, { recursive: true, force: true });
  }
}

/**
 * The stand-in log's calls that are the attempt's steps, in order ([program name, ...args]);
 * the others are the toolchain's probes (usage texts, the plot python's import check). The
 * index of the first step the log lacks when it does not hold them all in order.
 */
function alignSteps(steps: StepRun[], calls: string[][]): number[] | number {
  const matched: number[] = [];
  let j = 0;
  for (const [i, st] of steps.entries()) {
    const want = JSON.stringify([st.program, ...st.argv.slice(1)]);
    while (j < calls.length && JSON.stringify(calls[j]) !== want) j++;
    if (j === calls.length) return i;
    matched.push(j++);
  }
  return matched;
}

const q = (s: string) => (/^[A-Za-z0-9_.,:=\/+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export interface ReplayOptions {
  /** each command's argv, in step order (usage probes, argv of one element, are left out) */
  commands: string[][];
  /** run each program from this directory (the stand-in log has bare names); else argv[0] as it is */
  programDir?: string;
  /** the attempt's work dir: recreated at the same absolute path */
  workDir: string;
  /** the beam's base name (the staged file is <base>.fits, the outputs <base>_...) */
  base: string;
  /** the beam file to stage as <workDir>/<base>.fits */
  beam: string;
  /** a zaplist to place as <workDir>/<base>.zaplist, as the agent writes it */
  zaplist?: string;
  /** exported before the first command (the agent's step environment: PATH, PRESTO, TMPDIR...) */
  env?: Record<string, string>;
  /** where the output of commands whose output the agent keeps nowhere goes */
  outputLog: string;
  /** each command's start and end ($EPOCHREALTIME), two lines per command */
  timesFile: string;
  /** the `times` builtin at the end: the children's user and system CPU on its second line */
  cpuFile?: string;
}

/**
 * A bash script running the agent's command lines in order, in a recreated work dir at the
 * same absolute path, with the file moves search-attempt.ts makes between them: the subband
 * dir made before `prepsubband -sub` and removed after the DM trials made from it, rednoise's
 * _red.fft renamed over the .fft, ACCEL tables moved out of tmp/ and their .txtcand deleted,
 * the .fft deleted after its last accelsearch, .singlepulse/.inf moved and the .dat deleted
 * after the single-pulse search, tmp/ removed after the last, single-pulse plots renamed to
 * the name gs renders. Outputs the agent keeps (rfifind, prepsubband) go to the same files.
 */
export function replayScript(o: ReplayOptions): { script: string; commands: number } {
  const cmds = o.commands.filter((c) => c.length > 1);
  const work = o.workDir;
  const tmp = path.join(work, "tmp");
  const lastUse = new Map<string, number>();
  cmds.forEach((c, i) => lastUse.set(c[c.length - 1], i));
  const isSearchPass = (c: string[]) => path.basename(c[0]) === "single_pulse_search.py" && c.includes("-p");
  const lastSearchPass =
    cmds
      .map((c, i) => [c, i] as const)
      .filter(([c]) => isSearchPass(c))
      .pop()?.[1] ?? -1;
  const lines = [
    "#!/bin/bash",
    "set -euo pipefail",
    ...Object.entries(o.env ?? {}).map(([k, v]) => `export ${k}=${q(v)}`),
    `rm -rf ${q(work)}`,
    `mkdir -p ${q(tmp)} ${q(path.join(work, "proc-tmp"))}`,
    `cd ${q(work)}`,
    `cp ${q(o.beam)} ${q(path.join(work, `${o.base}.fits`))}`,
    ...(o.zaplist ? [`cp ${q(o.zaplist)} ${q(path.join(work, `${o.base}.zaplist`))}`] : []),
    `: > ${q(o.outputLog)}`,
    "T=()", // each command's start and end ($EPOCHREALTIME, a bash 5 builtin variable: no fork), written at the end
  ];
  const inWork = (f: string) => q(path.join(work, path.basename(f)));
  const arg = (c: string[], flag: string) => {
    const i = c.indexOf(flag);
    if (i < 0 || i + 1 >= c.length) throw new Error(`${path.basename(c[0])} without ${flag}: ${c.join(" ")}`);
    return c[i + 1];
  };
  let subDm: string | null = null;
  cmds.forEach((c, i) => {
    const prog = path.basename(c[0]);
    const last = c[c.length - 1];
    const cmd = [o.programDir ? path.join(o.programDir, prog) : c[0], ...c.slice(1)].map(q).join(" ");
    let out = `>> ${q(o.outputLog)} 2>&1`;
    const after: string[] = [];
    if (prog === "rfifind") {
      out = `> ${q(path.join(work, `${arg(c, "-o")}_rfifind.out`))} 2>&1`;
    } else if (prog === "prepsubband" && c.includes("-sub")) {
      subDm = arg(c, "-subdm");
      lines.push(`mkdir -p ${q(path.dirname(arg(c, "-o")))}`);
      out = `> ${q(path.join(work, `${o.base}_DM${subDm}.subout`))} 2>&1`;
    } else if (prog === "prepsubband") {
      const fromSubbands = /\.sub\d+$/.test(last);
      if (fromSubbands && subDm === null) throw new Error("prepsubband on subbands before any prepsubband -sub");
      out = `> ${q(path.join(work, fromSubbands ? `${o.base}_DM${subDm}.prepout` : `${o.base}_lodm${arg(c, "-lodm")}.prepout`))} 2>&1`;
      if (fromSubbands) after.push(`rm -rf ${q(path.dirname(last))}`);
    } else if (prog === "rednoise") {
      const stem = last.slice(0, -4);
      after.push(`mv ${q(`${stem}_red.fft`)} ${q(last)}`, `rm -f ${q(`${stem}_red.inf`)}`);
    } else if (prog === "accelsearch") {
      const stem = last.slice(0, -4);
      const z = arg(c, "-zmax");
      after.push(`rm -f ${q(`${stem}_ACCEL_${z}.txtcand`)}`);
      for (const suffix of [`_ACCEL_${z}`, `_ACCEL_${z}.cand`])
        after.push(`if [ -e ${q(stem + suffix)} ]; then mv ${q(stem + suffix)} ${inWork(stem + suffix)}; fi`);
      if (lastUse.get(last) === i) after.push(`rm -f ${q(last)}`);
    } else if (isSearchPass(c)) {
      for (const dat of c.filter((a) => a.endsWith(".dat"))) {
        const stem = dat.slice(0, -4);
        for (const suffix of [".singlepulse", ".inf"]) after.push(`if [ -e ${q(stem + suffix)} ]; then mv ${q(stem + suffix)} ${inWork(stem + suffix)}; fi`);
        after.push(`rm -f ${q(dat)}`);
      }
      if (i === lastSearchPass) after.push(`rm -rf ${q(tmp)}`);
    } else if (prog === "single_pulse_search.py") {
      // A plot over the listed files: the agent renames the new *_singlepulse.ps to the name gs renders.
      const next = cmds[i + 1];
      if (next && path.basename(next[0]) === "gs") {
        after.push(`for f in *_singlepulse.ps; do case "$f" in *_DMs*_singlepulse.ps) ;; *) mv "$f" ${q(next[next.length - 1])} ;; esac; done`);
      }
    } else if (["prepfold", "python", "python3", "combine_mocks", "prepdata", "fitsdelrow"].includes(prog)) {
      throw new Error(`the replay does not run ${prog}: the benchmark's search must fold nothing, on a single-file beam`);
    }
    lines.push('T+=("$EPOCHREALTIME")', `${cmd} ${out}`, 'T+=("$EPOCHREALTIME")', ...after);
  });
  lines.push(`printf '%s\\n' "\${T[@]}" > ${q(o.timesFile)}`);
  if (o.cpuFile) lines.push(`times > ${q(o.cpuFile)}`);
  return { script: lines.join("\n") + "\n", commands: cmds.length };
}

/** The environment the agent gives its steps (agent/runner/step-process.ts + search-attempt.ts), minus the agent's own. */
function stepEnvironment(v: Variant, workDir: string): Record<string, string> {
  const base: NodeJS.ProcessEnv = { ...process.env, ...v.agentEnv };
  const tc =
    "prefix" in v.toolchain
      ? { path: [], prefix: v.toolchain.prefix, wrapper: [], prestoDir: base.PRESTO ?? "" }
      : { path: v.toolchain.path, prefix: "", wrapper: [], prestoDir: base.PRESTO ?? "" };
  return { ...v.agentEnv, TERM: "dumb", ...toolchainStepEnv(tc, base), TMPDIR: path.join(workDir, "proc-tmp") };
}

interface Replay {
  wallS: number;
  commandWalls: number[];
  cpuS: number | null;
  /** what the commands wrote to stdout/stderr: what the agent streams to the coordinator */
  outputBytes: number;
  outputsCompared: { files: number; differing: string[] } | null;
}

/** Runs the replay of `run`'s steps where the agent ran them; compares its outputs with the filed results. */
async function replay(v: Variant, run: BeamRun, tmp: string, zaplist?: string): Promise<Replay> {
  const timesFile = path.join(tmp, "replay-times.txt");
  const outputLog = path.join(tmp, "replay-output.log");
  const cpuFile = path.join(tmp, "replay-cpu.txt");
  const { script } = replayScript({
    commands: run.steps.map((s) => s.argv),
    programDir: v.kind === "stand-in" ? STANDIN_TOOLCHAIN : undefined,
    workDir: run.workDir,
    base: v.base,
    beam: v.beam,
    zaplist,
    env: stepEnvironment(v, run.workDir),
    outputLog,
    timesFile,
    cpuFile,
  });
  const scriptFile = path.join(tmp, "replay.sh");
  fs.writeFileSync(scriptFile, script, { mode: 0o755 });
  const env: NodeJS.ProcessEnv = { ...process.env, ...v.agentEnv };
  for (const k of ["COLUMNS", "LINES", "BASH_ENV"]) delete env[k];
  const replayLog = path.join(tmp, "standin-replay.log");
  if (v.kind === "stand-in") env.BEAMFLOW_STANDIN_LOG = replayLog;
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync("bash", [scriptFile], { encoding: "utf8", env, maxBuffer: 64 << 20 });
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`the replay script failed (${r.status}): ${r.stderr}`);
    const stamps = fs.readFileSync(timesFile, "utf8").trim().split("\n").map(Number);
    const commandWalls = run.steps.map((_, i) => stamps[2 * i + 1] - stamps[2 * i]);
    if (stamps.length !== 2 * run.steps.length) throw new Error(`the replay ran ${stamps.length / 2} commands, the agent ${run.steps.length} steps`);
    if (v.kind === "stand-in") {
      // The script's calls are the agent's steps, exactly: no probes, nothing else.
      const replayed = fs
        .readFileSync(replayLog, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as string[]);
      const at = alignSteps(run.steps, replayed);
      if (typeof at === "number" || replayed.length !== run.steps.length) throw new Error("the replay's command lines differ from the agent's");
    }
    // `times`: the shell's own user/system, then its children's ("0m1.234s 0m0.056s").
    const secs = (t: string) => {
      const m = /^(\d+)m([\d.]+)s$/.exec(t);
      return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
    };
    const cpuLines = fs.readFileSync(cpuFile, "utf8").trim().split("\n");
    const cpuS = cpuLines.length === 2 ? sum(cpuLines.flatMap((l) => l.trim().split(/\s+/).map(secs))) : null;
    const kept = fs
      .readdirSync(run.workDir)
      .filter((n) => /_rfifind\.out$|\.prepout$|\.subout$/.test(n))
      .map((n) => path.join(run.workDir, n));
    const outputBytes = sum([outputLog, ...kept].map((f) => fs.statSync(f).size));
    return { wallS, commandWalls, cpuS, outputBytes, outputsCompared: await compareOutputs(run.tarballs, run.workDir) };
  } finally {
    fs.rmSync(path.dirname(run.workDir), { recursive: true, force: true });
  }
}

/** The replay's ACCEL tables and single-pulse files against the members of the attempt's filed tarballs. */
async function compareOutputs(tarballs: string[], workDir: string): Promise<{ files: number; differing: string[] } | null> {
  if (tarballs.length === 0) return null;
  let files = 0;
  const differing: string[] = [];
  for (const tgz of tarballs) {
    for (const m of await listTarball(tgz)) {
      if (!isRegularMember(m.type)) continue;
      files++;
      const mine = path.join(workDir, path.basename(m.path));
      const theirs = await readTarMember(tgz, m.path);
      if (!fs.existsSync(mine) || !fs.readFileSync(mine).equals(theirs)) differing.push(path.basename(m.path));
    }
  }
  return { files, differing: differing.slice(0, 10).concat(differing.length > 10 ? [`... ${differing.length - 10} more`] : []) };
}

/** The largest gaps between one step's end and the next one's start (one core: nothing overlaps). */
function gaps(steps: StepRun[]) {
  const g = steps.slice(1).map((st, i) => ({ after: steps[i].name, before: st.name, ms: (st.startedAt - (steps[i].startedAt + steps[i].wallS)) * 1000 }));
  const sorted = g.map((x) => x.ms).sort((a, b) => a - b);
  return {
    count: g.length,
    median_ms: round(median(sorted), 1),
    mean_ms: round(sum(sorted) / Math.max(1, sorted.length), 1),
    largest: [...g]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5)
      .map((x) => ({ ...x, ms: round(x.ms, 1) })),
  };
}

function summarise(v: Variant, one: BeamRun, runs: BeamRun[], rep: Replay) {
  const overheadS = one.wallS - rep.wallS;
  const byProgram: Record<string, number> = {};
  const perProgram = new Map<string, { n: number; agent: number; script: number; cpu: number }>();
  one.steps.forEach((st, i) => {
    byProgram[st.program] = (byProgram[st.program] ?? 0) + 1;
    const e = perProgram.get(st.program) ?? { n: 0, agent: 0, script: 0, cpu: 0 };
    e.n++;
    e.agent += st.wallS;
    e.script += rep.commandWalls[i];
    e.cpu += st.cpuS;
    perProgram.set(st.program, e);
  });
  // Step by step (the same command line in both): robust to the odd step slowed by the machine's other load.
  const diffs = one.steps.map((st, i) => st.wallS - rep.commandWalls[i]);
  const diffsOf = (program: string) => diffs.filter((_, i) => one.steps[i].program === program);
  const n = one.steps.length;
  const agentInSteps = sum(one.steps.map((s) => s.wallS));
  const scriptInCommands = sum(rep.commandWalls);
  return {
    overhead: {
      cores: 1,
      // accepted -> finished, as the coordinator records it
      agent_wall_s: round(one.wallS),
      steps: n,
      steps_by_program: byProgram,
      steps_wall_sum_s: round(agentInSteps),
      steps_cpu_sum_s: round(sum(one.steps.map((s) => s.cpuS))),
      // the agent's and the coordinator's own CPU meanwhile (output streaming, bookkeeping, sifting, results)
      process_cpu_s: one.processCpuS,
      script_wall_s: round(rep.wallS),
      script_in_commands_s: round(scriptInCommands),
      script_cpu_s: rep.cpuS === null ? null : round(rep.cpuS),
      script_output_bytes: rep.outputBytes,
      // the whole attempt against the whole script
      overhead_s: round(overheadS),
      overhead_percent: round((overheadS / rep.wallS) * 100, 2),
      // The agent's wall split up: set-up (staging, header checks, usage probes), the steps'
      // own walls (program + the pty/bash wrapper around each), gaps between steps (file
      // moves, bookkeeping), and the end (sifting, results, tarballs, diagnostics).
      agent_breakdown: one.breakdown,
      script_breakdown: { in_commands_s: round(scriptInCommands), outside_commands_s: round(rep.wallS - scriptInCommands) },
      gaps_between_steps: gaps(one.steps),
      // Each step's wall under the agent (pty + bash wrapper + end-marker handshake around
      // the program) against the same command's wall in the script.
      per_step: {
        overhead_ms: round(((agentInSteps - scriptInCommands) / n) * 1000, 1),
        overhead_percent: round(((agentInSteps - scriptInCommands) / scriptInCommands) * 100, 2),
        median_overhead_ms: round(median(diffs) * 1000, 1),
        by_program: Object.fromEntries(
          [...perProgram].map(([name, e]) => [
            name,
            {
              calls: e.n,
              agent_mean_ms: round((e.agent / e.n) * 1000, 1),
              script_mean_ms: round((e.script / e.n) * 1000, 1),
              overhead_ms: round(((e.agent - e.script) / e.n) * 1000, 1),
              overhead_percent: round(((e.agent - e.script) / e.script) * 100, 1),
              median_overhead_ms: round(median(diffsOf(name)) * 1000, 1),
              agent_cpu_mean_ms: round((e.cpu / e.n) * 1000, 1),
            },
          ]),
        ),
      },
      // The replay's ACCEL tables and .singlepulse files against the attempt's (same work, same bytes).
      replay_outputs: rep.outputsCompared,
    },
    scaling: [...runs]
      .sort((x, y) => x.cores - y.cores)
      .map((x) => ({
        cores: x.cores,
        steps: x.steps.length,
        wall_s: round(x.wallS),
        speedup: round(one.wallS / x.wallS, 2),
        steps_wall_sum_s: round(sum(x.steps.map((s) => s.wallS))),
        steps_cpu_sum_s: round(sum(x.steps.map((s) => s.cpuS))),
        process_cpu_s: x.processCpuS,
      })),
  };
}

function coresFromEnv(fallback: number[]): number[] {
  const s = process.env.BEAMFLOW_BENCH_SEARCH_CORES;
  if (!s) return fallback;
  const list = s.split(",").map((x) => Number(x.trim()));
  if (list.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`BEAMFLOW_BENCH_SEARCH_CORES=${s}: a comma-separated list of core counts`);
  return list;
}

async function measure(v: Variant, coresList: number[], tmp: string, zaplist?: string) {
  const one = await runBeam(v, 1, tmp);
  if (v.kind === "stand-in") {
    const at = alignSteps(one.steps, one.calls);
    if (typeof at === "number")
      throw new Error(`the stand-in log does not have the attempt's step ${at} (${JSON.stringify(one.steps[at].argv)}) after step ${at - 1}'s call`);
  }
  const rep = await replay(v, one, tmp, zaplist);
  const runs: BeamRun[] = [one];
  for (const n of coresList) if (n !== 1) runs.push(await runBeam(v, n, tmp));
  return { one, rep, runs };
}

/** The real toolchain when installed; otherwise the stand-in measurement, saying why. */
export async function searchBenchmark(opts: { cores?: number[]; prefix?: string } = {}) {
  const prefix = opts.prefix ?? process.env.BEAMFLOW_BENCH_PRESTO_PREFIX ?? PRESTO_PREFIX;
  const accelsearch = path.join(prefix, "bin", "accelsearch");
  if (!fs.existsSync(accelsearch)) {
    const standin = await searchStandinBenchmark();
    return {
      ...standin,
      benchmark: "search",
      toolchain: "stand-in",
      real_toolchain: `not installed: no ${accelsearch} (install the PRESTO + psrfits_utils bundle under ${prefix}); measured with the stand-ins instead`,
    };
  }
  const coresList = opts.cores ?? coresFromEnv([1, 2]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-bench-search-"));
  try {
    const beam = path.join(tmp, `${REAL_BASE}.fits`);
    const made = writeSynthBeam(REAL_BEAM, beam);
    if (made.files.length !== 1) throw new Error("the synthetic beam should be one file");
    // The default configuration's zaplist (zaplists.source unset): no birdies, so no zapbirds.
    const noBirdies = path.join(tmp, "none.zaplist");
    fs.writeFileSync(noBirdies, "# zaplists.source is not set: no birdies zapped\n");
    const v: Variant = {
      kind: "real",
      beam,
      base: REAL_BASE,
      toolchain: { prefix },
      agentEnv: {},
      search: REAL_SEARCH,
      zaplists: {},
      timeoutMs: 540_000,
    };
    const { one, rep, runs } = await measure(v, coresList, tmp, noBirdies);
    return {
      benchmark: "search",
      toolchain: "real",
      prefix,
      beam: { file: `${REAL_BASE}.fits`, bytes: fs.statSync(beam).size, synth: REAL_BEAM },
      search: REAL_SEARCH,
      ...summarise(v, one, runs, rep),
    };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The stand-in toolchain idling for the real programs' times: the agent's own cost. */
export async function searchStandinBenchmark(opts: { timeScale?: number; cores?: number[] } = {}) {
  const timeScale = opts.timeScale ?? Number(process.env.BEAMFLOW_BENCH_TIME_SCALE ?? 0.5);
  const coresList = opts.cores ?? coresFromEnv([1, 2, 4]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-bench-search-"));
  const savedScale = process.env.BEAMFLOW_STANDIN_TIME_SCALE;
  process.env.BEAMFLOW_STANDIN_TIME_SCALE = String(timeScale);
  try {
    const beam = path.join(tmp, `${STANDIN_BASE}.fits`);
    fs.copyFileSync(STANDIN_BEAM_SOURCE, beam);
    const zapDir = path.join(tmp, "zaplists");
    fs.mkdirSync(zapDir);
    const zaplist = path.join(zapDir, "default.zaplist");
    fs.copyFileSync(STANDIN_ZAPLIST_SOURCE, zaplist);
    const v: Variant = {
      kind: "stand-in",
      beam,
      base: STANDIN_BASE,
      toolchain: { path: [STANDIN_TOOLCHAIN] },
      agentEnv: {},
      search: STANDIN_SEARCH,
      zaplists: { source: zapDir, default_other: path.basename(zaplist) },
      standinLog: (cores) => path.join(tmp, `standin-${cores}.log`),
      timeoutMs: 300_000,
    };
    const { one, rep, runs } = await measure(v, coresList, tmp, zaplist);
    const s = summarise(v, one, runs, rep);
    return {
      benchmark: "search-standin",
      time_scale: timeScale,
      beam: `${STANDIN_BASE}.fits (copy of ${path.basename(STANDIN_BEAM_SOURCE)})`,
      ddplan: STANDIN_SEARCH.ddplan,
      ...s,
      // toolchain probes (usage texts, the plot python's check) the stand-ins logged besides the steps
      overhead: { ...s.overhead, toolchain_probes: one.calls.length - one.steps.length },
      targets: { overhead_percent: 2 },
    };
  } finally {
    if (savedScale === undefined) delete process.env.BEAMFLOW_STANDIN_TIME_SCALE;
    else process.env.BEAMFLOW_STANDIN_TIME_SCALE = savedScale;
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
