// SHA-256 of a download, computed while it is received and written (one pass). Where the
// CPU hashes fast (SHA extensions: ~1.6 GB/s here, faster than the network and the disk
// write together) the hash runs in line: handing chunks to a thread would cost more in
// copies and messages than it saves. Where it is slow, it runs in a worker thread beside
// the network and disk work instead of after it; chunks are then copied into transferable
// buffers and at most `maxBacklog` bytes wait for the worker.
import crypto from "node:crypto";
import { Worker } from "node:worker_threads";

const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
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
  if (unacked >= workerData.ackEvery) {
    parentPort.postMessage({ acked: unacked });
    unacked = 0;
  }
});
`;

/** A running SHA-256 that may lag behind what it was given; `drained()` paces the caller. */
export interface StreamHasher {
  /** Queues bytes for hashing; the caller may reuse its buffer once this returns. */
  update(buf: Uint8Array): void;
  /** Resolves when the hash is not too far behind (at once if it is not). */
  drained(): Promise<void>;
  /** The hex SHA-256 of everything given; no more updates after it. */
  digest(): Promise<string>;
  /** Drops the hash without a digest (a transfer given up). */
  dispose(): void;
}

/** Hashes in the calling thread: done with each update. */
export class InlineHasher implements StreamHasher {
  private readonly hash = crypto.createHash("sha256");
  private result: string | null = null;

  update(buf: Uint8Array): void {
    if (this.result !== null) throw new Error("hash already digested");
    this.hash.update(buf);
  }

  drained(): Promise<void> {
    return Promise.resolve();
  }

  digest(): Promise<string> {
    this.result ??= this.hash.digest("hex");
    return Promise.resolve(this.result);
  }

  dispose(): void {}
}

/** Bytes per second this CPU hashes in line, from hashing 16 MiB once per process (~10 ms). */
let measuredRate: number | null = null;
function inlineHashRate(): number {
  if (measuredRate === null) {
    const sample = Buffer.alloc(16 << 20, 0x5a);
    const t0 = process.hrtime.bigint();
    crypto.createHash("sha256").update(sample).digest();
    measuredRate = sample.length / (Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return measuredRate;
}

/** In line at ≥ 1 GB/s, where SHA extensions make the hash cheaper than handing it over; else a worker. */
export const INLINE_HASH_RATE = 1e9;
export function newHasher(): StreamHasher {
  return inlineHashRate() >= INLINE_HASH_RATE ? new InlineHasher() : new WorkerHasher();
}

export class WorkerHasher implements StreamHasher {
  private readonly worker: Worker;
  private posted = 0;
  private acked = 0;
  private waiters: (() => void)[] = [];
  private result: Promise<string> | null = null;
  private failed: Error | null = null;

  constructor(private readonly maxBacklog = 32 << 20) {
    // Acknowledged in quarters of the backlog, so a waiting caller is released before it drains.
    this.worker = new Worker(WORKER, { eval: true, workerData: { ackEvery: Math.max(1, Math.min(4 << 20, maxBacklog >> 2)) } });
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
