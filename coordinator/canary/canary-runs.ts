// Canary runs: a synthetic beam with a known pulsar, searched on one chosen agent
// through the normal path (staging, the agent's own toolchain, results pushed back
// and verified), then judged here: the pulsar must be the top candidate. A node
// whose programs run but find nothing, or find the pulsar at the wrong DM, passes
// every other check; this one drains it, with the reason, and says so in a notice.
//
// Runs start by hand (`beamflow canary`), every canary.every_h hours on each agent
// fit for searches, and when an agent reports a new toolchain. Their results stay
// under <results>/canary/, are never uploaded and do not count as survey beams.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../../shared/config/schema";
import type { Logger } from "../../shared/logging/logger";
import { readAccelcandsFile } from "../../shared/presto";
import { hashFile } from "../ingest/register";
import { CANARY_JOB_TYPE, SEARCH_JOB_TYPE } from "../../shared/protocol/job-types";
import type { AgentRegistry } from "../sessions/registry";
import type { CanaryRunRow, CanaryTrigger } from "../tracker/canaries";
import { NotFound, type JobOutcome, type Tracker } from "../tracker/tracker";
import { canaryExpectation, canaryParams, canaryPulsar, writeCanaryBeam } from "./canary-beam";
import { judgeCanary, type CanaryVerdict } from "./verdict";

/** What canary runs need of the rest of the coordinator. */
export interface CanaryHooks {
  schedule: () => void;
  drain: (agentId: string, reason: string) => void;
  undrain: (agentId: string) => void;
}

/** The drain reason of a failed run starts so; a later pass lifts only such a drain. */
const DRAIN_PREFIX = "canary run";
const TICK_MS = 60_000;

export class CanaryRuns {
  private timer: NodeJS.Timeout | null = null;
  private readonly dir: string;

  constructor(
    private readonly tracker: Tracker,
    private readonly registry: AgentRegistry,
    private readonly cfg: Pick<Config, "canary" | "dispatch" | "data_dir">,
    private readonly hooks: CanaryHooks,
    private readonly log: Logger,
  ) {
    this.dir = path.join(cfg.data_dir, "canary");
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Starts a run on each agent (when none is named, on every connected agent fit for
   * searches); an agent with a run under way keeps that one. Throws NotFound for an agent
   * that was never registered.
   */
  async run(agentIds: readonly string[], trigger: CanaryTrigger): Promise<CanaryRunRow[]> {
    const ids = agentIds.length ? [...agentIds] : this.searchableAgents().map((a) => a.id);
    for (const id of ids) if (!this.tracker.agent(id)) throw new NotFound("agent", id);
    // Each run is recorded before its first await, so a second call finds it under way.
    const runs = await Promise.all(ids.map((id) => this.tracker.canaries.runningOf(id)[0] ?? this.startOne(id, trigger)));
    this.hooks.schedule();
    return runs;
  }

  private async startOne(agentId: string, trigger: CanaryTrigger): Promise<CanaryRunRow> {
    const snr = this.cfg.canary.snr;
    const pulsar = canaryPulsar(crypto.randomInt(1, 2 ** 31), snr);
    const runId = this.tracker.canaries.begin({ agentId, trigger, pulsar });
    const beam = `canary-${agentId}-${runId}`;
    const file = path.join(this.dir, String(runId), `${beam}.fits`);
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const made = writeCanaryBeam(pulsar, file);
      const { sha256 } = await hashFile(made.path);
      const d = this.cfg.dispatch;
      const reservation = { cores: d.cores_per_beam, memory: d.memory_per_beam, shm: Math.ceil(made.bytes * d.shm_factor) };
      this.tracker.canaries.attachJob(
        runId,
        beam,
        { path: made.path, size: made.bytes, sha256 },
        { params: canaryParams(), noZaplist: true, agent: agentId },
        reservation,
      );
    } catch (err) {
      // Not the agent's fault: the coordinator could not make the beam. Said, nobody drained.
      this.tracker.canaries.finish(runId, false, `the canary beam could not be made: ${(err as Error).message}`);
      this.log.error({ agent: agentId, run: runId, err }, "canary beam not made");
      return this.tracker.canaries.get(runId)!;
    }
    this.log.info({ agent: agentId, run: runId, trigger, periodS: pulsar.periodS, dm: pulsar.dm }, "canary run started");
    return this.tracker.canaries.get(runId)!;
  }

  /** A job changed state: if it is a canary's, its run may be over. */
  onJobChanged(outcome: JobOutcome): void {
    if (outcome.jobType !== CANARY_JOB_TYPE) return;
    const run = this.tracker.canaries.ofJob(outcome.job);
    if (!run || run.status !== "running") return;
    if (outcome.status === "processed") return this.conclude(run, this.judge(run));
    if (outcome.status === "retrying" || outcome.status === "terminal_failure") {
      const job = this.tracker.job(outcome.job)!;
      const attempt = job.current_attempt_id == null ? undefined : this.tracker.attempt(job.current_attempt_id);
      const why = attempt ? `${attempt.status}${attempt.error_class ? ` (${attempt.error_class})` : ""}: ${attempt.details}` : job.details;
      // Withdrawn or lost attempts (a restart, a slow accept) are nobody's verdict: the run waits for the next one.
      if (outcome.status === "retrying" && attempt && ["withdrawn", "lost", "cancelled"].includes(attempt.status)) return;
      this.conclude(run, { passed: false, summary: `the search did not succeed: ${why}` });
    }
  }

  /** An agent's toolchain changed: check it, when canaries are on. */
  onToolchainChanged(agentId: string): void {
    if (this.cfg.canary.every_h <= 0) return;
    if (this.tracker.canaries.runningOf(agentId).length) return;
    this.log.info({ agent: agentId }, "toolchain changed: canary run");
    void this.run([agentId], "toolchain").catch((err) => this.log.error({ agent: agentId, err }, "canary run not started"));
  }

  private judge(run: CanaryRunRow): CanaryVerdict {
    const job = this.tracker.job(run.job_id!)!;
    const dir = job.current_attempt_id == null ? "" : (this.tracker.attempt(job.current_attempt_id)?.output_dir ?? "");
    const list = path.join(dir, `${job.beam}.accelcands`);
    if (!dir || !fs.existsSync(list)) return { passed: false, summary: `the search left no sifted candidate list (${list || "no results"})` };
    try {
      return judgeCanary(readAccelcandsFile(list), canaryExpectation({ periodS: run.period_s, dm: run.dm, snr: run.snr, seed: 0 }));
    } catch (err) {
      return { passed: false, summary: `the sifted candidate list does not read: ${(err as Error).message}` };
    }
  }

  private conclude(run: CanaryRunRow, verdict: CanaryVerdict): void {
    if (!this.tracker.canaries.finish(run.id, verdict.passed, verdict.summary)) return;
    const log = this.log.child({ agent: run.agent_id, run: run.id, job: run.job_id });
    fs.rmSync(path.join(this.dir, String(run.id)), { recursive: true, force: true });
    for (const f of run.job_id == null ? [] : this.tracker.filesOfJob(run.job_id)) this.tracker.markFileDeleted(f.id, "canary beam, removed once judged");
    if (verdict.passed) {
      log.info({ summary: verdict.summary }, "canary passed");
      const agent = this.tracker.agent(run.agent_id);
      if (agent?.drained === 1 && agent.drained_by === "auto" && agent.drain_reason.startsWith(DRAIN_PREFIX)) {
        this.hooks.undrain(run.agent_id);
        log.info("the agent's canary drain is lifted");
      }
      return;
    }
    log.warn({ summary: verdict.summary }, "canary failed: the agent is drained");
    this.hooks.drain(run.agent_id, `${DRAIN_PREFIX} ${run.id} failed (pulsar P ${(run.period_s * 1000).toFixed(3)} ms, DM ${run.dm}): ${verdict.summary}`);
  }

  private searchableAgents() {
    return this.registry.all().filter((a) => a.connected && a.unfitFor(SEARCH_JOB_TYPE) === undefined);
  }

  /** Timeouts, and the periodic runs. */
  private tick(): void {
    try {
      const nowS = Date.now() / 1000;
      for (const run of this.tracker.canaries.running()) {
        if (nowS - run.started_at > this.cfg.canary.timeout_m * 60) {
          this.conclude(run, { passed: false, summary: `not over ${this.cfg.canary.timeout_m} min after it was asked for` });
        }
      }
      const everyS = this.cfg.canary.every_h * 3600;
      if (everyS <= 0) return;
      for (const a of this.searchableAgents()) {
        const last = this.tracker.canaries.lastStartedAt(a.id);
        if (last === null || nowS - last >= everyS) {
          void this.run([a.id], "schedule").catch((err) => this.log.error({ agent: a.id, err }, "canary run not started"));
        }
      }
    } catch (err) {
      this.log.error({ err }, "canary tick failed");
    }
  }
}
