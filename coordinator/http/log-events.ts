// `GET /logs/:attempt/events?offset=N`: an attempt's log as Server-Sent Events,
// following the file like the admin TailLog (coordinator/logs/tail.ts): read from
// the file at an offset whenever the LogStore announces an "append", write at the
// client's pace (the response's drain), and finish with an `end` event once the
// attempt is over and everything stored has been sent.
//
// Events:  `chunk`  data {"offset":N,"b64":"…"}  id = the offset after the chunk
//          `end`    data {"offset":N,"status":"processed"}
// Chunks are base64 so split UTF-8 sequences and control bytes pass unharmed; the
// page decodes them with a streaming TextDecoder. A reconnecting EventSource sends
// Last-Event-ID, which is taken as the offset to go on from.
import type http from "node:http";
import type { Logger } from "../../shared/logging/logger";
import type { TailDeps } from "../logs/tail";
import { isLiveAttempt } from "../tracker/states";

const READ_BYTES = 64 * 1024;

export function sseHeaders(res: http.ServerResponse): void {
  res.writeHead(200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
  });
  res.flushHeaders();
}

/** One SSE event; data is JSON, so it never holds a raw newline. */
export function sseEvent(event: string, data: unknown, id?: string | number): string {
  return `event: ${event}\n${id !== undefined ? `id: ${id}\n` : ""}data: ${JSON.stringify(data)}\n\n`;
}

export function followLog(deps: TailDeps & { log: Logger }, req: http.IncomingMessage, res: http.ServerResponse, attemptId: number, startOffset: number): void {
  const store = deps.logs;
  let offset = startOffset;
  let busy = false;
  let again = false;
  let done = false;

  const live = () => {
    const a = deps.tracker.attempt(attemptId);
    return a !== undefined && isLiveAttempt(a.status);
  };

  const stop = () => {
    if (done) return;
    done = true;
    store.off("append", onAppend);
    deps.events.off("jobChanged", onChange);
    clearInterval(keepAlive);
  };

  const finish = () => {
    if (done) return;
    const status = deps.tracker.attempt(attemptId)?.status ?? "";
    stop();
    res.end(sseEvent("end", { offset, status }));
  };

  const pump = async (): Promise<void> => {
    if (done) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      for (;;) {
        again = false;
        const piece = store.readAt(attemptId, offset, READ_BYTES);
        if (!piece) {
          if (!live()) {
            // Re-check after the status read: chunks stored just before the end belong in.
            if (store.readAt(attemptId, offset, READ_BYTES)) continue;
            return finish();
          }
          if (again) continue;
          return;
        }
        const from = piece.offset;
        offset = piece.next;
        const data = piece.data;
        const ok = res.write(sseEvent("chunk", { offset: from, b64: data.toString("base64") }, offset));
        if (!ok)
          await new Promise<void>((resolve) => {
            res.once("drain", resolve);
            res.once("close", resolve);
          });
        if (done) return;
      }
    } catch (err) {
      deps.log.warn({ err, attempt: attemptId }, "status page: following a log failed");
      stop();
      res.destroy();
    } finally {
      busy = false;
    }
  };

  const onAppend = (id: number) => {
    if (id === attemptId) void pump();
  };
  const onChange = () => void pump();
  store.on("append", onAppend);
  deps.events.on("jobChanged", onChange);
  // A comment now and then keeps proxies from timing out; the pump also catches an end missed between events.
  const keepAlive = setInterval(() => {
    if (!done) {
      res.write(": keep-alive\n\n");
      void pump();
    }
  }, 5_000);
  req.on("close", stop);
  res.on("close", stop);
  sseHeaders(res);
  res.write("retry: 2000\n\n");
  void pump();
}
