// The gRPC client of the coordinator's AgentService, shared by the stream, the
// results pushes and stage-in.
import type { AgentServiceClient } from "../../shared/gen/agent";
import { channelCredentials, type TlsFiles } from "../../shared/protocol/credentials";
import { AgentServiceWireClient } from "../../shared/protocol/log-wire";

export function coordinatorClient(address: string, tls: TlsFiles | undefined): AgentServiceClient {
  // Log output is serialized without the generic encoder's copies (shared/protocol/log-wire.ts).
  return new AgentServiceWireClient(address, channelCredentials(address, tls), {
    "grpc.keepalive_time_ms": 20_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.max_receive_message_length": 64 << 20,
    // The channel's own reconnect backoff (default up to 120 s) would stack on the agent's:
    // kept short, so the agent's backoff (agent.reconnect_max_s) is the one that counts.
    "grpc.initial_reconnect_backoff_ms": 250,
    "grpc.max_reconnect_backoff_ms": 1000,
    // Certificates are checked against the address dialled unless the config names the server.
    ...(tls?.server_name ? { "grpc.ssl_target_name_override": tls.server_name, "grpc.default_authority": tls.server_name } : {}),
  });
}
