// The downloader: every configured source (downloader.sources) run by one loop, as
// PALFA's StartDownloader ran Downloader.run(): dir sources watch their directories;
// restore-api sources ask, poll, list, fetch, verify and clean up; their files share
// `numdownloads` transfer slots and one space budget. On start, transfers a previous
// run left behind are re-verified first (transfers.ts' recover).
import fs from "node:fs";
import type { Config } from "../../shared/config/schema";
import type { Logger } from "../../shared/logging/logger";
import type { Tracker } from "../tracker/tracker";
import { type BudgetSnapshot, SpaceBudget } from "./budget";
import { DirSource } from "./dir-source";
import { RestoreSource } from "./restore-source";
import { type ActiveTransfer, Transfers } from "./transfers";
import { ZaplistFollower } from "./zaplists";

export interface DownloaderSnapshot {
  budget: BudgetSnapshot;
  active: Omit<ActiveTransfer, "abort" | "lastBytes" | "lastAt">[];
  /** why nothing more is downloaded or asked for, per source ("" when it is busy) */
  waiting: { source: string; why: string }[];
  /** files a dir source could not register, with why */
  dirProblems: { source: string; path: string; why: string }[];
  numdownloads: number;
}

export class Downloader {
  readonly budget: SpaceBudget;
  readonly transfers: Transfers;
  readonly restores: RestoreSource[] = [];
  readonly dirs: DirSource[] = [];
  readonly zaplists: ZaplistFollower[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    private readonly tracker: Tracker,
    private readonly config: Config,
    private readonly log: Logger,
    /** new jobs were created: the dispatcher should look */
    private readonly onJobs: (jobIds: number[]) => void,
  ) {
    const cfg = config.downloader;
    this.budget = new SpaceBudget(cfg, tracker.downloads, cfg.dir, () => this.transfers.inflight());
    for (const s of cfg.sources) {
      const slog = log.child({ source: s.name });
      if (s.type === "dir") this.dirs.push(new DirSource(s, tracker, config, slog, onJobs));
      else {
        const r = new RestoreSource(s, tracker, config, this.budget, slog);
        this.restores.push(r);
        if (s.zaplists) this.zaplists.push(new ZaplistFollower(s.name, r.client, tracker, config.data_dir, slog));
      }
    }
    this.transfers = new Transfers(
      tracker,
      config,
      this.budget,
      (name) => this.restores.find((r) => r.cfg.name === name)?.access(),
      log.child({ part: "transfers" }),
      (jobs) => {
        if (jobs.length) this.onJobs(jobs);
        this.wake();
      },
    );
  }

  get enabled(): boolean {
    return this.config.downloader.sources.length > 0;
  }

  async start(): Promise<void> {
    if (!this.enabled) return;
    fs.mkdirSync(this.config.downloader.dir, { recursive: true });
    this.transfers.start();
    try {
      await this.transfers.recover();
    } catch (err) {
      this.log.error({ err: (err as Error).stack }, "re-verifying the transfers a previous run left failed");
    }
    for (const d of this.dirs) d.start();
    this.wake();
  }

  /** Runs a pass now (or right after the one under way). */
  wake(): void {
    if (this.stopped || this.restores.length === 0) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.running = this.pass()
      .catch((err) => this.log.error({ err: (err as Error).stack }, "downloader pass failed"))
      .finally(() => {
        this.running = null;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          setImmediate(() => this.wake());
          return;
        }
        this.timer = setTimeout(() => this.wake(), this.config.downloader.poll_s * 1000);
        this.timer.unref();
      });
  }

  private async pass(): Promise<void> {
    for (const z of this.zaplists) await z.check();
    for (const r of this.restores) await r.pass();
    this.transfers.startDue(this.restores.map((r) => r.cfg.name));
    // Requests whose last file just settled, and their clean-up, without waiting for the next tick.
    for (const r of this.restores) for (const q of this.tracker.downloads.requestsIn(r.cfg.name, "downloading")) this.tracker.downloads.settle(q.id);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.dirs) d.stop();
    this.transfers.stop();
    await this.running;
  }

  snapshot(): DownloaderSnapshot {
    const active = [...this.transfers.active.values()].map(({ abort: _a, lastBytes: _b, lastAt: _c, ...t }) => t);
    const waiting = this.restores.map((r) => ({ source: r.cfg.name, why: r.idle }));
    if (this.transfers.blocked) waiting.push({ source: "transfers", why: this.transfers.blocked });
    return {
      budget: this.budget.snapshot(),
      active,
      waiting,
      dirProblems: this.dirs.flatMap((d) => [...d.problems].map(([p, why]) => ({ source: d.cfg.name, path: p, why }))),
      numdownloads: this.config.downloader.numdownloads,
    };
  }
}
