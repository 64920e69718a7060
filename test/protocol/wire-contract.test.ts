// The wire contract, checked with a client built from the .proto files by
// @grpc/proto-loader at run time, independent of the ts-proto code the
// product uses: field names, numbers and types must agree on the wire.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Coordinator } from "../../coordinator/server";
import { adminTokenPath } from "../../shared/protocol/auth";
import { createTracker } from "../../coordinator/tracker/open";
import { defaultConfig } from "../../shared/config/load";
import { silentLogger } from "../../shared/logging/logger";
import { freePort } from "../support/cluster";

const PROTO_DIR = path.join(__dirname, "..", "..", "proto");

type Any = any;

function loadServices(): Any {
  const def = protoLoader.loadSync(["agent.proto", "admin.proto"], {
    includeDirs: [PROTO_DIR],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  return (grpc.loadPackageDefinition(def) as Any).beamflow.v1;
}

function unary(client: Any, method: string, req: unknown, md: grpc.Metadata): Promise<Any> {
  return new Promise((resolve, reject) => client[method](req, md, (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res))));
}

function metadata(pairs: Record<string, string>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(pairs)) md.set(k, v);
  return md;
}

const RESOURCES = { cores: 2, load1: 0.5, memory_total: 8e9, memory_free: 6e9, shm_total: 4e9, shm_free: 4e9, scratch_free: 1e11 };

describe("wire contract (proto-loader client, no generated code)", () => {
  let dir: string;
  let coordinator: Coordinator;
  let pkg: Any;
  let admin: Any;
  let adminMd: grpc.Metadata;
  let agentAddr: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-wire-"));
    const cfg = defaultConfig(dir, { coordinator: { listen: `127.0.0.1:${await freePort()}`, http_listen: "" } });
    createTracker(cfg.coordinator.db);
    coordinator = await Coordinator.start(cfg, { log: silentLogger() });
    pkg = loadServices();
    admin = new pkg.AdminService(`unix:${coordinator.adminSocket}`, grpc.credentials.createInsecure());
    adminMd = metadata({ authorization: `Bearer ${fs.readFileSync(adminTokenPath(cfg), "utf8").trim()}` });
    agentAddr = coordinator.agentAddress;
  });

  /** An agent's stream, its messages read one at a time with next(). */
  function connectAgent(id: string, token: string) {
    const client = new pkg.AgentService(agentAddr, grpc.credentials.createInsecure());
    const call = client.Connect(metadata({ authorization: `Bearer ${token}`, "x-beamflow-agent": id }));
    const inbox: Any[] = [];
    const waiters: ((m: Any) => void)[] = [];
    call.on("data", (m: Any) => {
      const w = waiters.shift();
      if (w) w(m);
      else inbox.push(m);
    });
    call.on("error", () => {});
    const next = () =>
      new Promise<Any>((resolve) => {
        const m = inbox.shift();
        if (m) resolve(m);
        else waiters.push(resolve);
      });
    return { client, call, next };
  }

  after(async () => {
    admin?.close();
    await coordinator?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses admin calls without the admin token", async () => {
    await assert.rejects(
      unary(admin, "Status", {}, new grpc.Metadata()),
      (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED && /admin token/.test(e.details),
    );
    await assert.rejects(
      unary(admin, "Status", {}, metadata({ authorization: "Bearer wrong" })),
      (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED,
    );
  });

  it("refuses an unknown agent and a wrong token, naming the problem", async () => {
    const client = new pkg.AgentService(agentAddr, grpc.credentials.createInsecure());
    const refused = (md: grpc.Metadata) =>
      new Promise<grpc.ServiceError>((resolve) => {
        const call = client.Connect(md);
        call.on("error", resolve);
        call.on("data", () => {});
        call.write({ hello: { agent_id: "ghost", hostname: "h", version: "v" } });
      });
    const unknown = await refused(metadata({ authorization: "Bearer abc", "x-beamflow-agent": "ghost" }));
    assert.equal(unknown.code, grpc.status.UNAUTHENTICATED);
    assert.match(unknown.details, /unknown agent 'ghost'/);
    await unary(admin, "RegisterAgent", { agent_id: "wire1", rotate: false }, adminMd);
    const wrong = await refused(metadata({ authorization: "Bearer abc", "x-beamflow-agent": "wire1" }));
    assert.match(wrong.details, /agent 'wire1': wrong token/);
    client.close();
  });

  it("carries a whole attempt: Hello, Welcome, Assign, accept, step, result, ack", async () => {
    const reg = await unary(admin, "RegisterAgent", { agent_id: "wire2", rotate: false }, adminMd);
    assert.equal(typeof reg.token, "string");
    const submitted = await unary(
      admin,
      "SubmitCommandJob",
      {
        name: "wire",
        steps: [{ name: "hello", argv: ["echo", "hi"], timeout_s: 5, idle_timeout_s: 0 }],
        cores: 1,
        memory: 0,
        shm: 0,
        count: 1,
      },
      adminMd,
    );
    const [jobId] = submitted.job_ids;

    const { client, call, next } = connectAgent("wire2", reg.token);

    call.write({ hello: { agent_id: "wire2", hostname: "wirehost", version: "test", labels: { rack: "r1" }, held: [], resources: RESOURCES } });
    const welcome = await next();
    assert.equal(welcome.body, "welcome");
    assert.equal(welcome.welcome.agent_id, "wire2");

    const assign = await next();
    assert.equal(assign.body, "assign");
    const a = assign.assign;
    assert.equal(a.job_id, jobId);
    assert.equal(a.job_type, "JOB_TYPE_COMMANDS");
    assert.deepEqual(
      a.commands.steps.map((s: Any) => [s.name, s.argv, s.timeout_s]),
      [["hello", ["echo", "hi"], 5]],
    );
    assert.equal(a.reservation.cores, 1);

    call.write({ assign_reply: { attempt_id: a.attempt_id, accepted: true } });
    const step = { index: 0, name: "hello", argv: ["echo", "hi"], started_at: Date.now() / 1000, wall_s: 0.01, cpu_s: 0.002, exit_code: 0 };
    call.write({ step_update: { attempt_id: a.attempt_id, state: "STEP_FINISHED", step } });
    call.write({ log_chunk: { attempt_id: a.attempt_id, seq: 1, step: "hello", data: Buffer.from("hi\r\n") } });
    const logAck = await next();
    assert.deepEqual([logAck.body, logAck.log_ack.seq], ["log_ack", 1]);
    call.write({ diagnostic: { attempt_id: a.attempt_id, name: "RFI mask percentage", value: 1.25, text: "" } });
    call.write({ attempt_result: { attempt_id: a.attempt_id, outcome: "OUTCOME_SUCCEEDED", steps: [step] } });
    const ack = await next();
    assert.equal(ack.body, "result_ack");
    assert.equal(ack.result_ack.attempt_id, a.attempt_id);

    const detail = await unary(admin, "GetJob", { id: jobId }, adminMd);
    assert.equal(detail.job.status, "processed");
    assert.equal(detail.attempts[0].steps[0].exit_code, 0);
    assert.deepEqual(
      detail.diagnostics.map((d: Any) => [d.name, d.value]),
      [["RFI mask percentage", 1.25]],
    );
    const agents = await unary(admin, "ListAgents", {}, adminMd);
    const me = agents.agents.find((x: Any) => x.id === "wire2");
    assert.equal(me.hostname, "wirehost");
    assert.equal(me.state, "connected");
    assert.equal(me.labels.rack, "r1");

    // A result about an attempt that is over is refused with a Cancel.
    call.write({ step_update: { attempt_id: a.attempt_id, state: "STEP_STARTED", step } });
    const cancel = await next();
    assert.equal(cancel.body, "cancel");
    assert.match(cancel.cancel.reason, /is processed/);
    call.end();
    client.close();
  });
  it("takes a result as the accept when none came, from the agent that holds the attempt only", async () => {
    const mine = await unary(admin, "RegisterAgent", { agent_id: "wire3", rotate: false }, adminMd);
    const other = await unary(admin, "RegisterAgent", { agent_id: "wire4", rotate: false }, adminMd);
    const submitted = await unary(
      admin,
      "SubmitCommandJob",
      { name: "held-accept", steps: [{ name: "t", argv: ["true"], timeout_s: 5, idle_timeout_s: 0 }], cores: 1, memory: 0, shm: 0, count: 1 },
      adminMd,
    );
    const [jobId] = submitted.job_ids;
    const me = connectAgent("wire3", mine.token);
    me.call.write({ hello: { agent_id: "wire3", hostname: "h3", version: "test", held: [], resources: RESOURCES } });
    const welcome = await me.next();
    assert.equal(welcome.welcome.accept_with_result, true);
    const assign = await me.next();
    assert.equal(assign.body, "assign");
    const attemptId = assign.assign.attempt_id;
    const step = { index: 0, name: "t", argv: ["true"], started_at: Date.now() / 1000, wall_s: 0.002, cpu_s: 0.001, exit_code: 0 };

    // Another agent's word on it changes nothing: it is acknowledged (so that agent drops it) and ignored.
    const thief = connectAgent("wire4", other.token);
    thief.call.write({ hello: { agent_id: "wire4", hostname: "h4", version: "test", held: [], resources: { ...RESOURCES, cores: 0 } } });
    assert.equal((await thief.next()).body, "welcome");
    thief.call.write({ attempt_result: { attempt_id: attemptId, outcome: "OUTCOME_SUCCEEDED", steps: [step] } });
    assert.equal((await thief.next()).body, "result_ack");
    let detail = await unary(admin, "GetJob", { id: jobId }, adminMd);
    assert.deepEqual([detail.job.status, detail.attempts[0].status], ["submitted", "assigned"]);

    // Its own result, with no accept before it: accepted and ended in one go.
    me.call.write({ attempt_result: { attempt_id: attemptId, outcome: "OUTCOME_SUCCEEDED", steps: [step] } });
    const ack = await me.next();
    assert.deepEqual([ack.body, ack.result_ack.attempt_id], ["result_ack", attemptId]);
    detail = await unary(admin, "GetJob", { id: jobId }, adminMd);
    assert.deepEqual([detail.job.status, detail.attempts[0].status], ["processed", "processed"]);
    assert.ok(detail.attempts[0].started_at > 0, "the attempt counts as started when it was assigned");
    assert.ok(detail.attempts[0].started_at <= detail.attempts[0].finished_at);
    assert.equal(detail.attempts[0].steps[0].name, "t");
    for (const a of [me, thief]) {
      a.call.end();
      a.client.close();
    }
  });
});
