// Heartbeats: every interval (with jitter) the agent measures its resources and
// tells the coordinator what it holds and what it can run; the heartbeat renews the
// leases of its attempts. A change of what it can run is told at once (beatNow)
// rather than at the next beat.
import type { AgentMessage, HeldAttempt, Resources } from "../../shared/gen/agent";
import type { Capabilities } from "../../shared/gen/common";
import { jitter } from "./jitter";

export interface HeartbeatOptions {
  /** measures the node's resources now */
  measure: () => Promise<Resources>;
  held: () => HeldAttempt[];
  capabilities: () => Capabilities;
  /** when the agent must be done (unix seconds; 0: no end) */
  endTime: () => number;
  /** whether a welcomed stream is up to send on */
  connected: () => boolean;
  send: (msg: AgentMessage) => void;
  /** numbers each heartbeat for its acknowledgement (LeaseFence) */
  nextSeq: () => number;
}

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  /** the last measured resources, for a heartbeat that cannot wait for a new measurement */
  private lastResources: Resources | undefined;

  constructor(private readonly o: HeartbeatOptions) {}

  /** Measures the resources, keeping them for sendLast. */
  async measure(): Promise<Resources> {
    const resources = await this.o.measure();
    this.lastResources = resources;
    return resources;
  }

  async beatNow(): Promise<void> {
    if (!this.o.connected()) return;
    const resources = await this.measure();
    this.o.send(this.message(resources));
  }

  /**
   * A heartbeat with the last measured resources, sent at once: what the agent can
   * run must reach the coordinator before the refusal of a job it can no longer run
   * (the stream keeps order), and a new measurement would let the refusal overtake it.
   */
  sendLast(): void {
    if (this.lastResources) this.o.send(this.message(this.lastResources));
  }

  private message(resources: Resources): AgentMessage {
    return {
      body: {
        $case: "heartbeat",
        value: { resources, held: this.o.held(), capabilities: this.o.capabilities(), seq: this.o.nextSeq(), endTime: this.o.endTime() },
      },
    };
  }

  start(intervalS: number): void {
    this.stop();
    const next = () => {
      this.timer = setTimeout(() => {
        void this.beatNow().finally(() => {
          if (this.timer) next();
        });
      }, jitter(intervalS, 0.1) * 1000);
    };
    next();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
