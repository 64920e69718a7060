// The DownloadService (proto/downloads.proto) behind `beamflow requests` and `beamflow
// downloads`: the tracker's requests and transfers, the running transfers' progress and
// the space budget. Served on the admin socket, behind the admin token.
import * as grpc from "@grpc/grpc-js";
import type { DownloadServiceServer, DownloadView, ListDownloadsReply, ListRequestsReply, RequestView } from "../../shared/gen/downloads";
import { bearerToken, sameSecret } from "../../shared/protocol/auth";
import type { Tracker } from "../tracker/tracker";
import type { RequestListRow } from "../tracker/downloads";
import type { Downloader } from "./downloader";

const REFUSED = "admin call refused: missing or wrong admin token";

function unary<Req, Res>(token: string, fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const given = bearerToken(call.metadata);
    if (!given || !sameSecret(given, token)) {
      callback(Object.assign(new Error(REFUSED), { code: grpc.status.UNAUTHENTICATED, details: REFUSED, metadata: new grpc.Metadata() }));
      return;
    }
    try {
      callback(null, fn(call.request));
    } catch (err) {
      const msg = (err as Error).message;
      callback(Object.assign(new Error(msg), { code: grpc.status.INTERNAL, details: msg, metadata: new grpc.Metadata() }));
    }
  };
}

export function requestView(r: RequestListRow): RequestView {
  return {
    id: r.id,
    source: r.source,
    guid: r.guid,
    status: r.status,
    beams: r.numrequested ?? 0,
    files: r.files,
    downloaded: r.downloaded,
    pending: r.pending,
    failed: r.failed,
    size: r.size ?? 0,
    attempts: r.attempts,
    errorClass: r.error_class,
    details: r.details,
    nextTryAt: r.next_try_at ?? 0,
    cleanupError: r.cleanup_error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function listRequests(tracker: Tracker, downloader: Downloader, limit: number): ListRequestsReply {
  return {
    requests: tracker.downloads.listRequests(limit || 200).map(requestView),
    sources: downloader.snapshot().waiting.map((w) => ({ source: w.source, waitingFor: w.why })),
  };
}

export function listDownloads(tracker: Tracker, downloader: Downloader, limit: number): ListDownloadsReply {
  const snap = downloader.snapshot();
  const live = new Map(snap.active.map((t) => [t.attemptId, t]));
  const rows = tracker.downloads.listAttempts((limit || 50) + live.size);
  const downloads: DownloadView[] = rows.map((a) => {
    const t = live.get(a.id);
    const file = tracker.downloads.file(a.file_id);
    const secs = (a.finished_at ?? 0) - a.created_at;
    return {
      attemptId: a.id,
      fileId: a.file_id,
      requestId: a.request_id ?? 0,
      source: a.source,
      name: a.filename.split("/").pop() ?? a.filename,
      url: a.remote_url,
      status: a.status,
      size: a.size,
      bytes: t ? t.bytes : a.bytes,
      resumedFrom: a.resumed_from,
      rate: t ? t.rate : secs > 0 ? (a.bytes - a.resumed_from) / secs : 0,
      errorClass: a.error_class,
      details: a.details,
      startedAt: a.created_at,
      finishedAt: a.finished_at ?? 0,
      fileStatus: file?.status ?? "",
      fileTries: file?.tries ?? 0,
    };
  });
  const b = snap.budget;
  return {
    downloads,
    budget: {
      spaceToUse: b.spaceToUse,
      minFreeSpace: b.minFreeSpace,
      used: b.used,
      pending: b.pending,
      free: b.free,
      inflight: b.inflight,
      rate: b.rate ?? 0,
      numdownloads: snap.numdownloads,
    },
    sources: snap.waiting.map((w) => ({ source: w.source, waitingFor: w.why })),
    dirProblems: snap.dirProblems,
  };
}

export function downloadService(tracker: Tracker, downloader: Downloader, adminToken: string): DownloadServiceServer {
  return {
    listRequests: unary(adminToken, (req) => listRequests(tracker, downloader, req.limit)),
    listDownloads: unary(adminToken, (req) => listDownloads(tracker, downloader, req.limit)),
  };
}
