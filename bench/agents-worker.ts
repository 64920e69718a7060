// A process of simulated agents for bench/agents.ts, forked by it: each agent has its own
// gRPC channel (its own HTTP/2 connection, as separate nodes would) and one Connect stream.
// It says Hello with resources and capabilities like a real agent (fit for command jobs,
// not for searches), then heartbeats every interval ±10 % with `seq` and what it holds.
// An Assign of a command job is accepted at once, its step told started, and a success
// reported a few milliseconds later (nothing is run); any other Assign is refused.
// Driven over IPC: "start" with the agents, "stats" for counters, "stop" to close.
import * as grpc from "@grpc/grpc-js";
import os from "node:os";
import {
  type AgentMessage,
  AgentServiceClient,
  type Assign,
  AttemptOutcome,
  type CoordinatorMessage,
  type HeldAttempt,
  type Resources,
  StepState,
} from "../shared/gen/agent";
import { bearerMetadata } from "../shared/protocol/auth";
import { type Capabilities, JobType, type StepRecord } from "../shared/gen/common";

export interface WorkerStart {
  type: "start";
  address: string;
  heartbeatS: number;
  /** new streams opened per second (the ramp) */
  connectPerS: number;
  /** agents sharing one channel (1: a connection each) */
  perChannel: number;
  agents: { id: string; token: string }[];
}

export interface WorkerStats {
  type: "stats";
  welcomed: number;
  connected: number;
  streamsLost: number;
  refused: number;
  heartbeats: number;
  acks: number;
  /** heartbeat → HeartbeatAck round trips (ms), sorted sample */
  ackMs: number[];
  assigns: number;
  accepted: number;
  results: number;
  resultAcks: number;
  cancels: number;
  errors: string[];
}

const GiB = 1024 ** 3;
const jitter = (x: number, spread: number): number => x * (1 - spread + Math.random() * 2 * spread);

const resources = (): Resources => ({
  cores: 4,
  load1: 0.2,
  memoryTotal: 16 * GiB,
  memoryFree: 14 * GiB,
  shmTotal: 8 * GiB,
  shmFree: 8 * GiB,
  scratchFree: 200 * GiB,
});

const capabilities = (): Capabilities => ({
  jobTypes: [
    { jobType: JobType.JOB_TYPE_COMMANDS, fit: true, reason: "" },
    { jobType: JobType.JOB_TYPE_PALFA_SEARCH, fit: false, reason: "simulated agent: no PRESTO toolchain" },
  ],
  checkedAt: Date.now() / 1000,
  toolchain: "",
});

const stats: WorkerStats = {
  type: "stats",
  welcomed: 0,
  connected: 0,
  streamsLost: 0,
  refused: 0,
  heartbeats: 0,
  acks: 0,
  ackMs: [],
  assigns: 0,
  accepted: 0,
  results: 0,
  resultAcks: 0,
  cancels: 0,
  errors: [],
};
const ACK_SAMPLE = 20_000;

class SimAgent {
  private call: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage> | null = null;
  private welcomed = false;
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly sentAt = new Map<number, number>();
  /** attempt id → finished (a result not yet acknowledged) */
  private readonly held = new Map<number, boolean>();

  constructor(
    private readonly client: AgentServiceClient,
    private readonly id: string,
    private readonly token: string,
    private readonly heartbeatS: number,
  ) {}

  connect(): void {
    if (this.stopped) return;
    const call = this.client.connect(bearerMetadata(this.token, this.id));
    this.call = call;
    this.welcomed = false;
    this.seq = 0;
    call.on("data", (m: CoordinatorMessage) => this.receive(m));
    call.on("error", (err: grpc.ServiceError) => this.lost(call, err));
    call.on("end", () => this.lost(call, null));
    call.write({
      body: {
        $case: "hello",
        value: {
          agentId: this.id,
          hostname: `${os.hostname()}-${this.id}`,
          version: "bench",
          labels: { sim: "1" },
          held: this.heldList(),
          resources: resources(),
          capabilities: capabilities(),
          endTime: 0,
          leaving: false,
          // Each Assign is accepted at once, as by an agent of before accept holding.
          holdsAccepts: false,
        },
      },
    });
  }

  private heldList(): HeldAttempt[] {
    return [...this.held].map(([attemptId, finished]) => ({ attemptId, finished }));
  }

  private send(m: AgentMessage): void {
    if (this.welcomed) this.call?.write(m);
  }

  private receive(m: CoordinatorMessage): void {
    const b = m.body;
    if (!b) return;
    switch (b.$case) {
      case "welcome":
        if (!this.welcomed) stats.welcomed++;
        this.welcomed = true;
        stats.connected++;
        // Agents of a real fleet came up at different times: the first beat at a random phase.
        this.beatIn(Math.random() * this.heartbeatS);
        return;
      case "heartbeatAck": {
        stats.acks++;
        const t = this.sentAt.get(b.value.seq);
        this.sentAt.delete(b.value.seq);
        if (t !== undefined && stats.ackMs.length < ACK_SAMPLE) stats.ackMs.push(performance.now() - t);
        return;
      }
      case "assign":
        return this.assign(b.value);
      case "resultAck":
        stats.resultAcks++;
        this.held.delete(b.value.attemptId);
        return;
      case "cancel":
        stats.cancels++;
        this.held.delete(b.value.attemptId);
        return;
      default:
        return;
    }
  }

  private assign(a: Assign): void {
    stats.assigns++;
    if (a.spec?.$case !== "commands") {
      this.send({ body: { $case: "assignReply", value: { attemptId: a.attemptId, accepted: false, reason: "simulated agent: command jobs only" } } });
      return;
    }
    stats.accepted++;
    this.held.set(a.attemptId, false);
    this.send({ body: { $case: "assignReply", value: { attemptId: a.attemptId, accepted: true, reason: "" } } });
    const s = a.spec.value.steps[0];
    const step: StepRecord = {
      index: 0,
      name: s?.name ?? "command",
      argv: s?.argv ?? [],
      startedAt: Date.now() / 1000,
      wallS: 0,
      cpuS: 0,
      signal: "",
      error: "",
    };
    this.send({ body: { $case: "stepUpdate", value: { attemptId: a.attemptId, step, state: StepState.STEP_STARTED } } });
    setTimeout(() => {
      const done = { ...step, wallS: 0.002, cpuS: 0.001, exitCode: 0 };
      this.held.set(a.attemptId, true);
      this.send({ body: { $case: "stepUpdate", value: { attemptId: a.attemptId, step: done, state: StepState.STEP_FINISHED } } });
      this.send({
        body: {
          $case: "attemptResult",
          value: {
            attemptId: a.attemptId,
            outcome: AttemptOutcome.OUTCOME_SUCCEEDED,
            errorClass: 0,
            errorMessage: "",
            steps: [done],
            resultsDir: "",
            logSeq: 0,
          },
        },
      });
      stats.results++;
    }, 2);
  }

  private beatIn(s: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.welcomed || this.stopped) return;
      const seq = ++this.seq;
      this.sentAt.set(seq, performance.now());
      if (this.sentAt.size > 8) this.sentAt.delete(this.sentAt.keys().next().value!);
      this.send({ body: { $case: "heartbeat", value: { resources: resources(), held: this.heldList(), capabilities: capabilities(), seq, endTime: 0 } } });
      stats.heartbeats++;
      this.beatIn(jitter(this.heartbeatS, 0.1));
    }, s * 1000);
  }

  private lost(call: grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>, err: grpc.ServiceError | null): void {
    if (this.call !== call) return;
    this.call = null;
    if (this.welcomed) stats.connected--;
    this.welcomed = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.stopped) return;
    stats.streamsLost++;
    if (err?.code === grpc.status.UNAUTHENTICATED) {
      stats.refused++;
      if (stats.errors.length < 10) stats.errors.push(`${this.id}: ${err.details}`);
      return;
    }
    if (stats.errors.length < 10) stats.errors.push(`${this.id}: ${err ? err.details || err.message : "stream ended"}`);
    setTimeout(() => this.connect(), jitter(1000, 0.5));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.call?.end();
    this.call = null;
  }
}

const agents: SimAgent[] = [];
const clients: AgentServiceClient[] = [];

function start(m: WorkerStart): void {
  let client: AgentServiceClient | undefined;
  m.agents.forEach((a, i) => {
    if (i % m.perChannel === 0) {
      // A channel of its own (its own subchannel pool): its own TCP connection, as a separate node would have.
      client = new AgentServiceClient(m.address, grpc.credentials.createInsecure(), {
        "grpc.use_local_subchannel_pool": 1,
        "grpc.keepalive_time_ms": 20_000,
        "grpc.keepalive_timeout_ms": 10_000,
        "grpc.keepalive_permit_without_calls": 1,
        "grpc.initial_reconnect_backoff_ms": 250,
        "grpc.max_reconnect_backoff_ms": 1000,
      });
      clients.push(client);
    }
    agents.push(new SimAgent(client!, a.id, a.token, m.heartbeatS));
  });
  // The ramp: connectPerS streams a second, in batches every 10 ms.
  const perTick = Math.max(1, Math.round(m.connectPerS / 100));
  let next = 0;
  const ramp = setInterval(() => {
    for (let k = 0; k < perTick && next < agents.length; k++) agents[next++].connect();
    if (next >= agents.length) clearInterval(ramp);
  }, 10);
}

process.on("message", (m: { type: string }) => {
  if (m.type === "start") start(m as WorkerStart);
  else if (m.type === "stats") {
    process.send!({ ...stats, ackMs: [...stats.ackMs].sort((x, y) => x - y) });
    stats.ackMs = [];
  } else if (m.type === "stop") {
    for (const a of agents) a.stop();
    setTimeout(() => {
      for (const c of clients) c.close();
      process.exit(0);
    }, 200);
  }
});
process.on("disconnect", () => process.exit(0));
