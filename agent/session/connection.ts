// The agent's stream to the coordinator (Connect): opened with a Hello, usable once
// the coordinator's Welcome arrives, and opened again with exponential backoff and
// jitter whenever it drops. A dropped stream stops nothing that runs: attempts go on
// and re-attach through the next Hello. Refused credentials end it for good, since
// trying again cannot help.
import * as grpc from "@grpc/grpc-js";
import type { AgentMessage, AgentServiceClient, CoordinatorMessage, Welcome } from "../../shared/gen/agent";
import type { Logger } from "../../shared/logging/logger";
import { jitter } from "./jitter";

export type CoordinatorStream = grpc.ClientDuplexStream<AgentMessage, CoordinatorMessage>;

export interface ConnectionOptions {
  client: AgentServiceClient;
  /** credentials for each new stream */
  metadata: () => grpc.Metadata;
  reconnectInitialS: number;
  reconnectMaxS: number;
  /** the Hello that opens a stream (measured afresh each time) */
  hello: () => Promise<AgentMessage>;
  /** the coordinator welcomed this stream: what is owed may be sent */
  onWelcome: (w: Welcome) => void;
  /** everything else the coordinator sends */
  onMessage: (body: NonNullable<CoordinatorMessage["body"]>) => void;
  /** the stream is gone (before any reconnect is planned) */
  onLost: () => void;
  /** the coordinator refused the agent's credentials */
  onFatal?: (err: Error) => void;
  /** why the coordinator's TLS handshake refuses this agent, if it does (agent/tls/diagnose.ts): checked when a stream drops as unavailable */
  diagnose?: () => Promise<string | undefined>;
  /** the agent is shutting down: no stream is opened again */
  stopping: () => boolean;
  /** attempts still running, for the log line of a lost stream */
  running: () => number[];
  log: Logger;
}

export class Connection {
  private call: CoordinatorStream | null = null;
  private welcomed = false;
  private backoffS: number;
  private reconnectTimer: NodeJS.Timeout | null = null;

  constructor(private readonly o: ConnectionOptions) {
    this.backoffS = o.reconnectInitialS;
  }

  /** The stream, once the coordinator has welcomed it; null while there is none. */
  get stream(): CoordinatorStream | null {
    return this.welcomed ? this.call : null;
  }

  /** Sends on a welcomed stream; without one the message is dropped (what must not be lost is kept and sent again at the next Welcome). */
  send(msg: AgentMessage): void {
    this.stream?.write(msg);
  }

  connect(): void {
    if (this.o.stopping()) return;
    const call = this.o.client.connect(this.o.metadata());
    this.call = call;
    this.welcomed = false;
    call.on("data", (msg: CoordinatorMessage) => this.receive(msg));
    call.on("error", (err: grpc.ServiceError) => this.lost(call, err));
    call.on("end", () => this.lost(call, null));
    void this.o.hello().then((hello) => {
      if (this.call === call) call.write(hello);
    });
  }

  private receive(msg: CoordinatorMessage): void {
    const b = msg.body;
    if (!b) return;
    if (b.$case === "welcome") {
      this.welcomed = true;
      this.backoffS = this.o.reconnectInitialS;
      this.o.onWelcome(b.value);
      return;
    }
    this.o.onMessage(b);
  }

  private lost(call: CoordinatorStream, err: grpc.ServiceError | null): void {
    if (this.call !== call) return;
    this.call = null;
    this.welcomed = false;
    this.o.onLost();
    if (this.o.stopping()) return;
    if (err?.code === grpc.status.UNAUTHENTICATED) {
      this.o.log.error({ reason: err.details }, "the coordinator refused this agent's credentials");
      this.o.onFatal?.(new Error(err.details));
      return;
    }
    // A refused certificate looks like a dropped connection: ask whether that is it.
    if (err?.code === grpc.status.UNAVAILABLE && this.o.diagnose) {
      void this.o.diagnose().then((why) => {
        if (!why || this.o.stopping()) return;
        this.stopReconnecting();
        this.o.log.error({ reason: why }, "the coordinator refuses this agent's TLS certificate");
        this.o.onFatal?.(new Error(why));
      });
    }
    const delay = jitter(this.backoffS, 0.5);
    this.backoffS = Math.min(this.o.reconnectMaxS, this.backoffS * 2);
    this.o.log.warn(
      { reason: err ? err.details || err.message : "stream ended", retryInS: Number(delay.toFixed(2)), running: this.o.running() },
      "lost the coordinator; attempts keep running",
    );
    this.reconnectTimer = setTimeout(() => this.reconnectNow(), delay * 1000);
    this.whenReady();
  }

  private reconnectNow(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    if (this.call || this.o.stopping()) return;
    this.connect();
  }

  /**
   * The channel reconnects on its own; once it is ready the stream opens again at once (with a
   * little jitter so that agents do not all say Hello in the same millisecond) instead of at
   * the end of a backoff that grew while the coordinator was away.
   */
  private whenReady(): void {
    const channel = this.o.client.getChannel();
    const watch = (state: grpc.connectivityState) => {
      if (!this.reconnectTimer) return; // reconnected (or stopped) meanwhile
      if (state === grpc.connectivityState.READY) {
        clearTimeout(this.reconnectTimer);
        this.reconnectTimer = setTimeout(() => this.reconnectNow(), Math.random() * 200);
        return;
      }
      channel.watchConnectivityState(state, Date.now() + 60_000, () => watch(channel.getConnectivityState(true)));
    };
    watch(channel.getConnectivityState(true));
  }

  /** No stream is opened again (the agent is stopping); the current one stays for what is still to be said. */
  stopReconnecting(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  close(): void {
    this.stopReconnecting();
    this.call?.end();
    this.call = null;
    this.welcomed = false;
    this.o.client.close();
  }
}
