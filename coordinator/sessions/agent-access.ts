// The end of an agent's access, with its consequences: a revoked agent's stream is
// closed with the reason and its live attempts go back to the queue (not counted);
// a removed agent disappears; ephemeral agents (pilots) are removed when they leave
// cleanly, and when they have been gone ephemeral_gone_s with no live attempt.
import type { Logger } from "../../shared/logging/logger";
import type { JobLifecycle } from "../lifecycle/job-lifecycle";
import type { LogStore } from "../logs/log-store";
import { AccessRefused } from "../tracker/agent-access";
import type { Tracker } from "../tracker/tracker";
import { IllegalTransition } from "../tracker/transitions";
import type { LiveProgress } from "./live-progress";
import type { AgentRegistry } from "./registry";

export interface AgentAccessDeps {
  tracker: Tracker;
  registry: AgentRegistry;
  lifecycle: JobLifecycle;
  logs: LogStore;
  progress: LiveProgress;
  /** an ephemeral agent not seen for this long, with no live attempt, is removed (seconds) */
  ephemeralGoneS: number;
  log: Logger;
}

/** What a revoked agent is told, on its open stream and on every later call. */
export const revokedMessage = (agentId: string) =>
  `agent '${agentId}' was revoked by an operator: its credential is refused (re-admit it with 'beamflow register-agent ${agentId} --rotate')`;

export class AgentAccessControl {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly d: AgentAccessDeps) {}

  /**
   * Refuses the agent's credential from now on, requeues its live attempts (not counted: the
   * beams are not at fault) and closes its stream with the reason, so that it stops rather
   * than reconnect.
   */
  revoke(agentId: string): { requeued: number[]; wasConnected: boolean } {
    const d = this.d;
    const live = d.tracker.access.revokeAgent(agentId);
    const requeued: number[] = [];
    for (const a of live) {
      try {
        if (a.status === "assigned") d.lifecycle.withdraw(a.id, agentId, `agent ${agentId} was revoked before it accepted`);
        else d.lifecycle.lose(a.id, agentId, `agent ${agentId} was revoked by an operator`);
        requeued.push(a.id);
      } catch (err) {
        // Ended meanwhile (a result that just arrived): nothing to requeue.
        if (!(err instanceof IllegalTransition)) throw err;
      }
      d.logs.close(a.id);
      d.progress.forget(a.id);
    }
    const state = d.registry.find(agentId);
    const wasConnected = !!state?.connected;
    state?.link?.close("revoked by an operator", revokedMessage(agentId));
    if (state) state.drained = true;
    d.log.warn({ agent: agentId, requeued, wasConnected }, "agent revoked: its credential is refused, its live attempts requeued");
    return { requeued, wasConnected };
  }

  /** Deletes an agent that is gone: refused while it is connected or holds a live attempt. */
  remove(agentId: string, why = "removed by an operator"): "deleted" | "kept" {
    const d = this.d;
    if (d.registry.find(agentId)?.connected)
      throw new AccessRefused(
        "refused",
        `agent ${agentId} is connected: stop it first, or revoke it ('beamflow agents revoke ${agentId}') to cut it off, then remove it`,
      );
    const how = d.tracker.access.removeAgent(agentId);
    d.registry.forget(agentId);
    d.log.info({ agent: agentId, how, why }, "agent removed");
    return how;
  }

  /** An agent's stream ended after it said it was leaving: an ephemeral one is removed now, if it holds nothing. */
  left(agentId: string): void {
    const row = this.d.tracker.agent(agentId);
    if (!row || row.ephemeral !== 1 || row.removed_at != null) return;
    this.tryRemove(agentId, "an ephemeral agent that left cleanly");
  }

  /** Removes ephemeral agents gone longer than ephemeral_gone_s with no live attempt. */
  sweep(at = Date.now() / 1000): string[] {
    const removed: string[] = [];
    for (const row of this.d.tracker.access.goneEphemeralAgents(at - this.d.ephemeralGoneS)) {
      if (this.tryRemove(row.id, `an ephemeral agent gone for more than ${this.d.ephemeralGoneS} s`)) removed.push(row.id);
    }
    return removed;
  }

  private tryRemove(agentId: string, why: string): boolean {
    try {
      this.remove(agentId, why);
      return true;
    } catch (err) {
      // Connected again, or holding a live attempt: the sweep looks again later.
      if (!(err instanceof AccessRefused)) throw err;
      this.d.log.debug({ agent: agentId, reason: err.message }, "ephemeral agent not removed yet");
      return false;
    }
  }

  /** Sweeps every quarter of ephemeral_gone_s (between 1 s and a minute). */
  start(): void {
    const everyMs = Math.min(60, Math.max(1, this.d.ephemeralGoneS / 4)) * 1000;
    this.timer = setInterval(() => {
      try {
        this.sweep();
      } catch (err) {
        this.d.log.error({ err }, "could not remove gone ephemeral agents");
      }
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
