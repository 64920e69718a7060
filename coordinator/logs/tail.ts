// AdminService.TailLog: an attempt's stored log from an offset, then live output
// as it is stored, until the attempt is over. The reader follows the file at its
// own pace (gRPC flow control), so a slow reader holds no extra memory here.
import * as grpc from "@grpc/grpc-js";
import type { LogData, TailLogRequest } from "../../shared/gen/admin";
import type { CoordinatorEvents } from "../lifecycle/coordinator-events";
import type { Tracker } from "../tracker/tracker";
import type { LogStore } from "./log-store";
import { isLiveAttempt } from "../tracker/states";
import { FramePool } from "../../shared/protocol/log-data-wire";

// Up to 1 MiB per message: heavy output goes to a follower in few large frames
// (a message per stored chunk cost the coordinator more than the bytes themselves), each
// read from the file into the Buffer its message is written around, one the followers
// share and use again once gRPC has taken the message (FramePool).
const READ_BYTES = 1024 * 1024;
const frames = new FramePool(READ_BYTES, 4);

/** What following a log reads: the attempts, their stored output, and news of their end. */
export interface TailDeps {
  tracker: Tracker;
  logs: LogStore;
  events: CoordinatorEvents;
}

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** The attempt a request names: the attempt itself, or the job's latest. */
function resolveAttempt(deps: TailDeps, req: TailLogRequest): number | grpc.ServiceError {
  if (req.attemptId) {
    return deps.tracker.attempt(req.attemptId) ? req.attemptId : serviceError(grpc.status.NOT_FOUND, `no attempt ${req.attemptId}`);
  }
  const job = deps.tracker.job(req.jobId);
  if (!job) return serviceError(grpc.status.NOT_FOUND, `no job ${req.jobId}`);
  const attempts = deps.tracker.attemptsOfJob(job.id);
  if (attempts.length === 0) return serviceError(grpc.status.FAILED_PRECONDITION, `job ${job.id} has not started yet (${job.status})`);
  return attempts[attempts.length - 1].id;
}

export function tailLog(deps: TailDeps, call: grpc.ServerWritableStream<TailLogRequest, LogData>): void {
  const req = call.request;
  const attemptId = resolveAttempt(deps, req);
  if (typeof attemptId !== "number") {
    call.emit("error", attemptId);
    return;
  }
  const store = deps.logs;
  let offset = Number(req.offset) || 0;
  let busy = false;
  let done = false;

  const live = () => {
    const a = deps.tracker.attempt(attemptId);
    return a !== undefined && isLiveAttempt(a.status);
  };

  const finish = () => {
    if (done) return;
    done = true;
    store.off("append", onAppend);
    deps.events.off("jobChanged", onJobChanged);
    const status = deps.tracker.attempt(attemptId)?.status ?? "";
    call.write({ attemptId, offset, data: Buffer.alloc(0), end: true, attemptStatus: status, nextOffset: offset });
    call.end();
  };

  const pump = async () => {
    if (busy || done) return;
    busy = true;
    // Read once per wake-up, not per piece: it is only a label on the data, and a
    // tracker query per 256 KiB was a tenth of the coordinator's time on heavy output.
    const status = deps.tracker.attempt(attemptId)?.status ?? "";
    try {
      for (;;) {
        const piece = store.readAt(attemptId, offset, READ_BYTES, req.step, (n) => frames.alloc(n));
        if (!piece) {
          const stillLive = live();
          if (!req.follow || !stillLive) {
            // Re-check after the status read: chunks stored just before the end belong in.
            if (!store.readAt(attemptId, offset, READ_BYTES, req.step)) return finish();
            continue;
          }
          return;
        }
        offset = piece.next;
        if (!call.write({ attemptId, offset: piece.offset, data: piece.data, end: false, attemptStatus: status, nextOffset: piece.next })) {
          await new Promise((resolve) => call.once("drain", resolve));
        }
        if (done) return;
      }
    } finally {
      busy = false;
    }
  };

  const onAppend = (id: number) => {
    if (id === attemptId) void pump();
  };
  const onJobChanged = () => void pump();
  store.on("append", onAppend);
  deps.events.on("jobChanged", onJobChanged);
  call.on("cancelled", () => {
    done = true;
    store.off("append", onAppend);
    deps.events.off("jobChanged", onJobChanged);
  });
  void pump();
}
