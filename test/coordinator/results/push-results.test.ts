// Stage-out over real gRPC: an agent's results pushed to a real coordinator, with
// crafted pushes from a client built from the .proto files (proto-loader) for what
// a well-behaved agent never sends: paths that climb out, wrong bytes, a cut
// stream, an attempt the caller does not hold.
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Coordinator } from "../../../coordinator/server";
import { createTracker } from "../../../coordinator/tracker/open";
import { defaultConfig } from "../../../shared/config/load";
import type { Config } from "../../../shared/config/schema";
import { silentLogger } from "../../../shared/logging/logger";
import { AgentServiceClient } from "../../../shared/gen/agent";
import { bearerMetadata } from "../../../shared/protocol/auth";
import { pushResults } from "../../../agent/session/results-push";
import { verifyManifest, type Manifest } from "../../../shared/results/manifest";
import { buildResultsDir, type BuiltResults } from "../uploader/results-dir";
import { freePort, waitFor } from "../../support/cluster";

const PROTO_DIR = path.join(__dirname, "..", "..", "..", "proto");
const R = { cores: 1, memory: 1, shm: 1 };

type Any = any;

describe("results pushed from the agent to the coordinator", function () {
  this.timeout(30_000);
  let dir: string;
  let cfg: Config;
  let coordinator: Coordinator;
  let raw: Any;
  let client: AgentServiceClient;
  let token: string;
  let built: BuiltResults;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-push-"));
    cfg = defaultConfig(path.join(dir, "data"), { coordinator: { listen: `127.0.0.1:${await freePort()}`, http_listen: "" } });
    createTracker(cfg.coordinator.db);
    coordinator = await Coordinator.start(cfg, { log: silentLogger() });
    token = coordinator.core.tracker.registerAgent("node1", false);
    coordinator.core.tracker.registerAgent("node2", false);
    client = new AgentServiceClient(coordinator.agentAddress, grpc.credentials.createInsecure());
    const def = protoLoader.loadSync(["agent.proto"], { includeDirs: [PROTO_DIR], keepCase: true, longs: Number, defaults: true, oneofs: true });
    raw = new (grpc.loadPackageDefinition(def) as Any).beamflow.v1.AgentService(coordinator.agentAddress, grpc.credentials.createInsecure());
    built = await buildResultsDir(path.join(dir, "agent-results"));
  });

  after(async () => {
    client?.close();
    raw?.close();
    await coordinator?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An attempt of a search job, running on `agent`. */
  function runningAttempt(agent = "node1"): number {
    const t = coordinator.core.tracker;
    const job = t.createJob({ beam: "beam_J1903", jobType: "palfa-search", spec: {}, reservation: R });
    const attempt = t.assign(job, agent, R, Date.now() / 1000 + 30);
    t.accept(attempt, agent, Date.now() / 1000 + 600);
    return attempt;
  }

  /** Every file under the results root, outside .incoming. */
  function filedResults(): string[] {
    const root = cfg.results.dir;
    if (!fs.existsSync(root)) return [];
    return (fs.readdirSync(root, { recursive: true }) as string[]).filter((p) => !p.startsWith(".incoming") && fs.statSync(path.join(root, p)).isFile());
  }

  function crafted(parts: Any[], opts: { agent?: string; cancelAfter?: number } = {}): Promise<Any> {
    return new Promise((resolve, reject) => {
      const md = bearerMetadata(opts.agent === "node1" || !opts.agent ? token : "wrong", opts.agent ?? "node1");
      const call = raw.PushResults(md, (err: grpc.ServiceError | null, receipt: Any) => (err ? reject(err) : resolve(receipt)));
      parts.forEach((p, i) => {
        if (opts.cancelAfter !== undefined && i === opts.cancelAfter) call.cancel();
        else if (opts.cancelAfter === undefined || i < opts.cancelAfter) call.write(p);
      });
      if (opts.cancelAfter === undefined) call.end();
    });
  }

  const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

  it("files a good push under results/<MJD>/<obs>/<beam>/<attempt>, every byte verified, and records it", async () => {
    const attempt = runningAttempt();
    const receipt = await pushResults(client, bearerMetadata(token, "node1"), attempt, built.dir);
    assert.equal(receipt.resultsDir, path.join(cfg.results.dir, "60000", "beam_J1903", "beam-unknown", String(attempt)));
    const manifest = JSON.parse(fs.readFileSync(path.join(receipt.resultsDir, "manifest.json"), "utf8")) as Manifest;
    assert.deepEqual(await verifyManifest(receipt.resultsDir, manifest), []);
    assert.equal(coordinator.core.tracker.attempt(attempt)!.output_dir, receipt.resultsDir);
    assert.ok(receipt.bytes > 1_000_000);
  });

  it("refuses paths that are not plain relative names, writing nothing outside", async () => {
    const attempt = runningAttempt();
    const data = Buffer.from("x");
    for (const bad of ["../escaped", "sub/../../escaped", "/tmp/escaped", "./manifest.json", ""]) {
      const files = [
        { path: bad, size: 1, sha256: sha(data) },
        { path: "manifest.json", size: 1, sha256: sha(data) },
      ];
      await assert.rejects(
        crafted([{ manifest: { attempt_id: attempt, files } }, { data: { file: 0, data } }]),
        (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /plain file name/.test(e.details),
        bad,
      );
    }
    assert.equal(fs.existsSync(path.join(cfg.results.dir, "..", "escaped")), false);
    assert.equal(fs.existsSync("/tmp/escaped"), false);
    assert.equal(coordinator.core.tracker.attempt(attempt)!.output_dir, "");
  });

  it("refuses bytes that do not match the manifest, naming the file, and keeps nothing", async () => {
    const attempt = runningAttempt();
    const before = filedResults().length;
    const good = Buffer.from("the real bytes");
    const files = [
      { path: "a.txt", size: good.length, sha256: sha(good) },
      { path: "manifest.json", size: 2, sha256: sha(Buffer.from("{}")) },
    ];
    await assert.rejects(
      crafted([
        { manifest: { attempt_id: attempt, files } },
        { data: { file: 0, data: Buffer.from("the fake bytes") } },
        { data: { file: 1, data: Buffer.from("{}") } },
      ]),
      (e: grpc.ServiceError) => e.code === grpc.status.DATA_LOSS && /^a\.txt: SHA-256/.test(e.details),
    );
    await assert.rejects(
      crafted([{ manifest: { attempt_id: attempt, files } }, { data: { file: 0, data: Buffer.concat([good, good]) } }]),
      (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /a\.txt: more than the 14 bytes/.test(e.details),
    );
    assert.equal(filedResults().length, before);
    assert.deepEqual(fs.readdirSync(path.join(cfg.results.dir, ".incoming")), []);
  });

  it("keeps nothing of a push cut off mid-file", async () => {
    const attempt = runningAttempt();
    const before = filedResults().length;
    const big = crypto.randomBytes(3 << 20);
    const files = [
      { path: "big.bin", size: big.length, sha256: sha(big) },
      { path: "manifest.json", size: 2, sha256: sha(Buffer.from("{}")) },
    ];
    await assert.rejects(
      crafted(
        [
          { manifest: { attempt_id: attempt, files } },
          { data: { file: 0, data: big.subarray(0, 1 << 20) } },
          { data: { file: 0, data: big.subarray(1 << 20) } },
        ],
        { cancelAfter: 2 },
      ),
      (e: grpc.ServiceError) => e.code === grpc.status.CANCELLED,
    );
    await waitFor("the partial transfer to be removed", () => fs.readdirSync(path.join(cfg.results.dir, ".incoming")).length === 0);
    assert.equal(filedResults().length, before);
    assert.equal(coordinator.core.tracker.attempt(attempt)!.output_dir, "");
  });

  it("refuses a push for an attempt the caller does not hold, and an unauthenticated one", async () => {
    const theirs = runningAttempt("node2");
    await assert.rejects(
      pushResults(client, bearerMetadata(token, "node1"), theirs, built.dir),
      (e: grpc.ServiceError) => e.code === grpc.status.PERMISSION_DENIED && new RegExp(`attempt ${theirs} is not running on agent node1`).test(e.details),
    );
    await assert.rejects(
      pushResults(client, bearerMetadata("wrong", "node1"), theirs, built.dir),
      (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED,
    );
    assert.equal(coordinator.core.tracker.attempt(theirs)!.output_dir, "");
  });
});
