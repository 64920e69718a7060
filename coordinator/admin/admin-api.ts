// The gRPC AdminService behind the `beamflow` CLI. Each call is authenticated by
// the admin token; failures come back as gRPC errors whose message says what
// is wrong, which the CLI prints as one line.
import { stepKind } from "../../shared/protocol/step-kind";
import { waitReasons } from "../dispatcher/wait-reason";
import type { WalltimeFit } from "../dispatcher/expected-duration";
import * as grpc from "@grpc/grpc-js";
import type {
  AdminServiceServer,
  AgentView,
  AttemptView,
  EnrolTokenView,
  JobAction,
  JobView,
  StatusReply,
  CanaryRunView,
  StepSummary,
} from "../../shared/gen/admin";
import { bearerToken, sameSecret } from "../../shared/protocol/auth";
import type { Config } from "../../shared/config/schema";
import type { Logger } from "../../shared/logging/logger";
import type { CanaryRuns } from "../canary/canary-runs";
import type { Dispatcher } from "../dispatcher/dispatcher";
import type { JobLifecycle } from "../lifecycle/job-lifecycle";
import type { TailDeps } from "../logs/tail";
import type { LiveProgress } from "../sessions/live-progress";
import type { DiskRoom } from "../storage/disk-room";
import type { DrainedBy, Tracker } from "../tracker/tracker";
import { expandGlobsDetailed, registerFiles } from "../ingest/register";
import { parseOverrides } from "../search/search-spec";
import { tailLog } from "../logs/tail";
import { fsck, type LiveReservations } from "../fsck/fsck";
import { NotFound, RefusedAction, type AgentRow, type AttemptRow, type StepRow } from "../tracker/tracker";
import { COUNTED_ATTEMPT_STATES, JOB_STATES } from "../tracker/states";
import type { Capabilities } from "../../shared/gen/common";
import { COMMAND_JOB_TYPE, jobTypeToWire, SEARCH_JOB_TYPE } from "../../shared/protocol/job-types";
import type { AgentRegistry, AgentState } from "../sessions/registry";
import type { CanaryRunRow } from "../tracker/rows";
import type { JobListRow } from "../tracker/job-pages";
import { AccessRefused, enrolTokenState, type EnrolTokenRow } from "../tracker/agent-access";
import type { AgentAccessControl } from "../sessions/agent-access";

/** The coordinator's reservations, as fsck checks and repairs them. */
/** What the admin API reads and does: given by the coordinator's wiring (deps.ts). */
export interface AdminDeps extends TailDeps {
  tracker: Tracker;
  registry: AgentRegistry;
  dispatcher: Pick<Dispatcher, "schedule">;
  lifecycle: JobLifecycle;
  progress: LiveProgress;
  canaries: Pick<CanaryRuns, "run">;
  room: Pick<DiskRoom, "full">;
  /** whether a job fits before an agent's end, for its wait reason; none: not said */
  walltime?: WalltimeFit;
  config: Config;
  log: Logger;
  startedAt: number;
  drainAgent(agentId: string, reason: string, by: DrainedBy): boolean;
  undrainAgent(agentId: string): void;
  /** tells the agent holding an attempt to stop it, if that agent is connected */
  cancelOnAgent(agentId: string, attemptId: number, reason: string): void;
  /** revokes and removes agents, with their consequences */
  access: Pick<AgentAccessControl, "revoke" | "remove">;
}

/** What an agent's view needs: its row, what the registry knows live, its streak and last canary. */
export type AgentViewDeps = Pick<AdminDeps, "tracker" | "registry">;

function liveReservations(deps: AdminDeps): LiveReservations {
  return {
    held: () => new Map(deps.registry.all().map((a) => [a.id, [...a.reserved.keys()]])),
    release: (attemptId, agentId) => deps.registry.release(attemptId, agentId),
    reserve: (attemptId, agentId) => {
      const a = deps.tracker.attempt(attemptId);
      if (a) deps.registry.get(agentId).reserve(attemptId, { cores: a.cores, memory: a.memory, shm: a.shm });
    },
    cancel: (attemptId, agentId, reason) => {
      deps.registry.release(attemptId, agentId);
      deps.logs.close(attemptId);
      deps.cancelOnAgent(agentId, attemptId, reason);
    },
    schedule: () => deps.dispatcher.schedule(),
  };
}

type Handler<Req, Res> = (req: Req) => Res | Promise<Res>;

function toServiceError(err: unknown): grpc.ServiceError {
  const e = err as Error & { code?: unknown };
  const code =
    err instanceof NotFound || (err instanceof AccessRefused && err.kind === "not_found")
      ? grpc.status.NOT_FOUND
      : err instanceof RefusedAction || err instanceof AccessRefused
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

/** Jobs in one ListJobs reply at most: with details cut to LIST_DETAILS_CHARS, a reply stays under 1 MB and the event loop is never held long. */
const MAX_JOBS_PAGE = 1000;
/** Agents per ListAgents reply: each costs a few queries (its failure streak, its last canary), ~0.1 ms. */
export const MAX_AGENTS_PAGE = 200;
const LIST_DETAILS_CHARS = 500;

/** `waiting`: why a waiting job waits (waitReasons, made once for a page of jobs). */
export function jobView(j: JobListRow, waiting: (j: JobListRow) => string = () => "", detailsChars = Infinity): JobView {
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
    waiting: waiting(j),
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
function refuseWhileFull(deps: AdminDeps): void {
  const full = deps.room.full;
  if (full) throw new RefusedAction(full);
}

function attemptView(deps: AdminDeps, a: AttemptRow, withSteps = true): AttemptView {
  const steps = deps.tracker.stepsOf(a.id);
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
  if (row.revoked_at != null) return "revoked: its credential is refused";
  if (row.drained === 1) return `drained${row.drained_by ? ` (${row.drained_by})` : ""}${row.drain_reason ? `: ${row.drain_reason}` : ""}`;
  if (!live?.connected) return "not connected";
  const unfit = capabilities?.jobTypes.find((f) => f.jobType === jobTypeToWire(SEARCH_JOB_TYPE) && !f.fit);
  return unfit ? `cannot run ${SEARCH_JOB_TYPE}: ${unfit.reason}` : "";
}

function storedCapabilities(row: AgentRow): Capabilities | undefined {
  return row.capabilities_json ? (JSON.parse(row.capabilities_json) as Capabilities) : undefined;
}

export function agentView(deps: AgentViewDeps, row: AgentRow): AgentView {
  const live = deps.registry.find(row.id);
  const capabilities = live?.capabilities ?? storedCapabilities(row);
  const reported = live?.resources ?? (JSON.parse(row.resources_json) as Partial<NonNullable<typeof live>["resources"]>) ?? {};
  const reserved = live ? [...live.reserved.values()].reduce((n, r) => n + r.cores, 0) : 0;
  return {
    id: row.id,
    hostname: live?.hostname || row.hostname,
    version: live?.version || row.version,
    state: row.revoked_at != null ? "revoked" : live?.connected ? "connected" : row.last_seen_at ? "disconnected" : "never_seen",
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
    failureStreak: deps.tracker.failureStreak(row.id).length,
    noBeamsReason: noBeamsReason(row, live, capabilities),
    lastCanary: canaryRunView(deps.tracker.canaries.latestOf(row.id)),
    ephemeral: row.ephemeral === 1,
    revokedAt: row.revoked_at ?? 0,
    enrolledBy: row.enrolled_by ?? 0,
    endTime: live?.connected ? live.endTime : 0,
    leaving: live?.connected ? live.leaving : false,
  };
}

export function enrolTokenView(t: EnrolTokenRow, at = Date.now() / 1000): EnrolTokenView {
  return {
    id: t.id,
    label: t.label,
    ephemeral: t.ephemeral === 1,
    uses: t.uses,
    usesLeft: t.uses_left,
    createdAt: t.created_at,
    expiresAt: t.expires_at,
    revokedAt: t.revoked_at ?? 0,
    lastUsedAt: t.last_used_at ?? 0,
    state: enrolTokenState(t, at),
  };
}

/** An agent id as the config allows it; checked here too, for callers other than the CLI. */
function checkedAgentId(id: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new RefusedAction(`bad agent id '${id}': use letters, digits, dot, dash, underscore`);
  return id;
}

/** Lifetimes and uses an enrolment token may have: at least a second, at most a year; 1 to 100,000 uses. */
const MAX_ENROL_TTL_S = 366 * 86400;
const MAX_ENROL_USES = 100_000;

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

export function adminService(deps: AdminDeps, adminToken: string): AdminServiceServer {
  const t = deps.tracker;
  return {
    listJobs: unary(adminToken, async (req) => {
      if (req.status && !(JOB_STATES as readonly string[]).includes(req.status)) {
        throw new RefusedAction(`unknown job status '${req.status}' (one of: ${JOB_STATES.join(", ")})`);
      }
      const page = await t.reports.jobPage({
        status: req.status,
        agent: req.agent,
        beam: req.beam,
        since: req.since,
        cursor: req.cursor,
        oldestFirst: req.oldestFirst,
        limit: Math.min(MAX_JOBS_PAGE, req.limit || 100),
      });
      const waiting = waitReasons(deps.registry.all(), undefined, deps.walltime);
      return { jobs: page.jobs.map((j) => jobView(j, waiting, LIST_DETAILS_CHARS)), nextCursor: page.nextCursor };
    }),

    getJob: unary(adminToken, (req) => {
      const j = t.reports.jobListRow(req.id);
      if (!j) throw new NotFound("job", req.id);
      return {
        job: jobView(j, waitReasons(deps.registry.all(), undefined, deps.walltime)),
        attempts: t.attemptsOfJob(j.id).map((a) => attemptView(deps, a, !req.summaryOnly)),
        files: t.filesOfJob(j.id).map((f) => ({ id: f.id, path: f.filename, size: f.size, sha256: f.sha256 ?? "", status: f.status })),
        diagnostics: t.diagnosticsOfJob(j.id).map((d) => ({ attemptId: d.attempt_id, name: d.name, value: d.value ?? undefined, text: d.text })),
        progress: j.current_attempt_id != null ? deps.progress.view(j.current_attempt_id) : undefined,
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

    listAgents: unary(adminToken, (req) => {
      // One more than the page: whether another follows.
      const limit = Math.min(MAX_AGENTS_PAGE, req.limit || MAX_AGENTS_PAGE);
      const rows = t.agentsPage(req.cursor, limit + 1, req.ids);
      const page = rows.slice(0, limit);
      return { agents: page.map((row) => agentView(deps, row)), nextCursor: rows.length > limit ? page[page.length - 1]!.id : "" };
    }),

    registerAgent: unary(adminToken, (req) => {
      if (!/^[A-Za-z0-9._-]+$/.test(req.agentId)) throw new RefusedAction(`bad agent id '${req.agentId}': use letters, digits, dot, dash, underscore`);
      return { agentId: req.agentId, token: t.registerAgent(req.agentId, req.rotate) };
    }),

    createEnrolToken: unary(adminToken, (req) => {
      if (!(req.ttlS >= 1 && req.ttlS <= MAX_ENROL_TTL_S)) throw new RefusedAction(`bad lifetime ${req.ttlS} s: from 1 s to 366 days`);
      if (!(req.uses >= 1 && req.uses <= MAX_ENROL_USES)) throw new RefusedAction(`bad number of uses ${req.uses}: from 1 to ${MAX_ENROL_USES}`);
      if (/[\r\n\0]/.test(req.label)) throw new RefusedAction("the label holds a line break or NUL");
      const { row, secret } = t.access.createEnrolToken({ ttlS: req.ttlS, uses: req.uses, ephemeral: req.ephemeral, label: req.label });
      deps.log.info({ enrolToken: row.id, uses: row.uses, ephemeral: req.ephemeral, label: row.label, expiresAt: row.expires_at }, "enrolment token created");
      return { token: enrolTokenView(row), secret };
    }),

    listEnrolTokens: unary(adminToken, () => ({ tokens: t.access.enrolTokens().map((r) => enrolTokenView(r)) })),

    revokeEnrolToken: unary(adminToken, (req) => {
      const row = t.access.revokeEnrolToken(req.id);
      deps.log.info({ enrolToken: row.id }, "enrolment token revoked");
      return enrolTokenView(row);
    }),

    revokeAgent: unary(adminToken, (req) => {
      const id = checkedAgentId(req.agentId);
      const r = deps.access.revoke(id);
      return { agent: agentView(deps, t.agent(id)!), requeuedAttempts: r.requeued, wasConnected: r.wasConnected };
    }),

    removeAgent: unary(adminToken, (req) => {
      const id = checkedAgentId(req.agentId);
      return { agentId: id, keptAsHistory: deps.access.remove(id) === "kept" };
    }),

    setDrain: unary(adminToken, (req) => {
      if (req.drained) deps.drainAgent(req.agentId, req.reason, "operator");
      else deps.undrainAgent(req.agentId);
      return agentView(deps, t.agent(req.agentId)!);
    }),

    killJobs: unary(adminToken, (req) => ({ results: perJob(req.ids, (id) => deps.lifecycle.kill(id)) })),

    stopJobs: unary(adminToken, (req) => ({
      results: perJob(req.ids, (id) => deps.lifecycle.stop(id, req.fail)),
    })),

    retryJobs: unary(adminToken, (req) => {
      // An upload_failed job goes back to processed: the uploader hears of it and starts a new round of uploads.
      return { results: perJob(req.ids, (id) => deps.lifecycle.retry(id)) };
    }),

    addFiles: unary(adminToken, async (req) => {
      refuseWhileFull(deps);
      const globbed = expandGlobsDetailed(req.globs);
      const paths = [...req.paths, ...globbed.paths];
      if (paths.length === 0) throw new RefusedAction(req.globs.length ? `no file matches ${req.globs.join(" ")}` : "no files given");
      const searchOverrides = parseOverrides(deps.config, req.searchParamsJson);
      const r = await registerFiles(t, paths, { ...deps.config, searchOverrides });
      if (r.jobsCreated.length) deps.dispatcher.schedule();
      deps.log.info({ added: r.added.length, jobs: r.jobsCreated, rejected: r.rejected.length }, "files added");
      return { added: r.added, skipped: r.skipped, jobsCreated: r.jobsCreated, waiting: r.waiting, rejected: r.rejected, unmatchedGlobs: globbed.unmatched };
    }),

    submitCommandJob: unary(adminToken, (req) => {
      refuseWhileFull(deps);
      if (req.steps.length === 0) throw new RefusedAction("a command job needs at least one step");
      for (const s of req.steps) if (s.argv.length === 0) throw new RefusedAction(`step '${s.name}' has no command`);
      const spec = {
        commands: req.steps.map((s, i) => ({ name: s.name || `step${i + 1}`, argv: s.argv, timeout_s: s.timeoutS, idle_timeout_s: s.idleTimeoutS })),
      };
      const reservation = { cores: req.cores || 1, memory: req.memory, shm: req.shm };
      // A job no registered agent could ever run would wait forever: refused unless forced.
      // What agents have said they offer since this coordinator started (kept in memory: no
      // tracker scan per submit); one that never said tells nothing.
      const offered = deps.registry
        .all()
        .map((a) => a.resources?.cores ?? 0)
        .filter((cores) => cores > 0);
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
      deps.dispatcher.schedule();
      return { jobIds: ids };
    }),

    tailLog: (call) => {
      const refused = refusal(call.metadata, adminToken);
      if (refused) {
        call.emit("error", refused);
        return;
      }
      tailLog(deps, call);
    },

    runCanary: unary(adminToken, async (req) => {
      const runs = await deps.canaries.run(req.agentIds, "operator");
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
      const r = fsck(t, { repair: req.repair, resultsRoot: deps.config.results.dir, reservations: liveReservations(deps) });
      if (r.findings.length) deps.log.warn({ findings: r.findings.length, repaired: r.findings.filter((f) => f.repaired).length }, "fsck found violations");
      return { findings: r.findings, reservationsChecked: r.reservationsChecked };
    }),

    status: unary(adminToken, (): StatusReply => {
      const nowS = Date.now() / 1000;
      let connected = 0;
      for (const a of deps.registry.values()) if (a.connected) connected++;
      return {
        jobs: t.reports.jobStatusCounts(),
        attempts: t.reports.attemptStatusCounts(),
        agentsConnected: connected,
        agentsTotal: t.agentCount(),
        beamsPerHourLastHour: t.reports.finishedBeams(nowS - 3600),
        beamsLast24h: t.reports.finishedBeams(nowS - 86400),
        beamsTotal: t.reports.finishedBeams(0),
        uptimeS: nowS - deps.startedAt,
      };
    }),
  };
}
