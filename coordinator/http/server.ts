// The coordinator's HTTP side for operators: Prometheus metrics and a live status
// page, on node:http, protected by the admin token like the admin API.
//
// Configured by coordinator.http_listen (loopback only until TLS is added; "" turns
// it off); Coordinator.start starts it after the admin socket.
//
// Authentication: every request needs the admin token, either as
// `Authorization: Bearer <token>` (scrapers, curl) or, for a browser, once as
// `?token=<token>`: the answer sets an HttpOnly, SameSite=Strict cookie holding a
// session of its own (random, kept server-side, expiring: sessions.ts, never the token) and
// redirects to the same URL without the token (so it leaves the address bar and
// history). Anything else gets 401.
//
// Endpoints:
//   GET /                          the status page (self-contained HTML)
//   GET /api/snapshot              the page's data as JSON (see snapshot.ts)
//   GET /events                    SSE: `snapshot` events, on job changes (debounced 250 ms, longer on a big cluster) and every 5 s
//   GET /logs/:attempt/events      SSE: an attempt's log from ?offset=N, followed live, then `end`
//   GET /metrics                   Prometheus text format (see metrics.ts)
import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import type { Logger } from "../../shared/logging/logger";
import { sameSecret } from "../../shared/protocol/auth";
import { parseLoopbackListen } from "../../shared/protocol/loopback-listen";
import type { TailDeps } from "../logs/tail";
import type { MetricsDeps } from "./metrics";
import type { Snapshot, SnapshotDeps } from "./snapshot";

/** The status page's and /metrics' view of the coordinator. */
export type HttpDeps = SnapshotDeps & MetricsDeps & TailDeps;
import { followLog, sseEvent, sseHeaders } from "./log-events";
import { coordinatorMetrics } from "./metrics";
import { pageCsp, statusPage } from "./page";
import { snapshot } from "./snapshot";
import { BrowserSessions } from "./sessions";

export interface HttpOptions {
  /** HOST:PORT; port 0 picks a free one (the returned url has the real one) */
  listen: string;
  /** the admin token */
  token: string;
  log: Logger;
  /** how long a browser's session lasts (seconds; SESSION_S unless set) */
  sessionS?: number;
  /** how often /events sends a snapshot without a job change (ms) */
  snapshotEveryMs?: number;
}

export interface HttpServer {
  url: string;
  close(): Promise<void>;
}

export const COOKIE = "beamflow_session";
const DEBOUNCE_MS = 250;
/** At most this share of the coordinator's time goes to building status-page snapshots. */
const SNAPSHOT_SHARE = 0.05;

function cookieToken(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === COOKIE) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function text(res: http.ServerResponse, status: number, body: string, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", ...headers });
  res.end(body.endsWith("\n") ? body : body + "\n");
}

export async function startHttp(deps: HttpDeps, opts: HttpOptions): Promise<HttpServer> {
  const { host, port } = parseLoopbackListen(opts.listen, "coordinator.http_listen");
  if (!opts.token) throw new Error("the status page needs the admin token");
  const log = opts.log;
  const metrics = coordinatorMetrics(deps);

  // ---- the snapshot, and its broadcast to /events clients ----
  // A snapshot costs ~0.03-0.1 ms per agent. On a cluster of thousands, built on every job
  // change, it would take the coordinator's time from its agents; so the newest one is reused
  // until it is older than its own build time allows (SNAPSHOT_SHARE), which on a small
  // cluster is a few ms, and one is built at a time.
  let last: { snap: Snapshot; at: number; ms: number } | undefined;
  let building: Promise<Snapshot> | undefined;
  const reuseUntil = () => (last ? last.at + last.ms / SNAPSHOT_SHARE : 0);
  const currentSnapshot = (): Promise<Snapshot> => {
    if (last && Date.now() < reuseUntil()) return Promise.resolve(last.snap);
    building ??= (async () => {
      const t0 = performance.now();
      try {
        const snap = await snapshot(deps);
        last = { snap, at: Date.now(), ms: performance.now() - t0 };
        return snap;
      } finally {
        building = undefined;
      }
    })();
    return building;
  };
  const clients = new Set<http.ServerResponse>();
  let debounce: NodeJS.Timeout | undefined;
  const broadcast = async () => {
    debounce = undefined;
    if (clients.size === 0) return;
    let event: string;
    try {
      event = sseEvent("snapshot", await currentSnapshot());
    } catch (err) {
      log.warn({ err }, "status page: snapshot failed");
      return;
    }
    for (const c of clients) c.write(event);
  };
  const onJobChanged = () => {
    // Past the reuse of the last snapshot (with a margin for the two clocks), so the change is in the next.
    if (!debounce && clients.size) debounce = setTimeout(() => void broadcast(), Math.max(DEBOUNCE_MS, reuseUntil() - Date.now() + 20));
  };
  deps.events.on("jobChanged", onJobChanged);
  const periodic = setInterval(() => void broadcast(), opts.snapshotEveryMs ?? 5000);

  const sessions = new BrowserSessions(opts.sessionS);
  const authorized = (req: http.IncomingMessage): boolean => {
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (auth !== undefined) return sameSecret(auth, opts.token);
    const c = cookieToken(req);
    return c !== undefined && sessions.valid(c);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const given = url.searchParams.get("token");
    if (given !== null) {
      if (!sameSecret(given, opts.token)) return text(res, 401, "wrong admin token");
      url.searchParams.delete("token");
      return text(res, 303, "token accepted; see " + url.pathname + url.search, {
        Location: url.pathname + url.search,
        "Set-Cookie": `${COOKIE}=${sessions.create()}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${sessions.maxAgeS}`,
        "Referrer-Policy": "no-referrer",
      });
    }
    if (!authorized(req)) {
      return text(
        res,
        401,
        "admin token required: send 'Authorization: Bearer <token>', or open /?token=<token> once in a browser " +
          "(the token is in the coordinator's data_dir/admin.token)",
        { "WWW-Authenticate": 'Bearer realm="beamflow"' },
      );
    }
    if (req.method !== "GET" && req.method !== "HEAD") return text(res, 405, "only GET here", { Allow: "GET, HEAD" });

    const path = url.pathname;
    if (path === "/metrics") {
      const body = await metrics.registry.metrics();
      res.writeHead(200, { "Content-Type": metrics.registry.contentType, "Cache-Control": "no-store" });
      res.end(body);
      return;
    }
    if (path === "/" || path === "/index.html") {
      const snap = await currentSnapshot();
      const nonce = crypto.randomBytes(16).toString("base64");
      res.writeHead(200, {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Content-Security-Policy": pageCsp(nonce),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
      });
      res.end(statusPage(snap, nonce));
      return;
    }
    if (path === "/api/snapshot") {
      const snap = await currentSnapshot();
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff" });
      res.end(JSON.stringify(snap));
      return;
    }
    if (path === "/events") {
      const snap = await currentSnapshot();
      sseHeaders(res);
      res.write("retry: 2000\n\n" + sseEvent("snapshot", snap));
      clients.add(res);
      const drop = () => clients.delete(res);
      req.on("close", drop);
      res.on("close", drop);
      return;
    }
    const logPath = /^\/logs\/(\d+)\/events$/.exec(path);
    if (logPath) {
      const attemptId = Number(logPath[1]);
      if (!deps.tracker.attempt(attemptId)) return text(res, 404, `no attempt ${attemptId}`);
      const lastId = req.headers["last-event-id"];
      const from = typeof lastId === "string" && /^\d+$/.test(lastId) ? lastId : (url.searchParams.get("offset") ?? "0");
      if (!/^\d+$/.test(from)) return text(res, 400, "offset must be a byte offset (a whole number)");
      followLog(deps, req, res, attemptId, Number(from));
      return;
    }
    return text(res, 404, "not found");
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err, url: req.url }, "status page: request failed");
      if (!res.headersSent) text(res, 500, "internal error (see the coordinator's log)");
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    clearInterval(periodic);
    deps.events.off("jobChanged", onJobChanged);
    metrics.dispose();
    throw new Error(`cannot listen on ${opts.listen} for the status page: ${(err as Error).message}`);
  }
  const addr = server.address() as net.AddressInfo;
  const url = `http://${addr.family === "IPv6" ? `[${addr.address}]` : addr.address}:${addr.port}`;
  log.info({ url }, "status page and metrics listening");

  let closed: Promise<void> | undefined;
  return {
    url,
    close() {
      closed ??= new Promise<void>((resolve) => {
        clearInterval(periodic);
        if (debounce) clearTimeout(debounce);
        deps.events.off("jobChanged", onJobChanged);
        metrics.dispose();
        for (const c of clients) c.end();
        clients.clear();
        server.close(() => resolve());
        // SSE log followers and idle keep-alive sockets would hold close() open.
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
