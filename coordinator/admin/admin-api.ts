// The gRPC AdminService behind the `beamflow` CLI. Each call is authenticated by
// the admin token; failures come back as gRPC errors whose message says what
// is wrong, which the CLI prints as one line.
import { stepKind } from "../../shared/protocol/step-kind";
import { waitReason } from "../dispatcher/wait-reason";
import * as grpc from "@grpc/grpc-js";
import type { AdminServiceServer, AgentView, AttemptView, JobAction, JobView, StatusReply, CanaryRunView, StepSummary } from "../../shared/gen/admin";
import { bearerToken, sameSecret } from "../../shared/protocol/auth";
import type { CoordinatorCore } from "../core";
import { expandGlobsDetailed, registerFiles } from "../ingest/register";
import { parseOverrides } from "../search/search-spec";
import { tailLog } from "../logs/tail";
import { fsck, type LiveReservations } from "../fsck/fsck";
import { NotFound, RefusedAction, type AgentRow, type AttemptRow, type StepRow } from "../tracker/tracker";
import { COUNTED_ATTEMPT_STATES, JOB_STATES } from "../tracker/states";
import type { Capabilities } from "../../shared/gen/common";
import { COMMAND_JOB_TYPE, jobTypeToWire, SEARCH_JOB_TYPE } from "../../shared/protocol/job-types";
import type { AgentState } from "../sessions/registry";
import type { CanaryRunRow } from "../tracker/rows";
import type { JobListRow } from "../tracker/reports";

/** The coordinator's reservations, as fsck checks and repairs them. */
function liveReservations(core: CoordinatorCore): LiveReservations {
  return {
    held: () => new Map(core.registry.all().map((a) => [a.id, [...a.reserved.keys()]])),
    release: (attemptId, agentId) => core.registry.release(attemptId, agentId),
    reserve: (attemptId, agentId) => {
      const a = core.tracker.attempt(attemptId);
      if (a) core.registry.get(agentId).reserve(attemptId, { cores: a.cores, memory: a.memory, shm: a.shm });
    },
    cancel: (attemptId, agentId, reason) => {
      core.registry.release(attemptId, agentId);
      core.logs.close(attemptId);
      core.cancelOnAgent(agentId, attemptId, reason);
    },
    schedule: () => core.dispatcher.schedule(),
  };
}

type Handler<Req, Res> = (req: Req) => Res | Promise<Res>;

function toServiceError(err: unknown): grpc.ServiceError {
  const e = err as Error & { code?: unknown };
  const code =
    err instanceof NotFound
      ? grpc.status.NOT_FOUND
      : err instanceof RefusedAction
        ? grpc.status.FAILED_PRECONDITION
        : typeof e.code === "number"
          ? (e.code as grpc.status)
          : grpc.status.INVALID_ARGUMENT;
  return Object.assign(new Error(e.message), { code, details: e.message, metadata: new grpc.Metadata() });
}

const REFUSED = "admin call refused: missing or wrong admin token";

/** The token check every admin call passes first; the error to answer with, if it fails. */
function refusal(md: grpc.Metadata, token: string): grpc.ServiceError | undefined {
  const given = bearerToken(md);
  if (given && sameSecret(given, token)) return undefined;
  return Object.assign(new Error(REFUSED), { code: grpc.status.UNAUTHENTICATED, details: REFUSED, metadata: new grpc.Metadata() });
}

/** Wraps a handler with the token check and error mapping. */
function unary<Req, Res>(token: string, fn: Handler<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const refused = refusal(call.metadata, token);
    if (refused) {
      callback(refused);
      return;
    }
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err) => callback(toServiceError(err)),
      );
  };
}

/** A job row with its attempt count and current agent, as one query returns them. */
/** Jobs in one ListJobs reply at most: with details cut to LIST_DETAILS_CHARS, a reply stays under 1 MB and the event loop is never held long. */
const MAX_JOBS_PAGE = 1000;
const LIST_DETAILS_CHARS = 500;

export function jobView(j: JobListRow, agents: readonly AgentState[] = [], detailsChars = Infinity): JobView {
  return {
    id: j.id,
    beam: j.beam,
    jobType: j.job_type,
    status: j.status,
    failures: j.failures,
    attempts: j.attempt_count,
    currentAttemptId: j.current_attempt_id ?? undefined,
    agentId: j.agent_id ?? "",
    details: j.details.length > detailsChars ? `${j.details.slice(0, detailsChars)}…` : j.details,
    createdAt: j.created_at,
    updatedAt: j.updated_at,
    uploadFailures: j.upload_failures,
    waiting: waitReason(j, agents),
  };
}

function stepView(s: StepRow) {
  return {
    index: s.idx,
    name: s.name,
    argv: JSON.parse(s.argv_json) as string[],
    startedAt: s.started_at,
    wallS: s.wall_s ?? 0,
    cpuS: s.cpu_s ?? 0,
    exitCode: s.exit_code ?? undefined,
    signal: s.signal,
    error: s.error,
  };
}

/** New work is refused while the coordinator's disk is full: it could not be tracked. */
function refuseWhileFull(core: CoordinatorCore): void {
  const full = core.room.full;
  if (full) throw new RefusedAction(full);
}

function attemptView(core: CoordinatorCore, a: AttemptRow, withSteps = true): AttemptView {
  const steps = core.tracker.stepsOf(a.id);
  return {
    id: a.id,
    jobId: a.job_id,
    agentId: a.agent_id,
    status: a.status,
    counted: COUNTED_ATTEMPT_STATES.includes(a.status),
    errorClass: a.error_class,
    details: a.details,
    createdAt: a.created_at,
    startedAt: a.started_at ?? 0,
    finishedAt: a.finished_at ?? 0,
    leaseExpiresAt: a.lease_expires_at,
    steps: withSteps ? steps.map(stepView) : [],
    resultsDir: a.output_dir,
    stepSummary: summarizeSteps(steps),
  };
}

/** An attempt's steps by program: how many, how many failed, their total and longest wall time. */
export function summarizeSteps(steps: readonly StepRow[]): StepSummary[] {
  const by = new Map<string, StepSummary>();
  for (const s of steps) {
    const program = stepKind(s.name);
    let x = by.get(program);
    if (!x) by.set(program, (x = { program, count: 0, failed: 0, running: 0, totalWallS: 0, longestWallS: 0, longestStep: "" }));
    x.count++;
    if (s.wall_s == null) x.running++;
    else if (s.error || s.signal || (s.exit_code != null && s.exit_code !== 0)) x.failed++;
    x.totalWallS += s.wall_s ?? 0;
    if ((s.wall_s ?? 0) >= x.longestWallS) {
      x.longestWallS = s.wall_s ?? 0;
      x.longestStep = s.name;
    }
  }
  return [...by.values()];
}

/** Why the dispatcher gives this agent no palfa-search beams now; "" when it does. */
export function noBeamsReason(row: AgentRow, live: AgentState | undefined, capabilities: Capabilities | undefined): string {
  if (row.drained === 1) return `drained${row.drained_by ? ` (${row.drained_by})` : ""}${row.drain_reason ? `: ${row.drain_reason}` : ""}`;
  if (!live?.connected) return "not connected";
  const unfit = capabilities?.jobTypes.find((f) => f.jobType === jobTypeToWire(SEARCH_JOB_TYPE) && !f.fit);
  return unfit ? `cannot run ${SEARCH_JOB_TYPE}: ${unfit.reason}` : "";
}

function storedCapabilities(row: AgentRow): Capabilities | undefined {
  return row.capabilities_json ? (JSON.parse(row.capabilities_json) as Capabilities) : undefined;
}

export function agentView(core: CoordinatorCore, row: AgentRow): AgentView {
  const live = core.registry.find(row.id);
  const capabilities = live?.capabilities ?? storedCapabilities(row);
  const reported = live?.resources ?? (JSON.parse(row.resources_json) as Partial<NonNullable<typeof live>["resources"]>) ?? {};
  const reserved = live ? [...live.reserved.values()].reduce((n, r) => n + r.cores, 0) : 0;
  return {
    id: row.id,
    hostname: live?.hostname || row.hostname,
    version: live?.version || row.version,
    state: live?.connected ? "connected" : row.last_seen_at ? "disconnected" : "never_seen",
    drained: row.drained === 1,
    lastHeartbeatAt: live?.lastHeartbeatAt || row.last_seen_at || 0,
    cores: reported?.cores ?? 0,
    coresReserved: reserved,
    load1: reported?.load1 ?? 0,
    memoryFree: reported?.memoryFree ?? 0,
    shmTotal: reported?.shmTotal ?? 0,
    shmFree: reported?.shmFree ?? 0,
    scratchFree: reported?.scratchFree ?? 0,
    attempts: live ? [...live.reserved.keys()] : [],
    labels: live?.labels ?? JSON.parse(row.labels_json),
    capabilities,
    drainReason: row.drain_reason,
    drainedBy: row.drained_by,
    drainedAt: row.drained_at ?? 0,
    failureStreak: core.tracker.failureStreak(row.id).length,
    noBeamsReason: noBeamsReason(row, live, capabilities),
    lastCanary: canaryRunView(core.tracker.canaries.latestOf(row.id)),
  };
}

export function canaryRunView<R extends CanaryRunRow | undefined>(r: R): R extends CanaryRunRow ? CanaryRunView : CanaryRunView | undefined;
export function canaryRunView(r: CanaryRunRow | undefined): CanaryRunView | undefined {
  if (!r) return undefined;
  return {
    id: r.id,
    agentId: r.agent_id,
    jobId: r.job_id ?? 0,
    trigger: r.trigger,
    periodS: r.period_s,
    dm: r.dm,
    snr: r.snr,
    status: r.status,
    summary: r.summary,
    startedAt: r.started_at,
    finishedAt: r.finished_at ?? 0,
  };
}

function perJob(ids: number[], fn: (id: number) => { status: string }): JobAction[] {
  if (ids.length === 0) throw new RefusedAction("no job ids given");
  return ids.map((id) => {
    try {
      return { id, ok: true, status: fn(id).status, error: "" };
    } catch (err) {
      if (err instanceof NotFound || err instanceof RefusedAction) return { id, ok: false, status: "", error: err.message };
      throw err;
    }
  });
}

export function adminService(core: CoordinatorCore, adminToken: string): AdminServiceServer {
  const t = core.tracker;
  return {
    listJobs: unary(adminToken, (req) => {
      if (req.status && !(JOB_STATES as readonly string[]).includes(req.status)) {
        throw new RefusedAction(`unknown job status '${req.status}' (one of: ${JOB_STATES.join(", ")})`);
      }
      const limit = Math.min(MAX_JOBS_PAGE, req.limit || 100);
      const rows = t.reports.jobPage({
        status: req.status,
        agent: req.agent,
        beam: req.beam,
        since: req.since,
        cursor: req.cursor,
        oldestFirst: req.oldestFirst,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const agents = core.registry.all();
      return { jobs: page.map((j) => jobView(j, agents, LIST_DETAILS_CHARS)), nextCursor: rows.length > limit ? page.at(-1)!.id : 0 };
    }),

    getJob: unary(adminToken, (req) => {
      const j = t.reports.jobListRow(req.id);
      if (!j) throw new NotFound("job", req.id);
      return {
        job: jobView(j, core.registry.all()),
        attempts: t.attemptsOfJob(j.id).map((a) => attemptView(core, a, !req.summaryOnly)),
        files: t.filesOfJob(j.id).map((f) => ({ id: f.id, path: f.filename, size: f.size, sha256: f.sha256 ?? "", status: f.status })),
        diagnostics: t.diagnosticsOfJob(j.id).map((d) => ({ attemptId: d.attempt_id, name: d.name, value: d.value ?? undefined, text: d.text })),
        progress: j.current_attempt_id != null ? core.progress.view(j.current_attempt_id) : undefined,
        uploads: t.uploads.ofJob(j.id).map((u) => ({
          id: u.id,
          attemptId: u.attempt_id,
          status: u.status,
          errorClass: u.error_class,
          details: u.details,
          startedAt: u.started_at,
          finishedAt: u.finished_at ?? 0,
        })),
      };
    }),

    listAgents: unary(adminToken, () => ({ agents: t.agents().map((row) => agentView(core, row)) })),

    registerAgent: unary(adminToken, (req) => {
      if (!/^[A-Za-z0-9._-]+$/.test(req.agentId)) throw new RefusedAction(`bad agent id '${req.agentId}': use letters, digits, dot, dash, underscore`);
      return { agentId: req.agentId, token: t.registerAgent(req.agentId, req.rotate) };
    }),

    setDrain: unary(adminToken, (req) => {
      if (req.drained) core.drainAgent(req.agentId, req.reason, "operator");
      else core.undrainAgent(req.agentId);
      return agentView(core, t.agent(req.agentId)!);
    }),

    killJobs: unary(adminToken, (req) => ({ results: perJob(req.ids, (id) => core.lifecycle.kill(id)) })),

    stopJobs: unary(adminToken, (req) => ({
      results: perJob(req.ids, (id) => core.lifecycle.stop(id, req.fail)),
    })),

    retryJobs: unary(adminToken, (req) => {
      // An upload_failed job goes back to processed: the uploader hears of it and starts a new round of uploads.
      return { results: perJob(req.ids, (id) => core.lifecycle.retry(id)) };
    }),

    addFiles: unary(adminToken, async (req) => {
      refuseWhileFull(core);
      const globbed = expandGlobsDetailed(req.globs);
      const paths = [...req.paths, ...globbed.paths];
      if (paths.length === 0) throw new RefusedAction(req.globs.length ? `no file matches ${req.globs.join(" ")}` : "no files given");
      const searchOverrides = parseOverrides(core.config, req.searchParamsJson);
      const r = await registerFiles(t, paths, { ...core.config, searchOverrides });
      if (r.jobsCreated.length) core.dispatcher.schedule();
      core.log.info({ added: r.added.length, jobs: r.jobsCreated, rejected: r.rejected.length }, "files added");
      return { added: r.added, skipped: r.skipped, jobsCreated: r.jobsCreated, waiting: r.waiting, rejected: r.rejected, unmatchedGlobs: globbed.unmatched };
    }),

    submitCommandJob: unary(adminToken, (req) => {
      refuseWhileFull(core);
      if (req.steps.length === 0) throw new RefusedAction("a command job needs at least one step");
      for (const s of req.steps) if (s.argv.length === 0) throw new RefusedAction(`step '${s.name}' has no command`);
      const spec = {
        commands: req.steps.map((s, i) => ({ name: s.name || `step${i + 1}`, argv: s.argv, timeout_s: s.timeoutS, idle_timeout_s: s.idleTimeoutS })),
      };
      const reservation = { cores: req.cores || 1, memory: req.memory, shm: req.shm };
      // A job no registered agent could ever run would wait forever: refused unless forced.
      const offered = t.agents().map((a) => (JSON.parse(a.resources_json) as { cores?: number }).cores ?? 0);
      if (!req.force && offered.length && reservation.cores > Math.max(...offered)) {
        throw new RefusedAction(
          `no registered agent offers ${reservation.cores} cores (the most is ${Math.max(...offered)}): it would wait forever; submit --force to queue it anyway`,
        );
      }
      const ids = t.transaction(() => {
        const out: number[] = [];
        for (let i = 0; i < Math.max(1, req.count); i++) out.push(t.createJob({ beam: req.name || "command", jobType: COMMAND_JOB_TYPE, spec, reservation }));
        return out;
      });
      core.dispatcher.schedule();
      return { jobIds: ids };
    }),

    tailLog: (call) => {
      const refused = refusal(call.metadata, adminToken);
      if (refused) {
        call.emit("error", refused);
        return;
      }
      tailLog(core, call);
    },

    runCanary: unary(adminToken, async (req) => {
      const runs = await core.canaries.run(req.agentIds, "operator");
      if (runs.length === 0) throw new RefusedAction("no agent to run a canary on: none is connected and fit for searches (name one to run it anyway)");
      return { runs: runs.map((r) => canaryRunView(r)) };
    }),

    getCanaryRuns: unary(adminToken, (req) => ({
      runs: req.ids.map((id) => {
        const r = t.canaries.get(id);
        if (!r) throw new NotFound("canary run", id);
        return canaryRunView(r);
      }),
    })),

    fsck: unary(adminToken, (req) => {
      const r = fsck(t, { repair: req.repair, resultsRoot: core.config.results.dir, reservations: liveReservations(core) });
      if (r.findings.length) core.log.warn({ findings: r.findings.length, repaired: r.findings.filter((f) => f.repaired).length }, "fsck found violations");
      return { findings: r.findings, reservationsChecked: r.reservationsChecked };
    }),

    status: unary(adminToken, (): StatusReply => {
      const nowS = Date.now() / 1000;
      const agents = t.agents();
      return {
        jobs: t.reports.jobStatusCounts(),
        attempts: t.reports.attemptStatusCounts(),
        agentsConnected: agents.filter((a) => core.registry.find(a.id)?.connected).length,
        agentsTotal: agents.length,
        beamsPerHourLastHour: t.reports.finishedBeams(nowS - 3600),
        beamsLast24h: t.reports.finishedBeams(nowS - 86400),
        beamsTotal: t.reports.finishedBeams(0),
        uptimeS: nowS - core.startedAt,
      };
    }),
  };
}
