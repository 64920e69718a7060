// Stage-in over the stream's own channel: a beam's raw file read from the
// coordinator (FetchFile) as a byte stream, for staging to copy into the work dir.
// The gRPC stream is paused while the copy cannot keep up, so a slow /dev/shm
// never holds a whole file in memory. A stream that drops before the file's last
// byte is asked for again from the byte it reached (FetchFileRequest.offset), up to
// `maxResumes` times in a row without progress, instead of starting over.
import type * as grpc from "@grpc/grpc-js";
import { PassThrough, type Readable } from "node:stream";
import type { AgentServiceClient, FileRef } from "../../shared/gen/agent";

export interface FetchOptions {
  /** Tries after a dropped stream that brought no new byte, before giving up (default 5). */
  maxResumes?: number;
  /** Pause before asking again, doubled on each try without progress (ms, default 200). */
  resumeDelayMs?: number;
  /** Told of each resume: where it resumes from and why the stream ended. */
  onResume?: (offset: number, err: Error) => void;
  /** Told of the bytes received so far, at most every `progressEveryMs` (default 2000) and at the end. */
  onProgress?: (bytes: number, size: number, bytesPerSecond: number) => void;
  progressEveryMs?: number;
}

export function fetchFromCoordinator(client: AgentServiceClient, metadata: grpc.Metadata, attemptId: number, f: FileRef, opts: FetchOptions = {}): Readable {
  const out = new PassThrough({ highWaterMark: 4 << 20 });
  const maxResumes = opts.maxResumes ?? 5;
  let received = 0;
  let fruitless = 0;
  let current: grpc.ClientReadableStream<{ data: Buffer; offset: number }> | null = null;
  const started = Date.now();
  let told = started;
  const progress = (force = false) => {
    const now = Date.now();
    if (!opts.onProgress || (!force && now - told < (opts.progressEveryMs ?? 2000))) return;
    told = now;
    opts.onProgress(received, f.size, (received / Math.max(1, now - started)) * 1000);
  };
  out.on("close", () => current?.cancel());

  const open = () => {
    const from = received;
    const stream = client.fetchFile({ attemptId, fileId: f.fileId, offset: from }, metadata);
    current = stream;
    let ended = false;
    let failed = false;
    stream.on("data", (c: { data: Buffer; offset: number }) => {
      if (c.offset !== received) {
        stream.cancel();
        out.destroy(new Error(`the coordinator sent bytes from ${c.offset} of ${f.name}, expected ${received}`));
        return;
      }
      received += c.data.length;
      progress();
      if (!out.write(c.data)) {
        stream.pause();
        out.once("drain", () => stream.resume());
      }
    });
    // grpc-js ends the stream after a failed status too ('error' first): only an OK end is the file's end.
    stream.on("end", () => {
      if (failed) return;
      ended = true;
      progress(true);
      out.end();
    });
    stream.on("error", (err: Error & { code?: number }) => {
      if (ended || out.destroyed) return;
      failed = true;
      // A refusal (not held, no such file, bad credentials) is final; a dropped stream resumes.
      const final = err.code === 7 || err.code === 5 || err.code === 16 || err.code === 3;
      fruitless = received > from ? 0 : fruitless + 1;
      if (final || fruitless > maxResumes || (f.size > 0 && received >= f.size)) {
        out.destroy(err);
        return;
      }
      opts.onResume?.(received, err);
      setTimeout(open, (opts.resumeDelayMs ?? 200) * 2 ** Math.max(0, fruitless - 1));
    });
  };
  open();
  return out;
}
