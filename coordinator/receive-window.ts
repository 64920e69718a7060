// A larger HTTP/2 receive window for the agents' streams. gRPC's server has no option for it
// and keeps HTTP/2's 64 KiB, so an agent sending heavy log output waited for a window
// update every 64 KiB: a round trip through two busy event loops per 64 KiB held the
// stream to a fraction of what either side could do. The window is raised per connection
// (once, at its first stream) and per stream (SETTINGS_INITIAL_WINDOW_SIZE, which applies
// to the streams already open too). Flow control still bounds what an agent may have in
// flight to the coordinator, to this much per connection.
import type * as http2 from "node:http2";
import type * as grpc from "@grpc/grpc-js";

export const AGENT_RECEIVE_WINDOW = 8 << 20;

const widened = new WeakSet<http2.Http2Session>();

/**
 * The HTTP/2 session a call arrived on. Not public API: grpc-js 1.14 keeps the server
 * stream on the call's intercepting call; undefined if a grpc-js upgrade moved it (the
 * window then stays at 64 KiB: slower, nothing else changes).
 */
export function sessionOf(call: grpc.ServerDuplexStream<unknown, unknown>): http2.Http2Session | undefined {
  const stream = (call as unknown as { call?: { stream?: http2.ServerHttp2Stream } }).call?.stream;
  return stream?.session ?? undefined;
}

/** Raises the receive window of the call's connection and streams to `bytes`; true if it could. */
export function widenReceiveWindow(call: grpc.ServerDuplexStream<unknown, unknown>, bytes = AGENT_RECEIVE_WINDOW): boolean {
  const session = sessionOf(call);
  if (!session || session.destroyed) return false;
  if (widened.has(session)) return true;
  try {
    session.setLocalWindowSize(bytes);
    session.settings({ initialWindowSize: bytes });
  } catch {
    return false;
  }
  widened.add(session);
  return true;
}
