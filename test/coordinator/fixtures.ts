// Pieces for direct tests of the coordinator's parts: a real tracker file, and a fake
// agent link that records what the coordinator sends instead of writing to a stream.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CoordinatorMessage, Resources } from "../../shared/gen/agent";
import { createTracker, openTracker } from "../../coordinator/tracker/open";
import { Tracker } from "../../coordinator/tracker/tracker";
import type { AgentLink } from "../../coordinator/sessions/registry";

/** A tracker on a fresh SQLite file in a temporary dir; dispose() closes and removes it. */
export function scratchTracker(): { tracker: Tracker; dir: string; dispose(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-coord-"));
  const file = path.join(dir, "tracker.db");
  createTracker(file);
  const tracker = new Tracker(openTracker(file));
  return {
    tracker,
    dir,
    dispose: () => {
      tracker.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An agent link that keeps every message sent to it. */
export class FakeLink implements AgentLink {
  readonly sent: CoordinatorMessage[] = [];
  closedWith: string | undefined;
  send(msg: CoordinatorMessage): void {
    this.sent.push(msg);
  }
  close(reason: string): void {
    this.closedWith = reason;
  }
  /** The bodies of one kind, in the order sent. */
  of<K extends NonNullable<CoordinatorMessage["body"]>["$case"]>(kind: K) {
    return this.sent.flatMap((m) => (m.body?.$case === kind ? [m.body.value as Extract<NonNullable<CoordinatorMessage["body"]>, { $case: K }>["value"]] : []));
  }
}

export const GiB = 1024 ** 3;
export function resources(cores: number, memory = 16 * GiB, shm = 16 * GiB): Resources {
  return { cores, load1: 0, memoryTotal: memory, memoryFree: memory, shmTotal: shm, shmFree: shm, scratchFree: 100 * GiB };
}
