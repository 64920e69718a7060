// Starts and stops a coordinator: the tracker lock, the restored state, the
// agent gRPC port and the admin socket.
import crypto from "node:crypto";
import fs from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { Config } from "../shared/config/schema";
import { AdminServiceWire } from "../shared/protocol/log-data-wire";
import { AgentServiceWire } from "../shared/protocol/log-wire";
import { DownloadServiceService } from "../shared/gen/downloads";
import { createLogger, type Logger } from "../shared/logging/logger";
import { serverCredentials } from "../shared/protocol/credentials";
import { adminTokenPath } from "../shared/protocol/auth";
import { adminService } from "./admin/admin-api";
import { downloadService } from "./downloader/download-api";
import { agentService } from "./agent-api";
import { widenReceiveWindow } from "./receive-window";
import { CoordinatorCore, settingsFrom, type CoreSettings } from "./core";
import { openTracker, TrackerLock } from "./tracker/open";
import { Notifier } from "./notify";
import { startHttp } from "./http/server";
import { clearIncoming } from "./results/results-tree";

export const SERVER_OPTIONS: grpc.ServerOptions = {
  "grpc.keepalive_time_ms": 20_000,
  "grpc.keepalive_timeout_ms": 10_000,
  "grpc.keepalive_permit_without_calls": 1,
  "grpc.http2.min_ping_interval_without_data_ms": 5_000,
  "grpc.max_receive_message_length": 64 << 20,
};

/** The admin token file, created (mode 0600) on first use; the CLI reads the same file. */
export function ensureAdminToken(cfg: Config): string {
  const file = adminTokenPath(cfg);
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    const token = crypto.randomBytes(24).toString("base64url");
    fs.mkdirSync(cfg.data_dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, token + "\n", { mode: 0o600, flag: "wx" });
    return token;
  }
}

function bind(server: grpc.Server, address: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(address, creds, (err, port) => (err ? reject(new Error(`cannot listen on ${address}: ${err.message}`)) : resolve(port))),
  );
}

export class Coordinator {
  private constructor(
    readonly core: CoordinatorCore,
    private readonly lock: TrackerLock,
    private readonly agentServer: grpc.Server,
    private readonly adminServer: grpc.Server,
    /** the bound agent address (the real port when the config said :0) */
    readonly agentAddress: string,
    readonly adminSocket: string,
    /** the status page and /metrics, when configured */
    readonly http: { url: string; close(): Promise<void> } | null,
  ) {}

  static async start(cfg: Config, opts: { log?: Logger; settings?: Partial<CoreSettings> } = {}): Promise<Coordinator> {
    const log = opts.log ?? createLogger("coordinator", cfg.logging.level);
    fs.mkdirSync(cfg.data_dir, { recursive: true, mode: 0o700 });
    const lock = TrackerLock.acquire(cfg.coordinator.db);
    let core: CoordinatorCore | undefined;
    let notifier: Notifier | undefined;
    let http: { url: string; close(): Promise<void> } | null = null;
    const agentServer = new grpc.Server(SERVER_OPTIONS);
    const adminServer = new grpc.Server();
    try {
      // Built first: a missing SMTP password or webhook secret file stops the start.
      notifier = new Notifier(cfg.notify, log.child({ part: "notify" }));
      const db = openTracker(cfg.coordinator.db);
      core = new CoordinatorCore(db, cfg, { ...settingsFrom(cfg), ...opts.settings }, log, notifier);
      core.restore();
      const stale = clearIncoming(cfg.results.dir);
      if (stale) log.warn({ stale }, "removed results transfers left unfinished by an earlier run");
      const agents = agentService(core);
      // Agents' streams take heavy log output without a window update every 64 KiB.
      const connect: typeof agents.connect = (call) => {
        widenReceiveWindow(call);
        agents.connect(call);
      };
      // Log output arrives decoded without copies (shared/protocol/log-wire.ts).
      agentServer.addService(AgentServiceWire, { ...agents, connect });
      const listen = cfg.coordinator.listen;
      const port = await bind(agentServer, listen, serverCredentials(listen, cfg.coordinator.tls, cfg.coordinator.allow_insecure_remote));
      const agentAddress = listen.startsWith("unix:") ? listen : listen.replace(/:\d+$/, `:${port}`);

      // TailLog's output is serialized without the generic encoder's copies (shared/protocol/log-wire.ts).
      adminServer.addService(AdminServiceWire, adminService(core, ensureAdminToken(cfg)));
      adminServer.addService(DownloadServiceService, downloadService(core.tracker, core.downloader, ensureAdminToken(cfg)));
      const sock = cfg.coordinator.admin_socket;
      fs.rmSync(sock, { force: true }); // a socket left by a crashed coordinator (we hold the lock)
      await bind(adminServer, `unix:${sock}`, grpc.ServerCredentials.createInsecure());
      fs.chmodSync(sock, 0o600);
      http = cfg.coordinator.http_listen
        ? await startHttp(core, { listen: cfg.coordinator.http_listen, token: ensureAdminToken(cfg), log: log.child({ part: "http" }) })
        : null;
      log.info({ agents: agentAddress, admin: sock, http: http?.url, db: cfg.coordinator.db }, "coordinator listening");
      return new Coordinator(core, lock, agentServer, adminServer, agentAddress, sock, http);
    } catch (err) {
      await http?.close();
      core?.stop();
      await core?.stopUploads();
      agentServer.forceShutdown();
      adminServer.forceShutdown();
      core?.tracker.close();
      await notifier?.close();
      lock.release();
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.http?.close();
    this.core.stop();
    for (const a of this.core.registry.all()) a.link?.close("coordinator shutting down");
    await Promise.all(
      [this.agentServer, this.adminServer].map(
        (s) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              s.forceShutdown();
              resolve();
            }, 2000);
            s.tryShutdown(() => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    await this.core.stopUploads();
    this.core.tracker.close();
    await this.core.notifier?.close();
    fs.rmSync(this.adminSocket, { force: true });
    this.lock.release();
  }
}
