// How long a beam is expected to take, learned from finished beams, and whether it fits
// before an agent's end (a batch pilot's walltime: agent.end_time).
//
// The estimate of a job is the ESTIMATE.percentile (nearest rank) of the newest
// ESTIMATE.window processed attempts of the same job type whose raw data size is within
// a factor of ESTIMATE.sizeFactor of the job's: a high percentile, so that one beam that
// was quick does not let a slow one start too late, and only recent ones, so that a new
// toolchain or node type is learned. With none known the job is taken to last
// dispatch.unknown_duration_s (0: assumed to fit). A job fits an agent with an end when
// now + estimate + dispatch.walltime_margin_s <= the end; an agent with no end fits all.
import type { DurationSample } from "../tracker/durations";
import type { JobRow } from "../tracker/rows";

export const ESTIMATE = {
  /** the percentile of the similar attempts' durations taken as the estimate */
  percentile: 0.9,
  /** how many of the newest similar attempts it is taken over */
  window: 50,
  /** raw sizes within this factor of each other are similar */
  sizeFactor: 1.5,
  /** samples kept per job type (the newest) */
  keepPerType: 1000,
} as const;

/** The p-quantile of the values by nearest rank (0 < p <= 1); undefined for none. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

export interface Estimate {
  seconds: number;
  /** how many finished attempts it rests on (0: none known, the configured default) */
  samples: number;
}

/** Durations of finished attempts by job type, newest last; estimates from them. */
export class DurationEstimates {
  private readonly byType = new Map<string, DurationSample[]>();
  private readonly memo = new Map<string, Estimate | undefined>();

  constructor(samples: readonly DurationSample[] = []) {
    for (const s of samples) this.add(s);
  }

  add(s: DurationSample): void {
    if (!(s.seconds >= 0)) return;
    let list = this.byType.get(s.jobType);
    if (!list) this.byType.set(s.jobType, (list = []));
    list.push(s);
    if (list.length > ESTIMATE.keepPerType) list.splice(0, list.length - ESTIMATE.keepPerType);
    this.memo.clear();
  }

  /** The learned estimate for a job of this type and raw size; undefined when no similar attempt finished yet. */
  learned(jobType: string, rawBytes: number): Estimate | undefined {
    const key = `${jobType}\u0000${rawBytes}`;
    if (this.memo.has(key)) return this.memo.get(key);
    const list = this.byType.get(jobType) ?? [];
    const similar: number[] = [];
    for (let i = list.length - 1; i >= 0 && similar.length < ESTIMATE.window; i--) {
      const s = list[i]!;
      if (similarSize(s.rawBytes, rawBytes)) similar.push(s.seconds);
    }
    const p = percentile(similar, ESTIMATE.percentile);
    const e = p === undefined ? undefined : { seconds: p, samples: similar.length };
    if (this.memo.size > 10_000) this.memo.clear();
    this.memo.set(key, e);
    return e;
  }
}

export function similarSize(a: number, b: number): boolean {
  if (a === b) return true;
  if (a <= 0 || b <= 0) return false;
  return Math.max(a, b) <= Math.min(a, b) * ESTIMATE.sizeFactor;
}

export interface WalltimeSettings {
  /** dispatch.walltime_margin_s */
  marginS: number;
  /** dispatch.unknown_duration_s (0: a job never seen is assumed to fit) */
  unknownS: number;
}

/** An agent as far as its end matters. */
export interface Ending {
  /** when it must be done (unix seconds; 0: no end) */
  endTime: number;
}

/** Whether a job is expected to finish before an agent's end. */
export class WalltimeFit {
  private readonly rawBytes = new Map<number, number>();

  constructor(
    readonly estimates: DurationEstimates,
    private readonly rawBytesOfJob: (jobId: number) => number,
    readonly settings: WalltimeSettings,
  ) {}

  /** The job's expected duration: learned, else the configured default (samples 0), else undefined (assumed to fit). */
  expected(job: Pick<JobRow, "id" | "job_type">): Estimate | undefined {
    let bytes = this.rawBytes.get(job.id);
    if (bytes === undefined) {
      bytes = this.rawBytesOfJob(job.id);
      if (this.rawBytes.size > 100_000) this.rawBytes.clear();
      this.rawBytes.set(job.id, bytes);
    }
    return this.estimates.learned(job.job_type, bytes) ?? (this.settings.unknownS > 0 ? { seconds: this.settings.unknownS, samples: 0 } : undefined);
  }

  /** Seconds the agent has left for new work (its end minus the margin); Infinity without an end. */
  left(agent: Ending, nowS = Date.now() / 1000): number {
    return agent.endTime > 0 ? agent.endTime - this.settings.marginS - nowS : Number.POSITIVE_INFINITY;
  }

  fits(job: Pick<JobRow, "id" | "job_type">, agent: Ending, nowS = Date.now() / 1000): boolean {
    if (!(agent.endTime > 0)) return true;
    const left = this.left(agent, nowS);
    if (left <= 0) return false;
    return (this.expected(job)?.seconds ?? 0) <= left;
  }
}
