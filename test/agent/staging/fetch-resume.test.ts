// Stage-in from the coordinator over a real gRPC stream on loopback: a stream that drops
// mid-file is asked for again from the byte the agent has (FetchFileRequest.offset), not
// from zero, and the staged file still matches its size and SHA-256; progress is reported.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { fetchFromCoordinator } from "../../../agent/staging/fetch";
import { stageFiles } from "../../../agent/staging/stage";
import { AgentServiceClient, AgentServiceService, type AgentServiceServer, type FetchFileRequest, type FileChunk } from "../../../shared/gen/agent";

const MiB = 1 << 20;

describe("stage-in from the coordinator resumes a dropped stream", function () {
  this.timeout(20_000);
  let dir: string;
  let server: grpc.Server;
  let client: AgentServiceClient;
  const offsets: number[] = [];
  let dropAt: number[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-stage-"));
    const unimplemented = (_call: unknown, cb?: (e: grpc.ServiceError) => void) => {
      const err = Object.assign(new Error("not here"), { code: grpc.status.UNIMPLEMENTED, details: "not here", metadata: new grpc.Metadata() });
      if (cb) cb(err);
    };
    const impl: AgentServiceServer = {
      connect: (call) => call.end(),
      pushResults: unimplemented as never,
      enrol: unimplemented as never,
      // The coordinator's FetchFile, dropping the stream after dropAt[0] bytes (once per entry).
      fetchFile(call: grpc.ServerWritableStream<FetchFileRequest, FileChunk>) {
        const { offset } = call.request;
        offsets.push(offset);
        const limit = dropAt.shift();
        const src = path.join(dir, "beam.fits");
        const stream = fs.createReadStream(src, { start: offset, highWaterMark: 256 * 1024 });
        let at = offset;
        stream.on("data", (d) => {
          const buf = d as Buffer;
          if (limit !== undefined && at + buf.length > limit) {
            stream.destroy();
            call.emit("error", Object.assign(new Error("dropped"), { code: grpc.status.UNAVAILABLE, details: "dropped" }));
            return;
          }
          call.write({ data: buf, offset: at });
          at += buf.length;
        });
        stream.on("end", () => call.end());
      },
    };
    server = new grpc.Server();
    server.addService(AgentServiceService, impl);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    client = new AgentServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(() => {
    client?.close();
    server?.forceShutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("asks again from the offset it has and stages the whole file, verified", async () => {
    const bytes = crypto.randomBytes(5 * MiB);
    fs.writeFileSync(path.join(dir, "beam.fits"), bytes);
    const sha256 = crypto.createHash("sha256").update(bytes).digest("hex");
    offsets.length = 0;
    dropAt = [2 * MiB, 3 * MiB];
    const work = path.join(dir, "work");
    fs.mkdirSync(work);
    const resumes: number[] = [];
    const progress: number[] = [];
    const ref = { fileId: 1, name: "beam.fits", path: "/nonexistent/on/this/node/beam.fits", size: bytes.length, sha256 };
    const staged = await stageFiles([ref], work, (f) =>
      fetchFromCoordinator(client, new grpc.Metadata(), 7, f, {
        resumeDelayMs: 10,
        onResume: (offset) => resumes.push(offset),
        onProgress: (b) => progress.push(b),
        progressEveryMs: 0,
      }),
    );
    assert.equal(staged.length, 1);
    assert.equal(fs.statSync(staged[0].path).size, bytes.length);
    assert.equal(offsets[0], 0);
    assert.equal(offsets.length, 3, `asked three times: ${offsets}`);
    assert.ok(offsets[1] > 0 && offsets[1] <= 2 * MiB, `the second ask resumed from the bytes received (${offsets[1]})`);
    assert.ok(offsets[2] > offsets[1] && offsets[2] <= 3 * MiB);
    assert.deepEqual(resumes, offsets.slice(1));
    assert.equal(progress.at(-1), bytes.length, "progress reported to the last byte");
  });

  it("gives up after maxResumes tries that bring nothing new", async () => {
    offsets.length = 0;
    dropAt = [0, 0, 0, 0];
    const out = fetchFromCoordinator(
      client,
      new grpc.Metadata(),
      7,
      { fileId: 1, name: "beam.fits", path: "", size: 5 * MiB, sha256: "" },
      { maxResumes: 2, resumeDelayMs: 5 },
    );
    await assert.rejects(
      new Promise((resolve, reject) => {
        out.on("data", () => {});
        out.on("end", resolve);
        out.on("error", reject);
      }),
      /dropped/,
    );
    assert.equal(offsets.length, 3);
  });
});
