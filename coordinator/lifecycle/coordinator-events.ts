// What the coordinator announces, for the parts that listen (notices, the uploader, the
// status page, log followers, metrics): one typed emitter, handed to each listener
// instead of the whole coordinator.
import type { EventEmitter } from "node:events";
import type { JobOutcome } from "../tracker/rows";
import type { JobMoveCause } from "./job-lifecycle";

export interface CoreEvents {
  /** a job changed state (an attempt ended, an operator or the dispatcher moved it, an upload ended); see JobLifecycle */
  jobChanged: [JobOutcome, JobMoveCause];
  /** bytes of a raw data file sent to an agent (FetchFile stage-in) */
  fileServed: [bytes: number];
  /** an agent reported a toolchain other than the one it had (or its first) */
  toolchainChanged: [agentId: string];
}

export type CoordinatorEvents = EventEmitter<CoreEvents>;
