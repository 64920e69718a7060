// Revocation, removal and ephemeral agents on a real CoordinatorCore with a real tracker
// file, sessions driven through a fake stream: a revoked agent's stream is closed as
// refused credentials (also when the revocation reached only the tracker: at its next
// heartbeat, or when that is written if it holds nothing), its attempts are requeued uncounted; an ephemeral agent is removed when it
// leaves, or later by the sweep once it holds nothing.
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { CoordinatorCore, settingsFrom } from "../../../coordinator/core";
import { AgentSession } from "../../../coordinator/sessions/agent-session";
import { AccessRefused } from "../../../coordinator/tracker/agent-access";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { defaultConfig } from "../../../shared/config/load";
import type { AgentMessage, CoordinatorMessage } from "../../../shared/gen/agent";
import { silentLogger } from "../../../shared/logging/logger";
import { resources } from "../fixtures";

/** What AgentSession uses of a gRPC duplex stream; an "error" emitted on it is how a status reaches the agent. */
class FakeStream extends EventEmitter {
  readonly written: CoordinatorMessage[] = [];
  ended = false;
  errors: grpc.ServiceError[] = [];
  constructor() {
    super();
    this.on("error", (err: grpc.ServiceError) => this.errors.push(err));
  }
  write(msg: CoordinatorMessage): boolean {
    this.written.push(msg);
    return true;
  }
  end(): void {
    this.ended = true;
    this.emit("end");
  }
  destroy(err?: Error): void {
    this.emit("error", err ?? new Error("destroyed"));
  }
  receive(body: AgentMessage["body"]): void {
    this.emit("data", { body });
  }
}

describe("agent access: revoked, removed and ephemeral agents", () => {
  let dir: string;
  let core: CoordinatorCore;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-access-"));
    const file = path.join(dir, "tracker.db");
    createTracker(file);
    const config = defaultConfig(dir);
    core = new CoordinatorCore(openTracker(file), config, settingsFrom(config), silentLogger());
  });
  afterEach(() => {
    core.stop();
    core.tracker.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const connect = (agentId: string) => {
    const stream = new FakeStream();
    new AgentSession(core.sessionDeps, stream as never, agentId);
    stream.receive({
      $case: "hello",
      value: { agentId, hostname: `${agentId}.local`, version: "test", labels: {}, resources: resources(4), held: [] } as never,
    });
    assert.ok(core.registry.find(agentId)?.connected);
    return stream;
  };
  const heartbeat = (stream: FakeStream, held: number[]) =>
    stream.receive({
      $case: "heartbeat",
      value: { resources: resources(4), held: held.map((attemptId) => ({ attemptId, finished: false })), seq: 1 } as never,
    });
  const attemptOn = (agentId: string, accept = true) => {
    const job = core.tracker.createJob({ beam: "b", jobType: "commands", spec: {}, reservation: { cores: 1, memory: 0, shm: 0 } });
    const attempt = core.tracker.assign(job, agentId, { cores: 1, memory: 0, shm: 0 }, Date.now() / 1000 + 30);
    core.registry.get(agentId).reserve(attempt, { cores: 1, memory: 0, shm: 0 });
    if (accept) core.tracker.accept(attempt, agentId, Date.now() / 1000 + 30);
    return { job, attempt };
  };
  const enrolled = (agentId: string, ephemeral: boolean) => {
    const { secret } = core.tracker.access.createEnrolToken({ ttlS: 600, uses: 1, ephemeral, label: "" });
    core.tracker.access.enrol(secret, agentId);
  };

  it("revoke: closes the stream as refused credentials, requeues the running attempt and withdraws the assigned one, uncounted", () => {
    core.tracker.registerAgent("n1", false);
    const stream = connect("n1");
    const running = attemptOn("n1");
    const assigned = attemptOn("n1", false);
    const r = core.access.revoke("n1");
    assert.deepEqual(r.requeued.sort(), [running.attempt, assigned.attempt].sort());
    assert.equal(r.wasConnected, true);
    assert.equal(stream.errors.length, 1);
    assert.equal(stream.errors[0].code, grpc.status.UNAUTHENTICATED);
    assert.match(stream.errors[0].details, /agent 'n1' was revoked by an operator/);
    assert.equal(core.registry.find("n1")?.connected, false);
    assert.equal(core.tracker.attempt(running.attempt)!.status, "lost");
    assert.equal(core.tracker.attempt(assigned.attempt)!.status, "withdrawn");
    for (const { job } of [running, assigned]) {
      const j = core.tracker.job(job)!;
      assert.equal(j.status, "retrying");
      assert.equal(j.failures, 0, "not counted");
    }
    assert.equal(core.registry.find("n1")!.reserved.size, 0, "its reservations are freed");
    assert.throws(
      () => core.access.revoke("n1"),
      (e: unknown) => e instanceof AccessRefused && e.kind === "refused",
    );
  });

  it("a revocation that reached only the tracker cuts the agent off at its next heartbeat, renewing nothing", () => {
    core.tracker.registerAgent("n2", false);
    const stream = connect("n2");
    const { attempt } = attemptOn("n2");
    const lease = core.tracker.attempt(attempt)!.lease_expires_at;
    core.tracker.access.revokeAgent("n2");
    heartbeat(stream, [attempt]);
    assert.equal(stream.errors.length, 1);
    assert.equal(stream.errors[0].code, grpc.status.UNAUTHENTICATED);
    assert.match(stream.errors[0].details, /agent 'n2' was revoked/);
    assert.equal(stream.written.filter((m) => m.body?.$case === "heartbeatAck").length, 0, "not acknowledged");
    assert.equal(core.tracker.attempt(attempt)!.lease_expires_at, lease, "its lease is not renewed");
  });

  it("an agent holding nothing, revoked only in the tracker, is cut off when its heartbeat is written with the others'", () => {
    core.tracker.registerAgent("n4", false);
    core.tracker.registerAgent("n5", false);
    const revoked = connect("n4");
    const kept = connect("n5");
    core.tracker.access.revokeAgent("n4");
    heartbeat(revoked, []);
    heartbeat(kept, []);
    assert.equal(revoked.errors.length, 0, "not before the write");
    core.heartbeats.flush();
    assert.equal(revoked.errors.length, 1);
    assert.equal(revoked.errors[0].code, grpc.status.UNAUTHENTICATED);
    assert.match(revoked.errors[0].details, /agent 'n4' was revoked/);
    assert.equal(core.registry.find("n4")?.connected, false);
    assert.equal(kept.errors.length, 0, "the other agent's heartbeat is written and it stays");
    assert.ok(core.registry.find("n5")?.connected);
    assert.ok(Math.abs(core.tracker.agent("n5")!.last_seen_at! - Date.now() / 1000) < 5);
  });

  it("remove: refused while connected, then deletes it; it is forgotten by the registry", () => {
    core.tracker.registerAgent("n3", false);
    const stream = connect("n3");
    assert.throws(() => core.access.remove("n3"), /agent n3 is connected/);
    stream.end();
    assert.equal(core.access.remove("n3"), "deleted");
    assert.equal(core.tracker.agent("n3"), undefined);
    assert.equal(core.registry.find("n3"), undefined);
  });

  it("an ephemeral agent is removed when its stream ends after Leaving; a registered one is not", () => {
    enrolled("pilot-1", true);
    const s1 = connect("pilot-1");
    s1.receive({ $case: "leaving", value: { reason: "SIGTERM" } });
    s1.end();
    assert.equal(core.tracker.agent("pilot-1"), undefined, "removed as it left");

    core.tracker.registerAgent("fixed", false);
    const s2 = connect("fixed");
    s2.receive({ $case: "leaving", value: { reason: "SIGTERM" } });
    s2.end();
    assert.ok(core.tracker.agent("fixed"), "a registered agent stays");
  });

  it("an ephemeral agent gone with a live attempt is kept until the attempt ends and it has been gone ephemeral_gone_s", () => {
    enrolled("pilot-2", true);
    const stream = connect("pilot-2");
    const { attempt } = attemptOn("pilot-2");
    stream.receive({ $case: "leaving", value: { reason: "SIGTERM" } });
    stream.end();
    assert.ok(core.tracker.agent("pilot-2"), "kept: it holds a live attempt");
    const later = Date.now() / 1000 + core.config.coordinator.ephemeral_gone_s + 1;
    assert.deepEqual(core.access.sweep(later), [], "still holding the attempt");
    core.lifecycle.lose(attempt, "pilot-2", "lease expired");
    assert.deepEqual(core.access.sweep(Date.now() / 1000), [], "not gone long enough yet");
    assert.deepEqual(core.access.sweep(later), ["pilot-2"]);
    assert.equal(core.tracker.agents().length, 0);
    assert.equal(core.tracker.attempt(attempt)!.agent_id, "pilot-2", "its attempt's history still names it");
  });
});
