// Operator commands that talk to a running coordinator over AdminService.
import { type Command, InvalidArgumentError } from "commander";
import type { AgentView, AttemptView, JobAction, JobView, ProgressView } from "../shared/gen/admin";
import { jobTypeName, jobTypeToWire, SEARCH_JOB_TYPE } from "../shared/protocol/job-types";
import { formatSize } from "../shared/config/sizes";
import { call, CliError, connectAdmin } from "./admin-client";
import { checkAgentId, checkPath, intOption, parseId, parseIds, textOption, usageError } from "./args";
import { EXIT } from "./exit-codes";
import { JOB_STATES } from "../coordinator/tracker/states";
import { cliConfig } from "./config-option";
import { ago, bytes, duration, printJson, table, when } from "./format";
import { run } from "./run";
import { canaryCell } from "./canary-command";
import { eachBatch, firstJobs, type ListCall } from "./job-listing";
import { listAgents } from "./agent-listing";
import { watchAndAdd } from "./download-commands";

interface Common {
  config?: string;
  json?: boolean;
}

const ids = (args: string[]) => parseIds(args);

/** The columns of `jobs` (jobRows fills them). */
const JOB_COLUMNS = ["id", "beam", "status", "fail/tries", "agent", "updated", "details"];

/** --since: "90m", "6h", "2d" back from now, or a date/time Date.parse reads; unix seconds. */
function sinceOption(v: string): number {
  const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(v.trim());
  if (m) return Date.now() / 1000 - Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidArgumentError(`'${v}' is neither a duration (90m, 6h, 2d) nor a date (2026-12-01)`);
  return t / 1000;
}

/** Beyond this, `submit --count` is more likely a typo than a plan. */
const MAX_COUNT = 100_000;

/** key=value pairs into a JSON object; values that parse as JSON (numbers, true, [..]) keep their type. */
function paramsJson(pairs: string[]): string {
  if (pairs.length === 0) return "";
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw usageError(`--param wants key=value, got '${pair}'`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a plain string */
    }
    out[pair.slice(0, eq)] = value;
  }
  return JSON.stringify(out);
}

function jobRows(jobs: JobView[]): (string | number)[][] {
  return jobs.map((j) => [j.id, j.beam, j.status, `${j.failures}/${j.attempts}`, j.agentId || "-", when(j.updatedAt), (j.waiting || j.details).slice(0, 60)]);
}

/** Prints per-job outcomes; fails (non-zero exit) if any job was refused. */
function reportActions(verb: string, results: JobAction[], json?: boolean): void {
  if (json) printJson(results);
  else
    for (const r of results) {
      if (r.ok) console.log(`job ${r.id}: ${verb}, now ${r.status}`);
      else console.error(`job ${r.id}: ${r.error}`);
    }
  const refused = results.filter((r) => !r.ok);
  if (refused.length)
    throw new CliError(
      `${refused.length} of ${results.length} job${results.length > 1 ? "s" : ""} not ${verb}`,
      refused.every((r) => /^no job /.test(r.error)) ? EXIT.notFound : EXIT.refused,
    );
}

/** Whether the agent can run palfa-search jobs, as it last said: yes, no, or ? (it never said). */
/** Its state, with "ephemeral" (removed when it leaves) and "leaving" (stopping gracefully) when they hold. */
function stateCell(x: AgentView): string {
  const tags = [x.ephemeral && "ephemeral", x.leaving && "leaving"].filter(Boolean);
  return tags.length ? `${x.state} (${tags.join(", ")})` : x.state;
}

function searchFitness(x: AgentView): string {
  const f = x.capabilities?.jobTypes.find((j) => j.jobType === jobTypeToWire(SEARCH_JOB_TYPE));
  return f ? (f.fit ? "yes" : "no") : "?";
}

function attemptLine(a: AttemptView): (string | number)[] {
  const wall = a.finishedAt && a.startedAt ? duration(a.finishedAt - a.startedAt) : a.startedAt ? `${duration(Date.now() / 1000 - a.startedAt)} so far` : "-";
  return [
    a.id,
    a.agentId,
    a.status + (a.counted ? " (counted)" : ""),
    when(a.createdAt),
    wall,
    (a.errorClass ? `${a.errorClass}: ` : "") + a.details.slice(0, 70),
  ];
}

export function registerAdminCommands(program: Command): void {
  const admin = (opts: Common) => connectAdmin(cliConfig(opts.config));

  program
    .command("jobs")
    .description("list jobs")
    .option("--status <status>", `only jobs in this state (${JOB_STATES.join(", ")})`, (v: string) => {
      if (!(JOB_STATES as readonly string[]).includes(v)) throw new InvalidArgumentError(`unknown job status '${v}' (one of: ${JOB_STATES.join(", ")})`);
      return v;
    })
    .option("--agent <id>", "only jobs whose current attempt is on this agent", textOption("--agent"))
    .option("--beam <glob>", "only beams matching this glob (e.g. 'p2030.2013*')", textOption("--beam"))
    .option("--since <when>", "only jobs changed since then: a duration back from now (90m, 6h, 2d) or a date (2026-12-01)", sinceOption)
    .option("--limit <n>", "this many (newest first; default 50, at most 1000)", intOption(1, 1000), 50)
    .option("--oldest", "oldest first")
    .option("--all", "every matching job, a page at a time (as JSON lines with --json)")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common & { status?: string; agent?: string; beam?: string; since?: number; limit: number; oldest?: boolean; all?: boolean }) => {
        const a = admin(opts);
        const query = { status: opts.status ?? "", agent: opts.agent ?? "", beam: opts.beam ?? "", since: opts.since ?? 0, oldestFirst: opts.oldest ?? false };
        const list: ListCall<JobView> = (limit, cursor) => call(a, a.client.listJobs, { ...query, limit, cursor });
        if (!opts.all) {
          const { jobs, more } = await firstJobs(list, opts.limit);
          if (opts.json) return printJson(jobs);
          console.log(table(JOB_COLUMNS, jobRows(jobs)));
          if (more) console.log(`(the ${jobs.length} ${opts.oldest ? "oldest" : "newest"}; --limit N or --all for more)`);
          return;
        }
        // JSON lines as they come; tables of 1,000 rows.
        await eachBatch(list, 1000, opts.json ? 1 : 1000, (jobs) => {
          if (opts.json) for (const j of jobs) process.stdout.write(`${JSON.stringify(j)}\n`);
          else console.log(table(JOB_COLUMNS, jobRows(jobs)));
        });
      }),
    );

  program
    .command("job <id>")
    .description("one job: attempts, their steps by program (--steps: every step, with exit codes), files, diagnostics")
    .option("--steps", "every step of every attempt (a PALFA Mock beam has ~31,000)")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common & { steps?: boolean }, id: string) => {
        const a = admin(opts);
        const d = await call(a, a.client.getJob, { id: parseId(id), summaryOnly: !opts.steps && !opts.json });
        if (opts.json) return printJson(d);
        const j = d.job!;
        console.log(
          `job ${j.id}  ${j.beam}  (${j.jobType})\nstatus: ${j.status}   counted failures: ${j.failures}   attempts: ${j.attempts}${j.details ? `\ndetails: ${j.details}` : ""}${j.waiting ? `\nwaiting: ${j.waiting}` : ""}`,
        );
        if (d.progress) console.log(progressLine(d.progress));
        if (d.files.length)
          console.log(
            "\n" +
              table(
                ["file", "size", "sha256"],
                d.files.map((f) => [f.path, formatSize(f.size), f.sha256.slice(0, 16)]),
              ),
          );
        for (const at of d.attempts) {
          console.log("\n" + table(["attempt", "agent", "status", "created", "wall", "error"], [attemptLine(at)]));
          if (!opts.steps && at.stepSummary.length) {
            console.log(
              table(
                ["program", "steps", "failed", "running", "total wall", "longest", "longest step"],
                at.stepSummary.map((p) => [
                  p.program,
                  p.count,
                  p.failed,
                  p.running,
                  duration(p.totalWallS),
                  duration(p.longestWallS),
                  p.longestStep.slice(0, 50),
                ]),
              ),
            );
          }
          if (at.steps.length) {
            console.log(
              table(
                ["#", "step", "exit", "wall", "cpu", "command"],
                at.steps.map((s) => [
                  s.index,
                  s.name,
                  s.exitCode ?? (s.signal || (s.wallS ? "?" : "running")),
                  duration(s.wallS),
                  duration(s.cpuS),
                  s.argv.join(" ").slice(0, 80),
                ]),
              ),
            );
          }
        }
        if (d.diagnostics.length)
          console.log(
            "\n" +
              table(
                ["attempt", "diagnostic", "value"],
                d.diagnostics.map((x) => [x.attemptId, x.name, x.value ?? x.text.slice(0, 60)]),
              ),
          );
        if (d.uploads.length) {
          console.log(
            `\nuploads (counted failures: ${j.uploadFailures})\n` +
              table(
                ["upload", "attempt", "status", "started", "details"],
                d.uploads.map((u) => [u.id, u.attemptId, u.status, when(u.startedAt), (u.errorClass ? `${u.errorClass}: ` : "") + u.details.slice(0, 80)]),
              ),
          );
        }
      }),
    );

  program
    .command("agents")
    .description("agents with their resources and heartbeat age, and why an agent gets no beams")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common) => {
        const a = admin(opts);
        const agents = await listAgents(a);
        if (opts.json) return printJson(agents);
        console.log(
          table(
            [
              "agent",
              "host",
              "state",
              "drained",
              "searches",
              "canary",
              "heartbeat",
              "cores used",
              "load",
              "mem free",
              "shm free",
              "attempts",
              "failed in a row",
            ],
            agents.map((x) => [
              x.id,
              x.hostname || "-",
              stateCell(x),
              x.drained ? `yes (${x.drainedBy || "operator"})` : "no",
              searchFitness(x),
              canaryCell(x.lastCanary),
              ago(x.lastHeartbeatAt),
              `${x.coresReserved}/${x.cores}`,
              x.load1.toFixed(2),
              bytes(x.memoryFree),
              `${bytes(x.shmFree)} of ${bytes(x.shmTotal)}`,
              x.attempts.join(",") || "-",
              x.failureStreak,
            ]),
          ),
        );
        // Reasons are long: one line each under the table.
        for (const x of agents) {
          if (x.noBeamsReason) console.log(`${x.id}: no beams: ${x.noBeamsReason}`);
          if (x.endTime > 0)
            console.log(
              `${x.id}: must be done by ${new Date(x.endTime * 1000).toISOString().replace(/\.\d+Z$/, "Z")} (in ${Math.max(0, Math.round((x.endTime - Date.now() / 1000) / 60))} min): only beams expected to finish by then`,
            );
          if (x.lastCanary?.status === "failed") console.log(`${x.id}: canary run ${x.lastCanary.id} failed: ${x.lastCanary.summary}`);
          for (const f of x.capabilities?.jobTypes ?? []) {
            if (!f.fit && f.jobType !== jobTypeToWire(SEARCH_JOB_TYPE)) console.log(`${x.id}: cannot run ${jobTypeName(f.jobType)} jobs: ${f.reason}`);
          }
        }
      }),
    );

  for (const [name, drained] of [
    ["drain", true],
    ["undrain", false],
  ] as const) {
    const cmd = program
      .command(`${name} <agent>`)
      .description(drained ? "stop giving new beams to an agent (running ones finish)" : "let an agent take beams again (its failure streak starts over)")
      .option("--json", "machine-readable output");
    if (drained) cmd.option("--reason <text>", "why (shown by `agents` and the status page)");
    cmd.action(
      run(async (opts: Common & { reason?: string }, agentId: string) => {
        checkAgentId(agentId);
        const a = admin(opts);
        const v = await call(a, a.client.setDrain, { agentId, drained, reason: opts.reason ?? "" });
        if (opts.json) return printJson(v);
        console.log(`agent ${v.id}: ${drained ? "drained" : "undrained"}`);
      }),
    );
  }

  program
    .command("kill <ids...>")
    .description("fail waiting jobs for good (new or retrying; PALFA kill_jobs)")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common, args: string[]) => {
        const a = admin(opts);
        reportActions("killed", (await call(a, a.client.killJobs, { ids: ids(args) })).results, opts.json);
      }),
    );

  program
    .command("stop <ids...>")
    .description("stop running jobs: politely (requeued, not counted) or with --fail (counted)")
    .option("--fail", "count the stopped attempt as a failure")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common & { fail?: boolean }, args: string[]) => {
        const a = admin(opts);
        reportActions("stopped", (await call(a, a.client.stopJobs, { ids: ids(args), fail: !!opts.fail })).results, opts.json);
      }),
    );

  program
    .command("retry <ids...>")
    .description("give jobs in terminal_failure a new round of attempts")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common, args: string[]) => {
        const a = admin(opts);
        reportActions("retried", (await call(a, a.client.retryJobs, { ids: ids(args) })).results, opts.json);
      }),
    );

  program
    .command("add-files [paths...]")
    .description("register raw data files; a job is created for every complete beam")
    .option("--glob <pattern>", "files matching a glob (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option(
      "--param <key=value>",
      "a palfa-search parameter for these beams' jobs, e.g. low_DM_cutoff=1.0 (repeatable)",
      (v: string, acc: string[]) => [...acc, v],
      [] as string[],
    )
    .option("--watch <dir>", "keep watching DIR and register each file once its size has been stable for --stable-s seconds (until Ctrl-C)")
    .option("--stable-s <s>", "with --watch: seconds a file must stay unchanged", "30")
    .option("--poll-s <s>", "with --watch: scan every S seconds instead of using inotify (NFS, Lustre)", "0")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common & { glob: string[]; param: string[]; watch?: string; stableS: string; pollS: string }, paths: string[]) => {
        const path = await import("node:path");
        const fs = await import("node:fs");
        if (opts.watch) {
          const a = admin(opts);
          const searchParamsJson = paramsJson(opts.param);
          return watchAndAdd(a, opts.watch, { stableS: Number(opts.stableS), pollS: Number(opts.pollS), searchParamsJson, json: !!opts.json }, (p) =>
            call(a, a.client.addFiles, { paths: p, globs: [], searchParamsJson }),
          );
        }
        if (paths.length === 0 && opts.glob.length === 0) throw usageError("no files given (paths, or --glob PATTERN)");
        for (const p of paths) checkPath(p, "file name");
        for (const g of opts.glob) checkPath(g, "--glob pattern");
        const searchParamsJson = paramsJson(opts.param);
        // On the coordinator's host (the admin socket is local), so a missing file is said here, before anything is sent.
        const missing = paths.filter((p) => !fs.existsSync(p) && !isSymlink(fs, p));
        if (missing.length) throw new CliError(`no such file: ${missing.join(", ")}; nothing was registered`, EXIT.notFound);
        const a = admin(opts);
        const r = await call(a, a.client.addFiles, {
          paths: paths.map((p) => path.resolve(p)),
          globs: opts.glob.map((g) => path.resolve(g)),
          searchParamsJson,
        });
        const rejected = () => {
          if (r.rejected.length) throw new CliError(`${r.rejected.length} file${r.rejected.length > 1 ? "s" : ""} rejected`, EXIT.refused);
        };
        if (opts.json) {
          printJson(r);
          return rejected();
        }
        for (const f of r.added) console.log(`added ${f.path} (${formatSize(f.size)}, sha256 ${f.sha256.slice(0, 16)}…)`);
        for (const s of r.skipped) console.log(`skipped ${s}: registered already`);
        for (const x of r.rejected) console.log(`rejected ${x.path}: ${x.reason}`);
        for (const g of r.unmatchedGlobs) console.log(`no file matches ${g}`);
        for (const w of r.waiting) console.log(`waiting: ${w}`);
        console.log(
          `${r.jobsCreated.length} job${r.jobsCreated.length === 1 ? "" : "s"} created${r.jobsCreated.length ? `: ${r.jobsCreated.join(", ")}` : ""}`,
        );
        rejected();
      }),
    );

  program
    .command("submit <argv...>")
    .description("submit a job that runs one command (e.g. beamflow submit -- sh -c 'echo hi')")
    .option("--name <name>", "a label shown as the job's beam", textOption("--name"), "command")
    .option("--count <n>", `submit this many copies (1 to ${MAX_COUNT})`, intOption(1, MAX_COUNT), 1)
    .option("--cores <n>", "cores to reserve (at least 1)", intOption(1, 65_535), 1)
    .option("--timeout <s>", "step timeout in whole seconds (0: none)", intOption(0), 0)
    .option("--force", "queue it even if no registered agent offers the cores asked for")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common & { name: string; count: number; cores: number; timeout: number; force?: boolean }, argv: string[]) => {
        if (argv.length === 0 || argv[0].trim() === "")
          throw usageError(`empty command: give the program to run after '--', e.g. beamflow submit -- sh -c 'echo hi'`);
        const nul = argv.find((x) => x.includes("\0"));
        if (nul !== undefined) throw usageError(`command argument holds a NUL byte: ${JSON.stringify(nul)}`);
        const a = admin(opts);
        const r = await call(a, a.client.submitCommandJob, {
          name: opts.name,
          steps: [{ name: "command", argv, timeoutS: opts.timeout, idleTimeoutS: 0 }],
          cores: opts.cores,
          memory: 0,
          shm: 0,
          count: opts.count,
          force: opts.force ?? false,
        });
        if (opts.json) return printJson(r);
        console.log(`submitted job${r.jobIds.length > 1 ? "s" : ""} ${r.jobIds.join(", ")}`);
      }),
    );

  program
    .command("status")
    .description("jobs by state, agents, beams per hour and in the last 24 h")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common) => {
        const a = admin(opts);
        const s = await call(a, a.client.status, {});
        if (opts.json) return printJson(s);
        console.log(
          table(
            ["job state", "count"],
            s.jobs.map((c) => [c.status, c.count]),
          ),
        );
        console.log(
          table(
            ["attempt state", "count"],
            s.attempts.map((c) => [c.status, c.count]),
          ),
        );
        console.log(`agents: ${s.agentsConnected} connected of ${s.agentsTotal}`);
        console.log(`beams processed: ${s.beamsPerHourLastHour} in the last hour, ${s.beamsLast24h} in the last 24 h, ${s.beamsTotal} in all`);
        console.log(`coordinator up ${duration(s.uptimeS)}`);
      }),
    );
}

/** "now: searching, DM pass 3/6, 120/156 DM trials, running 5m12s, about 1m40s left" */
export function progressLine(p: ProgressView): string {
  const parts = [`now: ${p.phase}`];
  if (p.passes) parts.push(`DM pass ${p.pass}/${p.passes}`);
  if (p.dmTrials) parts.push(`${p.dmTrialsDone}/${p.dmTrials} DM trials searched`);
  parts.push(`running ${duration(p.elapsedS)}`);
  if (p.etaS !== undefined) parts.push(`about ${duration(p.etaS)} left`);
  return parts.join(", ");
}

function isSymlink(fs: typeof import("node:fs"), p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
