// The one path by which a job moves on the coordinator's initiative or an agent's
// word: the tracker's transaction first, then, in this order, the attempt's
// reservation released, the `jobChanged` listeners told (uploader, canary runs,
// delete_rawdata, notices), the agent's failure streak weighed, and the dispatcher
// woken. Sessions, the lease clock, the operator's stop/kill/retry and the
// dispatcher's precheck all come here instead of doing a part of it themselves.
import type { Tracker } from "../tracker/tracker";
import type { JobOutcome } from "../tracker/rows";

/**
 * What moved the job, for listeners that care: an operator's kill or retry is no news
 * about the beam (no notice, its raw data kept so it can be tried again).
 */
export type JobMoveCause = "attempt" | "stop" | "kill" | "retry" | "precheck" | "upload";
/**
 * Whether a move tells something about the beam (notices, canary verdicts, delete_rawdata
 * listen only to these): an operator's kill or retry is bookkeeping, not news.
 */
export const isNewsOfTheBeam = (cause: JobMoveCause): boolean => cause !== "kill" && cause !== "retry";

export interface JobLifecycleDeps {
  tracker: Tracker;
  /** Frees what the attempt reserved on its agent. */
  release: (attemptId: number, agentId: string) => void;
  /** Tells the `jobChanged` listeners. */
  announce: (outcome: JobOutcome, cause: JobMoveCause) => void;
  /** Drains the agent if its failures in a row now span enough beams. */
  afterFailure: (agentId: string) => void;
  /** Tells the agent holding an attempt to stop it, if that agent is connected. */
  cancelOnAgent: (agentId: string, attemptId: number, reason: string) => void;
  /** Wakes the dispatcher (calls in one tick coalesce). */
  schedule: () => void;
  maxAttempts: number;
  /** a counted failure's retry waits this long, doubled for each earlier one (jobs.retry_backoff_s) */
  retryBackoffS?: number;
}

export class JobLifecycle {
  constructor(private readonly d: JobLifecycleDeps) {}

  /** Not accepted in time, refused, or given to an agent that came back without it: requeued, nothing counted. */
  withdraw(attemptId: number, agentId: string, reason: string): JobOutcome {
    return this.endAttempt(attemptId, agentId, () => this.d.tracker.withdraw(attemptId, reason), false);
  }

  /**
   * The lease ran out, or the agent dropped the attempt: requeued, nothing counted.
   * `alongside`, here and below: writes that land in the same transaction as the move (the
   * result's step records), before anyone is told of it.
   */
  lose(attemptId: number, agentId: string, reason: string, alongside?: () => void): JobOutcome {
    return this.endAttempt(attemptId, agentId, () => this.d.tracker.lose(attemptId, reason), false, alongside);
  }

  succeed(attemptId: number, agentId: string, alongside?: () => void): JobOutcome {
    return this.endAttempt(attemptId, agentId, () => this.d.tracker.succeed(attemptId, agentId), false, alongside);
  }

  /** A payload failure (or the node's, by its error class): see Tracker.fail. */
  fail(attemptId: number, agentId: string, errorClass: string, details: string, alongside?: () => void): JobOutcome {
    return this.endAttempt(
      attemptId,
      agentId,
      () => this.d.tracker.fail(attemptId, agentId, errorClass, details, this.d.maxAttempts, this.d.retryBackoffS),
      true,
      alongside,
    );
  }

  /**
   * An operator stops a running job. The attempt's reservation stays until its agent lets
   * go of it (its result or next heartbeat): the search is still running there until the
   * cancel arrives.
   */
  stop(jobId: number, countAsFailure: boolean): JobOutcome {
    const { outcome, attempt } = this.d.tracker.stop(jobId, countAsFailure, this.d.maxAttempts);
    this.d.cancelOnAgent(attempt.agent_id, attempt.id, countAsFailure ? "stopped by an operator (counted)" : "stopped by an operator");
    return this.moved(outcome, "stop");
  }

  /** An operator kills a waiting job. */
  kill(jobId: number): JobOutcome {
    return this.moved(this.d.tracker.kill(jobId), "kill");
  }

  /** An operator asks for a new round of attempts (or of uploads, for an upload_failed job). */
  retry(jobId: number): JobOutcome {
    return this.moved(this.d.tracker.retry(jobId), "retry");
  }

  /** The beam cannot be searched as it stands: it fails for good before any agent hears of it. */
  failPrecheck(jobId: number, details: string): JobOutcome {
    return this.moved(this.d.tracker.failPrecheck(jobId, details), "precheck");
  }

  /** `failed`: the attempt ends in a state that counts toward its agent's failure streak (states.ts STREAK_ATTEMPT_STATES; every fail does). */
  private endAttempt(attemptId: number, agentId: string, move: () => JobOutcome, failed: boolean, alongside?: () => void): JobOutcome {
    const outcome = alongside
      ? this.d.tracker.transaction(() => {
          alongside();
          return move();
        })
      : move();
    this.d.release(attemptId, agentId);
    this.d.announce(outcome, "attempt");
    if (failed) this.d.afterFailure(agentId);
    this.d.schedule();
    return outcome;
  }

  private moved(outcome: JobOutcome, cause: JobMoveCause): JobOutcome {
    this.d.announce(outcome, cause);
    this.d.schedule();
    return outcome;
  }
}
