// The gRPC AgentService: authenticates each agent call, then hands the stream
// to an AgentSession. Stage-in (FetchFile) serves only files of attempts that
// the calling agent holds; stage-out (PushResults) accepts only their results.
import fs from "node:fs";
import type { PeerCertificate } from "node:tls";
import * as grpc from "@grpc/grpc-js";
import type {
  AgentMessage,
  AgentServiceServer,
  CoordinatorMessage,
  EnrolReply,
  EnrolRequest,
  FetchFileRequest,
  FileChunk,
  ResultsPart,
  ResultsReceipt,
} from "../shared/gen/agent";
import { AGENT_ID_HEADER, bearerToken, sameSecret } from "../shared/protocol/auth";
import { peerCertificateRefusal } from "../shared/protocol/peer-names";
import type { Config } from "../shared/config/schema";
import type { Logger } from "../shared/logging/logger";
import type { CoordinatorEvents } from "./lifecycle/coordinator-events";
import type { SessionDeps } from "./sessions/agent-session";
import type { Tracker } from "./tracker/tracker";
import { AgentSession } from "./sessions/agent-session";
import { receiveResults } from "./results/receive-results";
import { hashToken } from "./tracker/tracker";
import { isLiveAttempt } from "./tracker/states";
import { ENROL_TOKEN_PREFIX, EnrolRefused } from "./tracker/agent-access";
import { revokedMessage } from "./sessions/agent-access";
import type { AgentRegistry } from "./sessions/registry";

const CHUNK = 1 << 20;

function grpcError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

/** What the agent service reads: the tracker (agents, attempts, files), what sessions need, and where results go. */
export interface AgentApiDeps {
  tracker: Tracker;
  config: Config;
  sessionDeps: SessionDeps;
  events: CoordinatorEvents;
  /** who is connected now (an ephemeral agent cannot enrol again under an id that is) */
  registry: AgentRegistry;
  log: Logger;
}

/** Returns the agent id, or an error saying exactly which part of the credentials is wrong. */
export function authenticateAgent(
  deps: Pick<AgentApiDeps, "tracker" | "config">,
  md: grpc.Metadata,
  peer?: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } },
): string | grpc.ServiceError {
  const id = md.get(AGENT_ID_HEADER)[0];
  const token = bearerToken(md);
  if (typeof id !== "string" || !id) return grpcError(grpc.status.UNAUTHENTICATED, `missing ${AGENT_ID_HEADER} metadata: the agent must name itself`);
  if (!token) return grpcError(grpc.status.UNAUTHENTICATED, `agent ${id}: missing bearer token`);
  const row = deps.tracker.agent(id);
  if (!row) return grpcError(grpc.status.UNAUTHENTICATED, `unknown agent '${id}': register it with 'beamflow register-agent ${id}'`);
  if (row.removed_at != null) return grpcError(grpc.status.UNAUTHENTICATED, `agent '${id}' was removed: register or enrol it again`);
  if (!sameSecret(row.token_hash, hashToken(token))) {
    const hint = token.startsWith(ENROL_TOKEN_PREFIX) ? " (that is an enrolment token: give it as agent.enrol_token_file, not token_file)" : "";
    return grpcError(grpc.status.UNAUTHENTICATED, `agent '${id}': wrong token${hint}`);
  }
  // Checked after the secret, so that only the agent itself learns that it was revoked.
  if (row.revoked_at != null) return grpcError(grpc.status.UNAUTHENTICATED, revokedMessage(id));
  // Under mutual TLS the certificate must name this agent, not merely be signed by the CA.
  if (deps.config.coordinator.tls && peer) {
    const refused = peerCertificateRefusal(peer.getAuthContext()?.sslPeerCertificate, id);
    if (refused) return grpcError(grpc.status.UNAUTHENTICATED, refused);
  }
  return id;
}

/** Trades an enrolment token for the agent's own credential (Tracker access.enrol); refusals say why. */
export function enrolAgent(
  deps: Pick<AgentApiDeps, "tracker" | "config" | "registry" | "log">,
  md: grpc.Metadata,
  req: EnrolRequest,
  peer?: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } },
): EnrolReply | grpc.ServiceError {
  const secret = bearerToken(md);
  const id = req.agentId;
  if (!secret) return grpcError(grpc.status.UNAUTHENTICATED, "enrolment needs an enrolment token (beamflow token create)");
  if (!/^[A-Za-z0-9._-]+$/.test(id) || id === "." || id === "..")
    return grpcError(grpc.status.INVALID_ARGUMENT, `not an agent id: ${JSON.stringify(id)} (letters, digits, dot, dash, underscore)`);
  if (deps.config.coordinator.tls && peer) {
    const refused = peerCertificateRefusal(peer.getAuthContext()?.sslPeerCertificate, id);
    if (refused) return grpcError(grpc.status.UNAUTHENTICATED, refused);
  }
  if (deps.registry.find(id)?.connected)
    return grpcError(grpc.status.PERMISSION_DENIED, `agent '${id}' is connected now: an enrolment cannot take its id over`);
  try {
    const r = deps.tracker.access.enrol(secret, id);
    deps.log.info({ agent: id, hostname: req.hostname, enrolToken: r.tokenId, ephemeral: r.ephemeral }, "agent enrolled");
    return { agentId: id, token: r.token, ephemeral: r.ephemeral };
  } catch (err) {
    if (!(err instanceof EnrolRefused)) throw err;
    deps.log.warn({ agent: id, hostname: req.hostname, reason: err.message }, "refused an enrolment");
    return grpcError(err.kind === "token" ? grpc.status.UNAUTHENTICATED : grpc.status.PERMISSION_DENIED, err.message);
  }
}

export function agentService(deps: AgentApiDeps): AgentServiceServer {
  return {
    enrol(call: grpc.ServerUnaryCall<EnrolRequest, EnrolReply>, callback: grpc.sendUnaryData<EnrolReply>) {
      let r: EnrolReply | grpc.ServiceError;
      try {
        r = enrolAgent(deps, call.metadata, call.request, call);
      } catch (err) {
        r = grpcError(grpc.status.INTERNAL, (err as Error).message);
      }
      if ("code" in r) callback(r);
      else callback(null, r);
    },

    connect(call: grpc.ServerDuplexStream<AgentMessage, CoordinatorMessage>) {
      const who = authenticateAgent(deps, call.metadata, call);
      if (typeof who !== "string") {
        deps.log.warn({ peer: call.getPeer(), reason: who.details }, "refused an agent connection");
        call.emit("error", who);
        return;
      }
      new AgentSession(deps.sessionDeps, call, who);
    },

    fetchFile(call: grpc.ServerWritableStream<FetchFileRequest, FileChunk>) {
      const who = authenticateAgent(deps, call.metadata, call);
      if (typeof who !== "string") {
        call.emit("error", who);
        return;
      }
      const { attemptId, fileId, offset } = call.request;
      const attempt = deps.tracker.attempt(attemptId);
      if (!attempt || attempt.agent_id !== who || !isLiveAttempt(attempt.status)) {
        call.emit("error", grpcError(grpc.status.PERMISSION_DENIED, `attempt ${attemptId} is not held by agent ${who}`));
        return;
      }
      const file = deps.tracker.filesOfJob(attempt.job_id).find((f) => f.id === fileId);
      if (!file) {
        call.emit("error", grpcError(grpc.status.NOT_FOUND, `file ${fileId} is not part of attempt ${attemptId}'s job`));
        return;
      }
      const stream = fs.createReadStream(file.filename, { start: offset, highWaterMark: CHUNK });
      let at = offset;
      stream.on("data", (data) => {
        const buf = data as Buffer;
        if (!call.write({ data: buf, offset: at })) {
          stream.pause();
          call.once("drain", () => stream.resume());
        }
        at += buf.length;
        deps.events.emit("fileServed", buf.length);
      });
      stream.on("end", () => call.end());
      stream.on("error", (err) => call.emit("error", grpcError(grpc.status.UNAVAILABLE, `cannot read ${file.filename}: ${err.message}`)));
      call.on("cancelled", () => stream.destroy());
    },

    pushResults(call: grpc.ServerReadableStream<ResultsPart, ResultsReceipt>, callback: grpc.sendUnaryData<ResultsReceipt>) {
      const who = authenticateAgent(deps, call.metadata, call);
      if (typeof who !== "string") {
        callback(who);
        return;
      }
      receiveResults({ tracker: deps.tracker, root: deps.config.results.dir, agentId: who, log: deps.log.child({ part: "results" }) }, call).then(
        (receipt) => callback(null, receipt),
        (err: Error & { code?: grpc.status }) => callback(grpcError(err.code ?? grpc.status.INTERNAL, err.message)),
      );
    },
  };
}
