// Files that have stopped growing in a directory: each regular file (not a dot file)
// is reported once its size and mtime have stayed the same for `stableS` seconds.
// inotify (fs.watch) makes it notice new files at once where the kernel sees the
// writes; on NFS or Lustre, where writes from other hosts raise no events, `pollS`
// scans on a timer instead. Either way a rescan runs while files are settling.
import fs from "node:fs";
import path from "node:path";

export interface StableWatchOptions {
  stableS: number;
  /** 0: fs.watch plus a rescan every `rescanS`; > 0: scan every pollS seconds only */
  pollS: number;
  rescanS?: number;
  /** called with files that became stable (absolute paths); the promise is awaited before the next batch */
  onStable: (paths: string[]) => Promise<void>;
  onError?: (err: Error) => void;
}

interface Seen {
  size: number;
  mtimeMs: number;
  since: number;
}

export class StableFileWatcher {
  private readonly seen = new Map<string, Seen>();
  /** Paths reported already (or to ignore), with the size and mtime they had then. */
  private readonly done = new Map<string, string>();
  private watcher: fs.FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(
    readonly dir: string,
    private readonly opts: StableWatchOptions,
  ) {}

  /** Paths not to report (tracked already); a file that later changes is reported again. */
  ignore(paths: Iterable<string>): void {
    for (const p of paths) this.done.set(p, "*");
  }

  start(): void {
    if (this.opts.pollS === 0) {
      try {
        this.watcher = fs.watch(this.dir, { persistent: false }, () => this.kick());
        this.watcher.on("error", (err) => this.opts.onError?.(err));
      } catch (err) {
        this.opts.onError?.(err as Error); // no inotify here: the rescan timer still finds files
      }
    }
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    if (this.timer) clearTimeout(this.timer);
  }

  /** Scans now (or right after the scan under way). */
  kick(): void {
    if (this.stopped) return;
    if (this.scanning) {
      this.again = true;
      return;
    }
    this.scanning = this.scan()
      .catch((err) => this.opts.onError?.(err as Error))
      .finally(() => {
        this.scanning = null;
        if (this.again) {
          this.again = false;
          this.kick();
        } else this.arm();
      });
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const settling = this.seen.size > 0;
    const every = this.opts.pollS > 0 ? this.opts.pollS : settling ? Math.max(0.2, Math.min(this.opts.stableS / 2, 5)) : (this.opts.rescanS ?? 60);
    this.timer = setTimeout(() => this.kick(), every * 1000);
    this.timer.unref();
  }

  private async scan(): Promise<void> {
    const now = Date.now();
    const entries = await fs.promises.readdir(this.dir, { withFileTypes: true });
    const present = new Set<string>();
    const stable: string[] = [];
    for (const e of entries) {
      if (e.name.startsWith(".") || !(e.isFile() || e.isSymbolicLink())) continue;
      const p = path.join(this.dir, e.name);
      let st: fs.Stats;
      try {
        st = await fs.promises.stat(p);
      } catch {
        continue; // gone meanwhile
      }
      if (!st.isFile()) continue;
      present.add(p);
      const key = `${st.size}:${st.mtimeMs}`;
      const d = this.done.get(p);
      if (d === "*" || d === key) continue;
      const s = this.seen.get(p);
      if (!s || s.size !== st.size || s.mtimeMs !== st.mtimeMs) {
        this.seen.set(p, { size: st.size, mtimeMs: st.mtimeMs, since: now });
        continue;
      }
      if (now - s.since >= this.opts.stableS * 1000) stable.push(p);
    }
    for (const p of this.seen.keys()) if (!present.has(p)) this.seen.delete(p);
    if (stable.length === 0) return;
    for (const p of stable) {
      const s = this.seen.get(p)!;
      this.done.set(p, `${s.size}:${s.mtimeMs}`);
      this.seen.delete(p);
    }
    await this.opts.onStable(stable.sort());
  }
}
