// Stage-out: a finished search attempt's results dir, pushed to the coordinator
// (PushResults) as a manifest of every file with its size and SHA-256, then the
// bytes in manifest order. The manifest.json the search wrote travels too, so the
// coordinator can hold the transfer against the search's own record. ResultsPusher
// keeps the pushes still owed and tries them again until delivered or refused.
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { type AgentServiceClient, AttemptOutcome, type AttemptResult, ErrorClass, type ResultFile, type ResultsReceipt } from "../../shared/gen/agent";
import type { Logger } from "../../shared/logging/logger";
import { buildManifest, MANIFEST_NAME, sha256File } from "../../shared/results/manifest";

const CHUNK = 1 << 20;

async function listResults(dir: string): Promise<ResultFile[]> {
  const own = path.join(dir, MANIFEST_NAME);
  const m = await buildManifest(dir, path.basename(dir));
  return [
    ...m.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
    { path: MANIFEST_NAME, size: fs.statSync(own).size, sha256: await sha256File(own) },
  ];
}

export async function pushResults(client: AgentServiceClient, metadata: grpc.Metadata, attemptId: number, dir: string): Promise<ResultsReceipt> {
  const files = await listResults(dir);
  let settle!: { resolve: (r: ResultsReceipt) => void; reject: (e: Error) => void };
  const done = new Promise<ResultsReceipt>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const call = client.pushResults(metadata, (err, receipt) => (err ? settle.reject(err) : settle.resolve(receipt!)));
  // A refusal ends the call early: stop reading files then.
  let ended = false;
  void done
    .catch(() => undefined)
    .finally(() => {
      ended = true;
    });
  const write = async (part: Parameters<typeof call.write>[0]) => {
    if (!call.write(part)) await Promise.race([once(call, "drain"), done.catch(() => undefined)]);
  };
  await write({ part: { $case: "manifest", value: { attemptId, files } } });
  for (let i = 0; i < files.length && !ended; i++) {
    for await (const data of fs.createReadStream(path.join(dir, ...files[i]!.path.split("/")), { highWaterMark: CHUNK })) {
      if (ended) break;
      await write({ part: { $case: "data", value: { file: i, data: data as Buffer } } });
    }
  }
  call.end();
  return done;
}

/** gRPC codes after which the same push may succeed later (the coordinator or the link was down). */
const PUSH_AGAIN: readonly grpc.status[] = [
  grpc.status.UNAVAILABLE,
  grpc.status.CANCELLED,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.RESOURCE_EXHAUSTED,
];

interface AwaitingPush {
  result: AttemptResult;
  dir: string;
  log: Logger;
  tries: number;
  timer: NodeJS.Timeout | null;
}

export interface ResultsPusherOptions {
  client: AgentServiceClient;
  metadata: () => grpc.Metadata;
  /** whether a push may start now: a welcomed stream, and the agent not stopping */
  canPush: () => boolean;
  /** the attempt's result, once its results are delivered (or refused for good) */
  report: (result: AttemptResult) => void;
}

/**
 * Succeeded searches whose results the coordinator does not have yet. Success is
 * reported only once the coordinator holds the verified results. A push that fails
 * for want of the coordinator is tried again (after a pause, and at every reconnect);
 * one the coordinator refuses — bytes that do not match their manifest twice, a path
 * it will not take — turns the attempt into a bad_output failure.
 */
export class ResultsPusher {
  private readonly awaiting = new Map<number, AwaitingPush>();
  private readonly pushing = new Set<number>();

  constructor(private readonly o: ResultsPusherOptions) {}

  /** Attempts whose results wait for a push. */
  attempts(): number[] {
    return [...this.awaiting.keys()];
  }

  async add(result: AttemptResult, dir: string, log: Logger): Promise<void> {
    this.awaiting.set(result.attemptId, { result, dir, log, tries: 0, timer: null });
    await this.pushThenReport(result.attemptId);
  }

  /** A new stream: every push still owed is tried again. */
  pushAll(): void {
    for (const id of this.awaiting.keys()) void this.pushThenReport(id);
  }

  private async pushThenReport(attemptId: number): Promise<void> {
    const w = this.awaiting.get(attemptId);
    if (!w || !this.o.canPush() || this.pushing.has(attemptId)) return;
    if (w.timer) {
      clearTimeout(w.timer);
      w.timer = null;
    }
    this.pushing.add(attemptId);
    w.tries++;
    let result = w.result;
    try {
      const receipt = await pushResults(this.o.client, this.o.metadata(), attemptId, w.dir);
      w.log.info({ dir: receipt.resultsDir, bytes: receipt.bytes }, "results delivered to the coordinator");
    } catch (err) {
      const e = err as grpc.ServiceError;
      const again = PUSH_AGAIN.includes(e.code) || (e.code === grpc.status.DATA_LOSS && w.tries < 2);
      if (again && this.awaiting.has(attemptId)) {
        const delayS = Math.min(30, 2 ** w.tries);
        w.log.warn({ err: e.details ?? e.message, code: e.code, retryInS: delayS }, "results push failed; trying again");
        w.timer = setTimeout(() => {
          w.timer = null;
          void this.pushThenReport(attemptId);
        }, delayS * 1000);
        return;
      }
      w.log.error({ err: e.details ?? e.message, code: e.code }, "the coordinator refused the results");
      result = {
        ...result,
        outcome: AttemptOutcome.OUTCOME_FAILED,
        errorClass: ErrorClass.ERROR_CLASS_BAD_OUTPUT,
        errorMessage: `results refused by the coordinator: ${e.details ?? e.message}`,
      };
    } finally {
      this.pushing.delete(attemptId);
    }
    if (!this.awaiting.delete(attemptId)) return; // cancelled meanwhile
    this.o.report(result);
  }

  /** The coordinator no longer wants the attempt: no push, no report. */
  forget(attemptId: number): void {
    const w = this.awaiting.get(attemptId);
    if (w?.timer) clearTimeout(w.timer);
    this.awaiting.delete(attemptId);
  }

  /**
   * The agent stops before these pushes were done: each attempt is given up and its result
   * returned as cancelled (handed back: requeued, not counted); a push still under way no
   * longer reports.
   */
  handBack(reason: string): AttemptResult[] {
    const results = [...this.awaiting.values()].map((w) => ({
      ...w.result,
      outcome: AttemptOutcome.OUTCOME_CANCELLED,
      errorClass: ErrorClass.ERROR_CLASS_CANCELLED,
      errorMessage: reason,
    }));
    for (const w of this.awaiting.values()) if (w.timer) clearTimeout(w.timer);
    this.awaiting.clear();
    return results;
  }

  /** The agent stops: no push waits for its pause to end. */
  stop(): void {
    for (const w of this.awaiting.values()) if (w.timer) clearTimeout(w.timer);
  }
}
