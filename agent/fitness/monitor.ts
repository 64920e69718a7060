// Keeps the agent's capabilities current: a full check at start, then every
// fitness_check_s a cheap look (the fingerprint: where the programs are, their
// mtimes, the work dir) that triggers a full check when anything changed, a full
// check every fitness_full_check_s regardless, and one on demand (after a failed
// attempt). A change is handed to onChange, which tells the coordinator at once.
import type { Capabilities, JobType } from "../../shared/gen/common";
import { jobTypeName } from "../../shared/protocol/job-types";
import type { Logger } from "../../shared/logging/logger";

export interface FitnessChecks {
  /** the full check */
  full: () => Promise<Capabilities>;
  /** a cheap summary that changes when anything the full check looks at changes */
  fingerprint: () => string;
}

export interface FitnessSettings {
  checkS: number;
  fullCheckS: number;
}

const jobTypesKey = (c: Capabilities) => JSON.stringify([c.jobTypes, c.toolchain]);

export class FitnessMonitor {
  /** no job type listed until the first check: the agent does not connect before it */
  current: Capabilities = { jobTypes: [], checkedAt: 0, toolchain: "" };
  private printed = "";
  private fullAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<boolean> = Promise.resolve(false);
  private stopped = false;

  constructor(
    private readonly checks: FitnessChecks,
    private readonly settings: FitnessSettings,
    private readonly log: Logger,
    private readonly onChange: (c: Capabilities) => void | Promise<void>,
  ) {}

  async start(): Promise<void> {
    await this.recheck("agent start");
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Why this agent cannot run jobs of the type, or undefined when it can (or does not know the type). */
  unfitFor(jobType: JobType): string | undefined {
    const f = this.current.jobTypes.find((x) => x.jobType === jobType);
    return f && !f.fit ? f.reason : undefined;
  }

  /** A full check now, after any under way; resolves once a change has been handed on. True if it changed. */
  recheck(why: string): Promise<boolean> {
    this.chain = this.chain.then(
      () => this.full(why),
      () => this.full(why),
    );
    return this.chain;
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick().finally(() => this.arm());
    }, this.settings.checkS * 1000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const changed = this.checks.fingerprint() !== this.printed;
      const due = Date.now() / 1000 - this.fullAt >= this.settings.fullCheckS;
      if (changed || due) await this.recheck(changed ? "the toolchain or work dir changed" : "periodic full check");
    } catch (err) {
      this.log.error({ err }, "fitness check failed");
    }
  }

  private async full(why: string): Promise<boolean> {
    const printed = this.checks.fingerprint();
    const next = await this.checks.full();
    this.printed = printed;
    this.fullAt = Date.now() / 1000;
    const before = this.current;
    this.current = next;
    if (jobTypesKey(before) === jobTypesKey(next)) return false;
    for (const f of next.jobTypes) {
      if (f.fit) this.log.info({ jobType: jobTypeName(f.jobType), why }, `can run ${jobTypeName(f.jobType)} jobs`);
      else
        this.log.warn(
          { jobType: jobTypeName(f.jobType), reason: f.reason, why },
          `cannot run ${jobTypeName(f.jobType)} jobs: the coordinator will give it none`,
        );
    }
    await this.onChange(next);
    return true;
  }
}
