// Drained agents get no new jobs (their running attempts finish), and each drain
// records why and who decided. An operator drains by hand (`beamflow drain`);
// the coordinator drains an agent on its own when its failed attempts in a row
// span dispatch.drain_after_failures different beams: a node that fails
// whatever it is given would otherwise eat the queue's attempts (a black hole).
// Other checks (e.g. a failed canary run) drain through the same drain() call.
// Persisted in the tracker, told to the agent; an automatic drain is also a notice.
import type { Logger } from "../../shared/logging/logger";
import type { AgentDrained } from "../notify/events";
import { NotFound, type AttemptRow, type DrainedBy, type Tracker } from "../tracker/tracker";
import type { AgentRegistry } from "./registry";

/** Failed attempts named in a drain reason; the rest are counted. */
const LISTED_FAILURES = 10;
const DETAILS_CHARS = 160;

export interface DrainHooks {
  /** looks for work again (an undrained agent can take some) */
  schedule: () => void;
  notify: (event: AgentDrained) => void;
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max - 1) + "…" : flat;
}

/** "3 failed attempts in a row on 3 beams: job 4 (attempt 7) missing_program: accelsearch not found …; job 5 …" */
export function streakReason(streak: AttemptRow[]): string {
  const beams = new Set(streak.map((a) => a.job_id)).size;
  const listed = streak
    .slice(-LISTED_FAILURES)
    .map((a) => `job ${a.job_id} (attempt ${a.id}) ${a.error_class || a.status}${a.details ? `: ${oneLine(a.details, DETAILS_CHARS)}` : ""}`);
  const more = streak.length > LISTED_FAILURES ? `${streak.length - LISTED_FAILURES} earlier ones; ` : "";
  return `${streak.length} failed attempt${streak.length === 1 ? "" : "s"} in a row on ${beams} beam${beams === 1 ? "" : "s"}: ${more}${listed.join("; ")}`;
}

export class AgentDrains {
  constructor(
    private readonly tracker: Tracker,
    private readonly registry: AgentRegistry,
    /** dispatch.drain_after_failures: beams an agent's failure streak must span to drain it; 0 = never */
    private readonly drainAfterFailures: number,
    private readonly hooks: DrainHooks,
    private readonly log: Logger,
  ) {}

  /**
   * Stops giving jobs to an agent, recording why and who decided. An operator's drain
   * replaces an earlier reason; an automatic one leaves an agent that is drained already
   * as it is. Returns whether this call drained it.
   */
  drain(agentId: string, reason: string, by: DrainedBy, failures: AttemptRow[] = []): boolean {
    const row = this.tracker.agent(agentId);
    if (!row) throw new NotFound("agent", agentId);
    if (row.drained === 1 && by === "auto") return false;
    this.tracker.drain(agentId, reason, by);
    const live = this.registry.get(agentId);
    live.drained = true;
    live.link?.send({ body: { $case: "drain", value: { drained: true } } });
    const log = this.log.child({ agent: agentId });
    if (by === "auto") {
      log.warn({ reason, attempts: failures.map((a) => a.id) }, "agent drained automatically");
      this.hooks.notify({
        kind: "agent_drained",
        agent: agentId,
        hostname: live.hostname || row.hostname,
        by,
        reason,
        failures: failures.map((a) => ({
          attempt: a.id,
          job: a.job_id,
          beam: this.tracker.job(a.job_id)?.beam ?? "",
          errorClass: a.error_class,
          details: a.details,
        })),
      });
    } else {
      log.info({ reason }, "agent drained by an operator");
    }
    return row.drained !== 1;
  }

  /** Lets the agent take jobs again; its failure streak starts over. */
  undrain(agentId: string): void {
    this.tracker.undrain(agentId);
    const live = this.registry.get(agentId);
    live.drained = false;
    live.link?.send({ body: { $case: "drain", value: { drained: false } } });
    this.log.info({ agent: agentId }, "agent undrained; its failure streak starts over");
    this.hooks.schedule();
  }

  /** After one of the agent's attempts failed: drains it when its streak spans enough beams. */
  afterFailure(agentId: string): void {
    if (this.drainAfterFailures === 0 || this.tracker.agent(agentId)?.drained === 1) return;
    const streak = this.tracker.failureStreak(agentId);
    const beams = new Set(streak.map((a) => a.job_id)).size;
    if (beams < this.drainAfterFailures) return;
    this.drain(agentId, streakReason(streak), "auto", streak);
  }
}
