// SHA-256 of a download, computed in a worker thread while the main thread receives and
// writes: on two cores the hash (the costliest part of a transfer) runs beside the
// network and disk work instead of after it. Chunks are copied into transferable buffers
// (a memcpy, far cheaper than hashing them); at most `maxBacklog` bytes wait for the worker.
import { Worker } from "node:worker_threads";

const WORKER = `
const { parentPort } = require("node:worker_threads");
const hash = require("node:crypto").createHash("sha256");
let unacked = 0;
parentPort.on("message", (m) => {
  if (m === "digest") {
    if (unacked) parentPort.postMessage({ acked: unacked });
    parentPort.postMessage({ digest: hash.digest("hex") });
    return;
  }
  hash.update(new Uint8Array(m));
  unacked += m.byteLength;
  if (unacked >= 4 << 20) {
    parentPort.postMessage({ acked: unacked });
    unacked = 0;
  }
});
`;

export class WorkerHasher {
  private readonly worker: Worker;
  private posted = 0;
  private acked = 0;
  private waiters: (() => void)[] = [];
  private result: Promise<string> | null = null;
  private failed: Error | null = null;

  constructor(private readonly maxBacklog = 32 << 20) {
    this.worker = new Worker(WORKER, { eval: true });
    this.worker.unref();
    this.worker.on("message", (m: { acked?: number; digest?: string }) => {
      if (m.acked) {
        this.acked += m.acked;
        if (this.backlog() < this.maxBacklog) this.release();
      }
    });
    this.worker.on("error", (err) => {
      this.failed = err;
      this.release();
    });
  }

  backlog(): number {
    return this.posted - this.acked;
  }

  /** Queues bytes for hashing (copied: the caller may reuse its buffer). */
  update(buf: Uint8Array): void {
    if (this.result) throw new Error("hash already digested");
    const copy = new Uint8Array(buf);
    this.posted += copy.byteLength;
    this.worker.postMessage(copy.buffer, [copy.buffer]);
  }

  /** Resolves when the backlog is below the limit (at once if it is). */
  drained(): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.backlog() < this.maxBacklog) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** The hex SHA-256 of everything queued; the worker ends. */
  digest(): Promise<string> {
    if (!this.result) {
      this.result = new Promise<string>((resolve, reject) => {
        this.worker.on("message", (m: { digest?: string }) => {
          if (m.digest) {
            resolve(m.digest);
            void this.worker.terminate();
          }
        });
        this.worker.once("error", reject);
        this.worker.postMessage("digest");
      });
    }
    return this.result;
  }

  /** Ends the worker without a digest (a transfer given up). */
  dispose(): void {
    if (!this.result) void this.worker.terminate();
  }
}
