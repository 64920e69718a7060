// Call credentials as gRPC metadata: agents and the admin CLI each present a bearer token.
import crypto from "node:crypto";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { Config } from "../config/schema";

export const AGENT_ID_HEADER = "x-beamflow-agent";

/** Where the coordinator keeps the admin token (it writes it; the CLI and the status page's users read it). */
export function adminTokenPath(cfg: Config): string {
  return path.join(cfg.data_dir, "admin.token");
}

export function bearerMetadata(token: string, agentId?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set("authorization", `Bearer ${token}`);
  if (agentId) md.set(AGENT_ID_HEADER, agentId);
  return md;
}

export function bearerToken(md: grpc.Metadata): string | undefined {
  const v = md.get("authorization")[0];
  if (typeof v !== "string") return undefined;
  const m = /^Bearer (.+)$/.exec(v);
  return m?.[1];
}

/** Constant-time comparison, so a token can't be guessed byte by byte from response times. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
