// Stage-in over the stream's own channel: a beam's raw file read from the
// coordinator (FetchFile) as a byte stream, for staging to copy into the work dir.
// The gRPC stream is paused while the copy cannot keep up, so a slow /dev/shm
// never holds a whole file in memory.
import type * as grpc from "@grpc/grpc-js";
import { PassThrough, type Readable } from "node:stream";
import type { AgentServiceClient, FileRef } from "../../shared/gen/agent";

export function fetchFromCoordinator(client: AgentServiceClient, metadata: grpc.Metadata, attemptId: number, f: FileRef): Readable {
  const out = new PassThrough();
  const stream = client.fetchFile({ attemptId, fileId: f.fileId, offset: 0 }, metadata);
  stream.on("data", (c: { data: Buffer }) => {
    if (!out.write(c.data)) {
      stream.pause();
      out.once("drain", () => stream.resume());
    }
  });
  stream.on("end", () => out.end());
  stream.on("error", (err) => out.destroy(err));
  return out;
}
