// When each agent was last seen and what it last reported, as its heartbeats arrive. Written
// one statement per heartbeat, that was the coordinator's busiest write: 5,000 agents
// heartbeating every 10 s are 500 commits a second. Readers that need the newest figure take
// it from the registry (the agent's own heartbeat, in memory); the tracker's copy is what a
// restarted coordinator and a disconnected agent's listing show, so it is written with every
// agent's newest report together, at most FLUSH_MS after it came.
//
// Only heartbeats that renew nothing come here: an agent holding attempts has its heartbeat
// written with their renewal, at once. The write is also the last guard of a revoked or removed
// agent's credential (revoking closes its stream at once; this catches a stream that slipped
// past): a report the tracker refuses calls the session's refusal, at most FLUSH_MS after it.
import type { Logger } from "../../shared/logging/logger";
import type { Tracker } from "../tracker/tracker";

/** How long a heartbeat may wait to be written (what `agents` may lag behind for a disconnected agent). */
export const HEARTBEAT_FLUSH_MS = 1000;

export interface HeartbeatRecordsDeps {
  tracker: Tracker;
  /** a write to the coordinator's disk failed (it may be full); false when it was another error */
  storageFailed: (err: Error, what: string) => boolean;
  log: Logger;
  flushMs?: number;
}

interface Seen {
  resources: unknown;
  /** unix seconds */
  at: number;
  /** the agent's credential no longer counts: its session closes */
  refused: () => void;
}

export class HeartbeatRecords {
  /** agent id → its newest heartbeat, not written yet */
  private readonly gathered = new Map<string, Seen>();
  private timer: NodeJS.Timeout | undefined;
  private readonly flushMs: number;

  constructor(private readonly d: HeartbeatRecordsDeps) {
    this.flushMs = d.flushMs ?? HEARTBEAT_FLUSH_MS;
  }

  report(agentId: string, resources: unknown, refused: () => void): void {
    this.gathered.set(agentId, { resources, at: Date.now() / 1000, refused });
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  /** Forgets what is gathered of an agent whose newer heartbeat was written on its own. */
  drop(agentId: string): void {
    this.gathered.delete(agentId);
  }

  /** Writes what is gathered, in one transaction; kept for the next try when the disk refuses it. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.gathered.size === 0) return;
    const batch = [...this.gathered];
    let refused: string[];
    try {
      refused = this.d.tracker.recordSeenMany(batch.map(([id, s]) => ({ id, resources: s.resources, at: s.at })));
    } catch (err) {
      if (this.d.storageFailed(err as Error, "agents' heartbeats")) {
        // Kept: newer heartbeats replace them, and the next one arms the timer again.
        return;
      }
      this.d.log.error({ err, agents: batch.length }, "could not record agents' heartbeats: dropped");
      this.gathered.clear();
      return;
    }
    this.gathered.clear();
    const gone = new Set(refused);
    for (const [id, s] of batch) if (gone.has(id)) s.refused();
  }

  /** Writes what is gathered and stops the timer (the coordinator is stopping). */
  close(): void {
    this.flush();
  }
}
