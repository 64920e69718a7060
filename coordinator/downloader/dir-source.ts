// A `dir` source: files that have stopped growing in a watched directory are registered
// as add-files registers them (coordinator/ingest: checked, hashed, grouped into beams,
// a job per complete beam). A file that cannot be registered is logged with why and
// tried again only when it changes.
import type { Config } from "../../shared/config/schema";
import type { DirSourceConfig } from "../../shared/config/downloader-schema";
import type { Logger } from "../../shared/logging/logger";
import { AddFilesError, registerFiles } from "../ingest/register";
import type { Tracker } from "../tracker/tracker";
import { StableFileWatcher } from "./dir-watch";

export class DirSource {
  readonly watcher: StableFileWatcher;
  /** the last files it could not register, with why (shown by `beamflow requests`) */
  readonly problems = new Map<string, string>();
  registered = 0;

  constructor(
    readonly cfg: DirSourceConfig,
    private readonly tracker: Tracker,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly onJobs: (jobIds: number[]) => void,
  ) {
    this.watcher = new StableFileWatcher(cfg.path, {
      stableS: cfg.stable_s,
      pollS: cfg.poll_s,
      onStable: (paths) => this.register(paths),
      onError: (err) => this.log.warn({ err: err.message }, "watching the directory"),
    });
  }

  start(): void {
    this.watcher.ignore(this.tracker.files.tracked().map((f) => f.filename));
    this.watcher.start();
  }

  stop(): void {
    this.watcher.stop();
  }

  private async register(paths: string[]): Promise<void> {
    try {
      await this.registerBatch(paths);
    } catch (err) {
      if (!(err instanceof AddFilesError) || paths.length === 1) throw err;
      // One bad file must not hold the others back: register them one by one.
      for (const p of paths) await this.registerBatch([p]).catch((e: Error) => this.note(p, e.message));
    }
  }

  private async registerBatch(paths: string[]): Promise<void> {
    try {
      const r = await registerFiles(this.tracker, paths, this.config);
      this.registered += r.added.length;
      for (const a of r.added) this.problems.delete(a.path);
      for (const x of r.rejected) this.note(x.path, x.reason);
      if (r.added.length)
        this.log.info({ added: r.added.length, jobs: r.jobsCreated, waiting: r.waiting.length }, "registered files from the watched directory");
      if (r.jobsCreated.length) this.onJobs(r.jobsCreated);
    } catch (err) {
      if (err instanceof AddFilesError && paths.length === 1) this.note(paths[0], err.problems[0]?.reason ?? err.message);
      else throw err;
    }
  }

  private note(p: string, why: string): void {
    this.problems.set(p, why);
    this.log.warn({ file: p, why }, "a file in the watched directory was not registered");
  }
}
