// The agent's GET /metrics for Prometheus: loopback only (no TLS here), and only with
// the read-only metrics token (agent.metrics_token_file) as `Authorization: Bearer`:
// never the agent's credential, which a scraper's config would otherwise leak.
import http from "node:http";
import type { Logger } from "../../shared/logging/logger";
import { sameSecret } from "../../shared/protocol/auth";
import { parseLoopbackListen } from "../../shared/protocol/loopback-listen";
import type { AgentMetrics } from "./agent-metrics";

export interface MetricsServer {
  url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(metrics: AgentMetrics, opts: { listen: string; token: string; log: Logger }): Promise<MetricsServer> {
  const { host, port } = parseLoopbackListen(opts.listen, "agent.metrics_listen");
  if (opts.token.length < 16) throw new Error("agent.metrics_listen needs a metrics token of at least 16 characters (agent.metrics_token_file)");
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" || path !== "/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("only GET /metrics here\n");
      return;
    }
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!token || !sameSecret(token, opts.token)) {
      res
        .writeHead(401, { "Content-Type": "text/plain", "WWW-Authenticate": 'Bearer realm="beamflow-agent"' })
        .end("the metrics token is required: 'Authorization: Bearer <the contents of agent.metrics_token_file>'\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": metrics.registry.contentType }).end(text),
      (err: unknown) => {
        opts.log.error({ err }, "collecting metrics failed");
        res.writeHead(500, { "Content-Type": "text/plain" }).end("collecting metrics failed\n");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`agent.metrics_listen ${opts.listen}: ${err.message}`)));
    server.listen(port, host, resolve);
  });
  const addr = server.address() as { address: string; port: number };
  const url = `http://${addr.address.includes(":") ? `[${addr.address}]` : addr.address}:${addr.port}/metrics`;
  opts.log.info({ url }, "agent metrics listening");
  return { url, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
