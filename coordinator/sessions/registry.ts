// What the coordinator knows about agents in memory: which are connected, what
// they last reported, and what the dispatcher has reserved on each. The tracker
// stays the truth; this is rebuilt from it at start.
import type { CoordinatorMessage, Resources } from "../../shared/gen/agent";
import { jobTypeToWire } from "../../shared/protocol/job-types";
import type { Capabilities } from "../../shared/gen/common";
import type { Reservation } from "../tracker/tracker";

export interface AgentLink {
  send(msg: CoordinatorMessage): void;
  /** Ends the stream; with `refusal`, as refused credentials (UNAUTHENTICATED, that message): the agent stops rather than reconnect. */
  close(reason: string, refusal?: string): void;
}

export class AgentState {
  link: AgentLink | null = null;
  drained = false;
  /** the agent said it is stopping (Leaving, or a Hello saying so), until it connects again */
  leaving = false;
  /** its Hello said it holds its accepts back (Welcome's accept_with_result): assignments to it are leased from the start */
  holdsAccepts = false;
  /** when the agent must be done (unix seconds; 0: no end): a batch pilot's walltime (agent.end_time) */
  endTime = 0;
  resources: Resources | undefined;
  lastHeartbeatAt = 0;
  connectedAt = 0;
  hostname = "";
  version = "";
  labels: Record<string, string> = {};
  /** what the agent last said it can run; undefined: it never said (an older agent), taken as fit */
  capabilities: Capabilities | undefined;
  /** attempt id → what it holds on this agent */
  readonly reserved = new Map<number, Reservation>();
  /** attempts reserved since the last heartbeat: its free figures don't show them yet */
  private readonly sinceHeartbeat = new Set<number>();
  /** wire job type → why the agent cannot run it, as of the capabilities in unfitOf */
  private readonly unfit = new Map<number, string>();
  private unfitOf: Capabilities | undefined;

  constructor(readonly id: string) {}

  get connected(): boolean {
    return this.link !== null;
  }

  /** Why this agent cannot run jobs of this type, or undefined when it can (or never said). */
  unfitFor(jobType: string): string | undefined {
    // Asked for every agent in every dispatch pass: answered from a table made once per report.
    if (this.unfitOf !== this.capabilities) {
      this.unfitOf = this.capabilities;
      this.unfit.clear();
      for (const f of this.capabilities?.jobTypes ?? []) if (!f.fit) this.unfit.set(f.jobType, f.reason || "the agent reports it cannot run them");
    }
    return this.unfit.size === 0 ? undefined : this.unfit.get(jobTypeToWire(jobType));
  }

  reserve(attemptId: number, r: Reservation): void {
    this.reserved.set(attemptId, r);
    this.sinceHeartbeat.add(attemptId);
  }

  release(attemptId: number): boolean {
    this.sinceHeartbeat.delete(attemptId);
    return this.reserved.delete(attemptId);
  }

  heartbeat(resources: Resources | undefined, at: number): void {
    this.resources = resources;
    this.lastHeartbeatAt = at;
    this.sinceHeartbeat.clear();
  }

  private sum(key: keyof Reservation, only?: Set<number>): number {
    let total = 0;
    for (const [id, r] of this.reserved) if (!only || only.has(id)) total += r[key];
    return total;
  }

  /**
   * What can still be given out. Totals minus reservations bound the packing; the
   * free figures of the last heartbeat (minus what was reserved after it) catch
   * what other tenants of the node use.
   */
  free(): Reservation {
    const r = this.resources;
    if (!r) return { cores: 0, memory: 0, shm: 0 };
    const fresh = this.sinceHeartbeat;
    return {
      cores: Math.max(0, r.cores - this.sum("cores")),
      memory: Math.max(0, Math.min(r.memoryTotal - this.sum("memory"), r.memoryFree - this.sum("memory", fresh))),
      shm: Math.max(0, Math.min(r.shmTotal - this.sum("shm"), r.shmFree - this.sum("shm", fresh))),
    };
  }
}

export class AgentRegistry {
  private readonly agents = new Map<string, AgentState>();

  get(id: string): AgentState {
    let a = this.agents.get(id);
    if (!a) {
      a = new AgentState(id);
      this.agents.set(id, a);
    }
    return a;
  }

  find(id: string): AgentState | undefined {
    return this.agents.get(id);
  }

  /** Drops what is known of a removed agent. */
  forget(id: string): void {
    this.agents.delete(id);
  }

  all(): AgentState[] {
    return [...this.agents.values()];
  }

  /** Every agent, without a copy of the list (for walks that run often). */
  values(): IterableIterator<AgentState> {
    return this.agents.values();
  }

  dispatchable(): AgentState[] {
    return this.all().filter((a) => a.connected && !a.drained && a.resources);
  }

  /** Frees an attempt's reservation wherever it is held. */
  release(attemptId: number, agentId?: string): void {
    if (agentId) {
      this.agents.get(agentId)?.release(attemptId);
      return;
    }
    for (const a of this.agents.values()) if (a.release(attemptId)) return;
  }
}
