// Prometheus metrics of one coordinator, on a registry of their own (never the
// global one, so two servers in one process don't mix). Gauges are read from the
// tracker and registry at scrape time; the dispatch histogram and the counters
// are fed by hooks, which dispose() takes off again. Names follow Prometheus'
// conventions (`promtool check metrics` passes): only counters end in _total,
// times are Unix timestamps (an age is `time() - …` in the query), and
// prom-client's process_* and nodejs_* metrics keep their standard names.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { collectStandardMetrics } from "../../shared/metrics/standard";
import type { Logger } from "../../shared/logging/logger";
import type { Assigned, Dispatcher } from "../dispatcher/dispatcher";
import type { CoordinatorEvents } from "../lifecycle/coordinator-events";
import type { LogStore } from "../logs/log-store";
import type { AgentRegistry } from "../sessions/registry";
import type { AgentGaugeRow, Tracker } from "../tracker/tracker";
import type { JobUploader } from "../uploader";
import { ATTEMPT_STATES, JOB_STATES } from "../tracker/states";
import type { JobOutcome } from "../tracker/tracker";
import type { UploadTry } from "../uploader/job-uploader";

export interface CoordinatorMetrics {
  registry: Registry;
  dispose(): void;
}

/** The job states counted by beamflow_job_outcomes_total: where an attempt or an upload round ends. */
const JOB_OUTCOMES = ["processed", "retrying", "terminal_failure", "uploaded", "upload_failed"] as const;

/** What the metrics read and listen to. */
export interface MetricsDeps {
  tracker: Tracker;
  registry: AgentRegistry;
  dispatcher: Dispatcher;
  logs: LogStore;
  uploader: JobUploader;
  events: CoordinatorEvents;
  log: Logger;
}

export function coordinatorMetrics(deps: MetricsDeps): CoordinatorMetrics {
  const registry = new Registry();
  const t = deps.tracker;
  collectStandardMetrics(registry);
  // Six gauges read the agents: read once per scrape (all collect() calls run in one tick), and
  // only the columns they use; with thousands of agents each reading was tens of ms.
  let scraped: AgentGaugeRow[] | undefined;
  const agents = (): AgentGaugeRow[] => {
    if (!scraped) {
      scraped = t.agentGaugeRows();
      setImmediate(() => {
        scraped = undefined;
      });
    }
    return scraped;
  };

  new Gauge({
    name: "beamflow_jobs",
    help: "Jobs (beams) by state",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const counts = new Map(t.reports.jobStatusCounts().map((r) => [r.status, r.count]));
      for (const s of JOB_STATES) this.set({ state: s }, counts.get(s) ?? 0);
    },
  });
  new Gauge({
    name: "beamflow_attempts",
    help: "Attempts (job_submits rows) by state",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const counts = new Map(t.reports.attemptStatusCounts().map((r) => [r.status, r.count]));
      for (const s of ATTEMPT_STATES) this.set({ state: s }, counts.get(s) ?? 0);
    },
  });
  new Gauge({
    name: "beamflow_agents_connected",
    help: "Registered agents connected now",
    registers: [registry],
    collect() {
      this.set(agents().filter((a) => deps.registry.find(a.id)?.connected).length);
    },
  });
  new Gauge({
    name: "beamflow_agents_registered",
    help: "Registered agents whose credential is accepted (removed and revoked ones are not counted)",
    registers: [registry],
    collect() {
      this.set(agents().filter((a) => a.revoked_at == null).length);
    },
  });
  new Gauge({
    name: "beamflow_agents_revoked",
    help: "Agents an operator revoked and has not removed yet",
    registers: [registry],
    collect() {
      this.set(agents().filter((a) => a.revoked_at != null).length);
    },
  });
  new Gauge({
    name: "beamflow_agent_last_heartbeat_timestamp_seconds",
    help: "Unix time of each agent's last heartbeat (or last sighting); its age is time() - this",
    labelNames: ["agent"],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of agents()) {
        if (row.revoked_at != null) continue;
        const last = deps.registry.find(row.id)?.lastHeartbeatAt || row.last_seen_at || 0;
        if (last) this.set({ agent: row.id }, last);
      }
    },
  });
  new Gauge({
    name: "beamflow_agent_cores_reserved",
    help: "Cores reserved by attempts on each agent",
    labelNames: ["agent"],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of agents()) {
        if (row.revoked_at != null) continue;
        const live = deps.registry.find(row.id);
        this.set({ agent: row.id }, live ? [...live.reserved.values()].reduce((n, r) => n + r.cores, 0) : 0);
      }
    },
  });
  new Gauge({
    name: "beamflow_agent_cores",
    help: "Cores each agent offers (as last reported)",
    labelNames: ["agent"],
    registers: [registry],
    collect() {
      this.reset();
      for (const row of agents()) {
        if (row.revoked_at != null) continue;
        const live = deps.registry.find(row.id);
        const reported = live?.resources ?? (JSON.parse(row.resources_json || "null") as { cores?: number } | null);
        this.set({ agent: row.id }, reported?.cores ?? 0);
      }
    },
  });

  // ---- jobs finished, by outcome ----
  const outcomes = new Counter({
    name: "beamflow_job_outcomes_total",
    help: "Jobs that reached an outcome since this coordinator started: processed, retrying (an attempt failed, another follows), terminal_failure, uploaded, upload_failed (a job counts again when it reaches one again, e.g. after `beamflow retry`)",
    labelNames: ["outcome"],
    registers: [registry],
  });
  for (const outcome of JOB_OUTCOMES) outcomes.inc({ outcome }, 0);
  const countOutcome = (o: JobOutcome) => {
    if ((JOB_OUTCOMES as readonly string[]).includes(o.status)) outcomes.inc({ outcome: o.status });
  };
  deps.events.on("jobChanged", countOutcome);

  // ---- dispatch latency: from the moment a job became waiting to its assignment ----
  const dispatch = new Histogram({
    name: "beamflow_dispatch_latency_seconds",
    help: "Time from a job becoming waiting (new or retrying) to its assignment to an agent",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
    registers: [registry],
  });
  /** job id → when it went back to waiting, as seen through "jobChanged" */
  const requeuedAt = new Map<number, number>();
  const onJobChanged = (o: JobOutcome) => {
    if (o.status === "retrying") requeuedAt.set(o.job, Date.now() / 1000);
    else requeuedAt.delete(o.job);
  };
  deps.events.on("jobChanged", onJobChanged);
  const previousOnAssigned = deps.dispatcher.onAssigned;
  let disposed = false;
  const onAssigned = (a: Assigned) => {
    previousOnAssigned(a);
    if (disposed) return;
    try {
      const { job } = a;
      // The waiting start: the requeue we saw, else the end of the previous attempt (a job
      // that had one), else the job's creation.
      let since = requeuedAt.get(job.id) ?? 0;
      if (!requeuedAt.has(job.id) && job.current_attempt_id != null)
        for (const p of t.attemptsOfJob(job.id)) if (p.id !== a.attemptId && p.finished_at != null) since = Math.max(since, p.finished_at);
      requeuedAt.delete(job.id);
      dispatch.observe(Math.max(0, a.at - Math.max(job.created_at, since)));
    } catch (err) {
      deps.log.warn({ err }, "dispatch latency metric failed");
    }
  };
  deps.dispatcher.onAssigned = onAssigned;

  // ---- log bytes stored ----
  const logBytes = new Counter({
    name: "beamflow_log_bytes_stored_total",
    help: "Bytes of attempt logs stored since this server started",
    registers: [registry],
  });
  const onAppend = (_attemptId: number, bytes: number) => logBytes.inc(bytes);
  deps.logs.on("append", onAppend);

  // ---- stage-in served, uploads ----
  const stageIn = new Counter({
    name: "beamflow_stage_in_bytes_total",
    help: "Bytes of raw data sent to agents by FetchFile (rate() gives the stage-in rate; shared-filesystem staging is counted on the agents)",
    registers: [registry],
  });
  const onServed = (bytes: number) => stageIn.inc(bytes);
  deps.events.on("fileServed", onServed);
  const uploads = new Histogram({
    name: "beamflow_upload_duration_seconds",
    help: "Time of each try at uploading a beam's results to the results DB, by outcome",
    labelNames: ["outcome"],
    registers: [registry],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  });
  const onUpload = (u: UploadTry) => uploads.observe({ outcome: u.outcome }, u.seconds);
  deps.uploader.on("finished", onUpload);

  return {
    registry,
    dispose() {
      disposed = true;
      deps.events.off("jobChanged", onJobChanged);
      deps.events.off("jobChanged", countOutcome);
      deps.logs.off("append", onAppend);
      deps.events.off("fileServed", onServed);
      deps.uploader.off("finished", onUpload);
      if (deps.dispatcher.onAssigned === onAssigned) deps.dispatcher.onAssigned = previousOnAssigned;
      registry.clear();
    },
  };
}
