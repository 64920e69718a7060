// The CLI's connection to a running coordinator: its admin socket and token.
import fs from "node:fs";
import * as grpc from "@grpc/grpc-js";
import type { AdminServiceClient } from "../shared/gen/admin";
import { AdminServiceWireClient } from "../shared/protocol/log-data-wire";
import type { Config } from "../shared/config/schema";
import { adminTokenPath, bearerMetadata } from "../shared/protocol/auth";
import { CliError, EXIT, exitForGrpc } from "./exit-codes";

export { CliError };

const FLOW_CONTROL_WINDOW = 8 << 20;

export interface Admin {
  client: AdminServiceClient;
  metadata: grpc.Metadata;
}

export function connectAdmin(cfg: Config): Admin {
  const tokenFile = adminTokenPath(cfg);
  let token: string;
  try {
    token = fs.readFileSync(tokenFile, "utf8").trim();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CliError(`no admin token at ${tokenFile}: is the coordinator running with data_dir ${cfg.data_dir}?`, EXIT.unavailable);
    throw new CliError(`cannot read the admin token ${tokenFile}: ${code}`, EXIT.permission);
  }
  if (!fs.existsSync(cfg.coordinator.admin_socket)) {
    throw new CliError(
      `no coordinator is listening at ${cfg.coordinator.admin_socket} (start it with 'beamflow coordinator' or 'beamflow up')`,
      EXIT.unavailable,
    );
  }
  // A larger HTTP/2 window than the 64 KiB default: `logs -f` takes heavy output in 1 MiB
  // messages without waiting for a window update every 64 KiB, decoded without copies
  // (shared/protocol/log-wire.ts).
  const options = { "grpc-node.flow_control_window": FLOW_CONTROL_WINDOW };
  return {
    client: new AdminServiceWireClient(`unix:${cfg.coordinator.admin_socket}`, grpc.credentials.createInsecure(), options),
    metadata: bearerMetadata(token),
  };
}

type UnaryMethod<Req, Res> = (
  req: Req,
  md: grpc.Metadata,
  opts: Partial<grpc.CallOptions>,
  cb: (err: grpc.ServiceError | null, res: Res) => void,
) => grpc.ClientUnaryCall;

/** Calls one admin method; a gRPC error becomes a CliError carrying the coordinator's own message and the exit status its code maps to. */
export function call<Req, Res>(admin: Admin, method: UnaryMethod<Req, Res>, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(admin.client, req, admin.metadata, { deadline: Date.now() + 60_000 }, (err, res) => {
      if (!err) return resolve(res);
      if (err.code === grpc.status.UNAVAILABLE)
        reject(new CliError(`cannot reach the coordinator at ${admin.client.getChannel().getTarget()}: ${err.details}`, EXIT.unavailable));
      else reject(new CliError(err.details || err.message, exitForGrpc(err.code)));
    });
  });
}
