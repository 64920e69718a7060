// The log pump: writes spooled log chunks, then finished attempts' results, to the
// stream as fast as it takes them. When the stream is full the rest waits in the
// LogSpool for its "drain" (on disk once the spool's memory budget is used up, or
// once the stream is gone). A result goes only after all of its attempt's log, so
// `logs -f` never ends before the last line; each goes once per stream.
//
// To a coordinator that takes them (its Welcome says log_batches), chunks go several to a
// message (LogChunks, up to 1 MiB): heavy output costs the coordinator one message, one
// write and one acknowledgement per batch rather than per 64 KiB chunk. A backlog (after a
// reconnect, or while the coordinator falls behind) goes out in full batches.
import type { LogChunk } from "../../shared/gen/agent";
import type { AgentMetrics } from "../metrics/agent-metrics";
import type { CoordinatorStream as Stream } from "./connection";
import type { LogSpool } from "./log-spool";
import type { Outbox } from "./outbox";

/** A LogChunks message holds chunks up to this many bytes (a chunk is at most 64 KiB, see log-chunker.ts). */
export const BATCH_BYTES = 1 << 20;
const BATCH_CHUNKS = 256;

export interface LogPumpOptions {
  spool: LogSpool;
  outbox: Outbox;
  metrics: AgentMetrics;
  /** the welcomed stream, or null while there is none */
  stream: () => Stream | null;
  /** an attempt's result was just written to the stream */
  resultWritten?: (attemptId: number) => void;
}

export class LogPump {
  /** results written to the current stream (each goes once per stream, after its attempt's log) */
  private readonly resultsSent = new Set<number>();
  /** the stream that is full: nothing more is written to it until its "drain" */
  private blockedOn: Stream | null = null;
  /** the current stream's coordinator takes LogChunks */
  private batches = false;
  private pumpQueued = false;

  constructor(private readonly o: LogPumpOptions) {}

  /** A new stream was welcomed: everything unacknowledged goes again, from the start (in batches if its coordinator takes them). */
  restart(logBatches = false): void {
    this.batches = logBatches;
    this.o.spool.rewind();
    this.resultsSent.clear();
    this.pump();
  }

  /** pump() once the chunks being added now are all in: the chunks of one flush go as one message. */
  pumpSoon(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  pump(): void {
    const call = this.o.stream();
    if (!call) {
      // Nobody to send to: what the spool holds in memory goes to its disk.
      this.o.spool.spill();
      return;
    }
    if (this.blockedOn === call) return;
    let batch: LogChunk[] = [];
    let bytes = 0;
    for (const chunk of this.o.spool.unsent()) {
      this.o.metrics.logSent(chunk.data.length);
      if (!this.batches) {
        if (!call.write({ body: { $case: "logChunk", value: chunk } })) return this.waitForDrain(call);
        continue;
      }
      batch.push(chunk);
      bytes += chunk.data.length;
      if (bytes >= BATCH_BYTES || batch.length >= BATCH_CHUNKS) {
        const full = !call.write({ body: { $case: "logChunks", value: { chunks: batch } } });
        batch = [];
        bytes = 0;
        if (full) return this.waitForDrain(call);
      }
    }
    if (batch.length && !call.write({ body: { $case: "logChunks", value: { chunks: batch } } })) return this.waitForDrain(call);
    for (const r of this.o.outbox.pendingResults()) {
      if (this.resultsSent.has(r.attemptId) || !this.o.spool.allSent(r.attemptId)) continue;
      this.resultsSent.add(r.attemptId);
      const full = !call.write({ body: { $case: "attemptResult", value: r } });
      this.o.resultWritten?.(r.attemptId);
      if (full) return this.waitForDrain(call);
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
