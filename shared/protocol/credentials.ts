// TLS where traffic leaves the host; plain only on loopback or a Unix socket.
import fs from "node:fs";
import * as grpc from "@grpc/grpc-js";

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
  server_name?: string;
}

export function isLocalAddress(address: string): boolean {
  if (address.startsWith("unix:")) return true;
  const host = address.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\./.test(host);
}

function readPem(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the TLS ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

export function serverCredentials(address: string, tls: TlsFiles | undefined, allowInsecureRemote: boolean): grpc.ServerCredentials {
  if (tls) {
    return grpc.ServerCredentials.createSsl(
      readPem(tls.ca, "CA"),
      [{ cert_chain: readPem(tls.cert, "certificate"), private_key: readPem(tls.key, "key") }],
      true,
    );
  }
  if (!isLocalAddress(address) && !allowInsecureRemote) {
    throw new Error(`refusing to listen on ${address} without TLS: set coordinator.tls (or coordinator.allow_insecure_remote for a trusted private network)`);
  }
  return grpc.ServerCredentials.createInsecure();
}

export function channelCredentials(address: string, tls: TlsFiles | undefined): grpc.ChannelCredentials {
  if (tls) return grpc.credentials.createSsl(readPem(tls.ca, "CA"), readPem(tls.key, "key"), readPem(tls.cert, "certificate"));
  return grpc.credentials.createInsecure();
}
