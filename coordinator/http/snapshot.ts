// What the status page shows, read from the tracker and the agent registry in one
// go: the JSON of `GET /api/snapshot` and of each `snapshot` event on `GET /events`.
import type { Downloader } from "../downloader/downloader";
import type { LiveProgress } from "../sessions/live-progress";
import type { AgentViewDeps } from "../admin/admin-api";
import type { LogStore } from "../logs/log-store";
import type { AgentRow } from "../tracker/tracker";
import type { ProgressView } from "../../shared/gen/admin";
import { jobTypeName } from "../../shared/protocol/job-types";
import { agentView } from "../admin/admin-api";
import { ATTEMPT_STATES, JOB_STATES } from "../tracker/states";
import { listDownloads, listRequests } from "../downloader/download-api";
import type { BudgetView, DownloadView, RequestView, SourceState } from "../../shared/gen/downloads";

/** Bytes read from the end of a failed attempt's log for its last lines. */
const TAIL_BYTES = 4096;
const TAIL_LINES = 8;
const MAX_FAILED = 50;
const MAX_RUNNING = 200;
/** Agents summed up between two turns of the event loop (~0.03–0.1 ms each). */
const AGENTS_PER_SLICE = 200;

export interface FailedJob {
  id: number;
  beam: string;
  status: string;
  failures: number;
  error: string;
  updatedAt: number;
  attemptId: number | null;
  attemptStatus: string;
  errorClass: string;
  logTail: string[];
}
export interface RunningJob {
  id: number;
  beam: string;
  attemptId: number;
  attemptStatus: string;
  agentId: string;
  startedAt: number;
  logBytes: number;
  /** what a running search last said of its progress */
  progress: ProgressView | null;
}
export interface AgentSummary {
  id: string;
  hostname: string;
  state: string;
  drained: boolean;
  heartbeatAgeS: number | null;
  coresReserved: number;
  cores: number;
  load1: number;
  memoryFree: number;
  shmFree: number;
  shmTotal: number;
  attempts: number[];
  /** operator | auto, "" when not drained */
  drainedBy: string;
  /** why it gets no palfa-search beams now ("" when it does): drained with its reason, not connected, unfit */
  noBeamsReason: string;
  /** job types the agent says it cannot run, with its reason */
  unfit: { jobType: string; reason: string }[];
  /** failed attempts in a row */
  failureStreak: number;
  /** its newest canary run: running | passed | failed, when it ended, what it found */
  canary: { id: number; status: string; finishedAt: number; summary: string } | null;
}
export interface Snapshot {
  at: number;
  uptimeS: number;
  jobs: Record<string, number>;
  attempts: Record<string, number>;
  beams: { lastHour: number; last24h: number; total: number };
  agents: AgentSummary[];
  failed: FailedJob[];
  running: RunningJob[];
  /** getting data in: null when no downloader source is configured */
  downloads: {
    budget: BudgetView;
    /** transfers running now, with progress and rate */
    active: DownloadView[];
    /** files restored and waiting for a transfer slot or room in the budget */
    queued: number;
    /** the newest requests that are not cleaned up yet */
    requests: RequestView[];
    sources: SourceState[];
  } | null;
}

function countsOf(states: readonly string[], rows: { status: string; count: number }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of states) out[s] = 0;
  for (const r of rows) out[r.status] = r.count;
  return out;
}

/** The last lines of a log file, reading only its end (logs can be large). */
export function logTail(store: LogStore, attemptId: number, lines = TAIL_LINES): string[] {
  const size = store.size(attemptId);
  const buf = store.readEnd(attemptId, TAIL_BYTES);
  const all = buf.toString("utf8").replace(/\r\n?/g, "\n").split("\n");
  if (buf.length < size) all.shift(); // a partial first line
  while (all.length && all[all.length - 1] === "") all.pop();
  return all.slice(-lines);
}

/** What the status page shows is read from these. */
export interface SnapshotDeps extends AgentViewDeps {
  logs: LogStore;
  progress: LiveProgress;
  downloader: Downloader;
  startedAt: number;
}

/**
 * Built a page of agents at a time (agentView costs a few queries per agent): the coordinator
 * answers its agents between pages even on a cluster of thousands. The counts are read last, at once.
 */
export async function snapshot(deps: SnapshotDeps): Promise<Snapshot> {
  const t = deps.tracker;
  const agents: AgentSummary[] = [];
  for (let after = "", page: AgentRow[]; ; after = page[page.length - 1]!.id) {
    page = t.agentsPage(after, AGENTS_PER_SLICE);
    const nowS = Date.now() / 1000;
    for (const row of page) agents.push(agentSummary(deps, row, nowS));
    if (page.length < AGENTS_PER_SLICE) break;
    await new Promise((r) => setImmediate(r));
  }
  const nowS = Date.now() / 1000;

  const failed: FailedJob[] = t.reports.failedJobs(MAX_FAILED).map((j) => {
    const a = j.last_attempt != null ? t.attempt(j.last_attempt) : undefined;
    return {
      id: j.id,
      beam: j.beam,
      status: j.status,
      failures: j.failures,
      error: j.details || a?.details || "",
      updatedAt: j.updated_at,
      attemptId: a?.id ?? null,
      attemptStatus: a?.status ?? "",
      errorClass: a?.error_class ?? "",
      logTail: a ? logTail(deps.logs, a.id) : [],
    };
  });

  const running: RunningJob[] = t.reports.runningJobs(MAX_RUNNING).map((r) => ({
    id: r.id,
    beam: r.beam,
    attemptId: r.attempt_id,
    attemptStatus: r.attempt_status,
    agentId: r.agent_id,
    startedAt: r.started_at,
    logBytes: deps.logs.size(r.attempt_id),
    progress: deps.progress.view(r.attempt_id, nowS) ?? null,
  }));

  return {
    at: nowS,
    uptimeS: nowS - deps.startedAt,
    jobs: countsOf(JOB_STATES, t.reports.jobStatusCounts()),
    attempts: countsOf(ATTEMPT_STATES, t.reports.attemptStatusCounts()),
    beams: { lastHour: t.reports.finishedBeams(nowS - 3600), last24h: t.reports.finishedBeams(nowS - 86400), total: t.reports.finishedBeams(0) },
    agents,
    failed,
    running,
    downloads: downloadsOf(deps),
  };
}

function downloadsOf(deps: SnapshotDeps): Snapshot["downloads"] {
  if (!deps.downloader.enabled) return null;
  const d = listDownloads(deps.tracker, deps.downloader, 0);
  const r = listRequests(deps.tracker, deps.downloader, 50);
  return {
    budget: d.budget!,
    active: d.downloads.filter((x) => x.status === "downloading"),
    queued: r.requests.reduce((n, q) => n + q.pending, 0) - d.downloads.filter((x) => x.status === "downloading").length,
    requests: r.requests.filter((q) => q.status !== "cleaned_up").slice(0, 20),
    sources: d.sources,
  };
}

function agentSummary(deps: SnapshotDeps, row: AgentRow, nowS: number): AgentSummary {
  const v = agentView(deps, row);
  return {
    id: v.id,
    hostname: v.hostname,
    state: v.state,
    drained: v.drained,
    heartbeatAgeS: v.lastHeartbeatAt ? Math.max(0, nowS - v.lastHeartbeatAt) : null,
    coresReserved: v.coresReserved,
    cores: v.cores,
    load1: v.load1,
    memoryFree: v.memoryFree,
    shmFree: v.shmFree,
    shmTotal: v.shmTotal,
    attempts: v.attempts,
    drainedBy: v.drainedBy,
    noBeamsReason: v.noBeamsReason,
    failureStreak: v.failureStreak,
    unfit: (v.capabilities?.jobTypes ?? []).filter((f) => !f.fit).map((f) => ({ jobType: jobTypeName(f.jobType), reason: f.reason })),
    canary: v.lastCanary ? { id: v.lastCanary.id, status: v.lastCanary.status, finishedAt: v.lastCanary.finishedAt, summary: v.lastCanary.summary } : null,
  };
}
