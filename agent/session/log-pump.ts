// The log pump: writes spooled log chunks, then finished attempts' results, to the
// stream as fast as it takes them. When the stream is full the rest waits on disk
// (the LogSpool) for its "drain". A result goes only after all of its attempt's log,
// so `logs -f` never ends before the last line; each goes once per stream.
import type { AgentMetrics } from "../metrics/agent-metrics";
import type { CoordinatorStream as Stream } from "./connection";
import type { LogSpool } from "./log-spool";
import type { Outbox } from "./outbox";

export interface LogPumpOptions {
  spool: LogSpool;
  outbox: Outbox;
  metrics: AgentMetrics;
  /** the welcomed stream, or null while there is none */
  stream: () => Stream | null;
}

export class LogPump {
  /** results written to the current stream (each goes once per stream, after its attempt's log) */
  private readonly resultsSent = new Set<number>();
  /** the stream that is full: nothing more is written to it until its "drain" */
  private blockedOn: Stream | null = null;

  constructor(private readonly o: LogPumpOptions) {}

  /** A new stream was welcomed: everything unacknowledged goes again, from the start. */
  restart(): void {
    this.o.spool.rewind();
    this.resultsSent.clear();
    this.pump();
  }

  pump(): void {
    const call = this.o.stream();
    if (!call || this.blockedOn === call) return;
    for (const chunk of this.o.spool.unsent()) {
      this.o.metrics.logSent(chunk.data.length);
      if (!call.write({ body: { $case: "logChunk", value: chunk } })) return this.waitForDrain(call);
    }
    for (const r of this.o.outbox.pendingResults()) {
      if (this.resultsSent.has(r.attemptId) || !this.o.spool.allSent(r.attemptId)) continue;
      this.resultsSent.add(r.attemptId);
      if (!call.write({ body: { $case: "attemptResult", value: r } })) return this.waitForDrain(call);
    }
  }

  /** The attempt is acknowledged: nothing of it is sent any more. */
  forget(attemptId: number): void {
    this.resultsSent.delete(attemptId);
  }

  private waitForDrain(call: Stream): void {
    this.blockedOn = call;
    call.once("drain", () => {
      if (this.blockedOn === call) this.blockedOn = null;
      if (this.o.stream() === call) this.pump();
    });
  }
}
