// The coordinator raises the HTTP/2 receive window of the agents' streams (gRPC's server
// has no option for it): this reaches into grpc-js, so a grpc-js that moved what it reaches
// for is noticed here, not as logs that are slow again.
import assert from "node:assert/strict";
import * as grpc from "@grpc/grpc-js";
import { AGENT_RECEIVE_WINDOW, sessionOf, widenReceiveWindow } from "../../coordinator/receive-window";

const raw = (b: Buffer) => b;
const service = {
  stream: {
    path: "/t.T/S",
    requestStream: true,
    responseStream: true,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: raw,
    responseDeserialize: raw,
  },
};

describe("agent streams' receive window", () => {
  it("is raised for the stream's connection, once, and the stream's bytes still arrive whole", async () => {
    const server = new grpc.Server();
    const widened: boolean[] = [];
    let windowSize = 0;
    let got = 0;
    const done = new Promise<void>((resolve) => {
      server.addService(service, {
        stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          widened.push(widenReceiveWindow(call), widenReceiveWindow(call));
          call.on("data", (d: Buffer) => {
            got += d.length;
            windowSize = Math.max(windowSize, sessionOf(call)?.state.localWindowSize ?? 0);
          });
          call.on("end", () => {
            call.end();
            resolve();
          });
        },
      });
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const Client = grpc.makeGenericClientConstructor(service, "T");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = (client as unknown as { stream(): grpc.ClientDuplexStream<Buffer, Buffer> }).stream();
    call.on("data", () => {});
    call.on("error", () => {});
    for (let i = 0; i < 8; i++) call.write(Buffer.alloc(1 << 20, i));
    call.end();
    await done;
    client.close();
    server.forceShutdown();
    assert.deepEqual(widened, [true, true]);
    assert.equal(got, 8 << 20);
    assert.ok(windowSize > 1 << 20, `the connection's window is ${windowSize} bytes (HTTP/2's default: 65,535; raised to ${AGENT_RECEIVE_WINDOW})`);
  });
});
