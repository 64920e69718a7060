// Enrolment: an agent with no credential yet, but an enrolment token (agent.enrol_token_file,
// from `beamflow token create`), trades the token for its own credential once and keeps it
// in agent.token_file (mode 0600, written atomically). Later starts find the credential
// there and do not enrol again.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { EnrolReply } from "../../shared/gen/agent";
import type { Logger } from "../../shared/logging/logger";
import { bearerMetadata } from "../../shared/protocol/auth";
import type { TlsFiles } from "../../shared/protocol/credentials";
import { coordinatorClient } from "./coordinator-client";
import { jitter } from "./jitter";

/** The coordinator refused the enrolment (the token or the id): trying again cannot help. */
export class EnrolmentRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EnrolmentRefused";
  }
}

export interface EnrolOptions {
  agentId: string;
  /** agent.token_file: where the credential is, or will be kept */
  tokenFile: string;
  /** agent.enrol_token_file ("" = none) */
  enrolTokenFile: string;
  coordinator: string;
  tls?: TlsFiles;
  reconnectInitialS: number;
  reconnectMaxS: number;
  log: Logger;
}

/** The credential in `file`, or undefined when there is none yet (missing or empty). */
export function storedCredential(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8").trim() || undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new Error(`cannot read the agent token ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Writes a secret so that the file is either absent or complete, mode 0600 from its first byte. */
export function writeSecretFile(file: string, secret: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, "w", 0o600);
  try {
    fs.writeSync(fd, `${secret}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

function readEnrolToken(file: string): string {
  let token: string;
  try {
    token = fs.readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new EnrolmentRefused(
      `cannot read the enrolment token ${file} (agent.enrol_token_file): ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (!token) throw new EnrolmentRefused(`the enrolment token file ${file} (agent.enrol_token_file) is empty`);
  return token;
}

function callEnrol(o: EnrolOptions, secret: string): Promise<EnrolReply> {
  const client = coordinatorClient(o.coordinator, o.tls);
  return new Promise<EnrolReply>((resolve, reject) => {
    client.enrol({ agentId: o.agentId, hostname: os.hostname() }, bearerMetadata(secret), { deadline: Date.now() + 30_000 }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res);
    });
  });
}

/**
 * The agent's credential: the one kept in token_file, else one got by enrolling with the
 * enrolment token (retried while the coordinator cannot be reached; a refusal is final).
 */
export async function agentCredential(o: EnrolOptions): Promise<{ token: string; enrolled: boolean }> {
  const stored = storedCredential(o.tokenFile);
  if (stored) return { token: stored, enrolled: false };
  if (!o.enrolTokenFile)
    throw new Error(
      `no agent token in ${o.tokenFile}: register the agent with 'beamflow register-agent ${o.agentId} --token-file ${o.tokenFile}' on the coordinator and copy the file here, or give an enrolment token (agent.enrol_token_file, from 'beamflow token create')`,
    );
  const secret = readEnrolToken(o.enrolTokenFile);
  let backoffS = o.reconnectInitialS;
  for (;;) {
    try {
      const r = await callEnrol(o, secret);
      writeSecretFile(o.tokenFile, r.token);
      o.log.info({ tokenFile: o.tokenFile, ephemeral: r.ephemeral }, "enrolled: this agent's own credential is kept in its token file");
      return { token: r.token, enrolled: true };
    } catch (err) {
      const e = err as grpc.ServiceError;
      if (e.code !== grpc.status.UNAVAILABLE && e.code !== grpc.status.DEADLINE_EXCEEDED) {
        if (typeof e.code === "number") throw new EnrolmentRefused(`the coordinator refused the enrolment of agent '${o.agentId}': ${e.details || e.message}`);
        throw err;
      }
      const delay = jitter(backoffS, 0.5);
      backoffS = Math.min(o.reconnectMaxS, backoffS * 2);
      o.log.warn({ reason: e.details || e.message, retryInS: Number(delay.toFixed(2)) }, "cannot reach the coordinator to enrol: trying again");
      await new Promise((r) => setTimeout(r, delay * 1000));
    }
  }
}
