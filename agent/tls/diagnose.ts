// Why the coordinator's TLS handshake refuses this agent, in words, when it does: gRPC only
// says "connection dropped" (UNAVAILABLE), the same as for a network fault, and an agent that
// retried forever on a certificate that can never be accepted would log "lost the
// coordinator" for ever. The agent looks at its own certificate (expired, not yet valid)
// and then makes one TLS handshake of its own with the same files, reading the alert the
// coordinator answers with (unknown CA, expired, no certificate) or what it finds wrong with
// the coordinator's certificate. undefined: nothing wrong with the certificates (a network
// fault or a coordinator that is down: worth retrying).
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import tls from "node:tls";
import type { TlsFiles } from "../../shared/protocol/credentials";

/** The coordinator's TLS alerts, as OpenSSL names them in Node's error codes. */
const ALERTS: [RegExp, string][] = [
  [/UNKNOWN_CA/, "it is not signed by a CA the coordinator trusts (coordinator.tls.ca)"],
  [/CERTIFICATE_EXPIRED/, "the coordinator says it has expired"],
  [/CERTIFICATE_REQUIRED/, "the coordinator requires a client certificate and got none"],
  [/BAD_CERTIFICATE|UNSUPPORTED_CERTIFICATE|CERTIFICATE_UNKNOWN|DECRYPT_ERROR/, "the coordinator refused it"],
  [/CERTIFICATE_REVOKED/, "the coordinator says it was revoked"],
  [/HANDSHAKE_FAILURE|ACCESS_DENIED/, "the coordinator refused the handshake"],
];
/** What Node finds wrong with the coordinator's certificate. */
const SERVER_PROBLEMS: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "it is not signed by the CA this agent trusts",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "it is not signed by the CA this agent trusts",
  SELF_SIGNED_CERT_IN_CHAIN: "it is not signed by the CA this agent trusts",
  DEPTH_ZERO_SELF_SIGNED_CERT: "it is self-signed, not signed by the CA this agent trusts",
  CERT_HAS_EXPIRED: "it has expired",
  CERT_NOT_YET_VALID: "it is not valid yet",
  ERR_TLS_CERT_ALTNAME_INVALID: "it does not name the address dialled (set agent.tls.server_name to the name it carries)",
};

type Outcome =
  /** the handshake finished; `refused`: the coordinator then closed the connection without a byte (a gRPC server
   * that accepts a connection sends its HTTP/2 settings at once), which is how it refuses a client certificate */
  | { kind: "tls"; refused: boolean; error?: NodeJS.ErrnoException }
  /** the handshake failed on a TLS error (an alert, or a certificate this side refuses) */
  | { kind: "tls-error"; error: NodeJS.ErrnoException }
  | { kind: "network"; error: Error };

/** One TLS handshake, then a short wait for the coordinator's first bytes or its closing the connection. */
function handshake(options: tls.ConnectionOptions, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let secured = false;
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const socket = tls.connect({ ...options, ALPNProtocols: ["h2"] });
    const timer = setTimeout(() => finish(secured ? { kind: "tls", refused: false } : { kind: "network", error: new Error("timed out") }), timeoutMs);
    socket.on("secureConnect", () => {
      secured = true;
    });
    socket.on("data", () => finish({ kind: "tls", refused: false }));
    socket.on("error", (err: NodeJS.ErrnoException) => {
      const code = err.code ?? "";
      if (/SSL|TLS|ALERT/.test(code) || Object.hasOwn(SERVER_PROBLEMS, code)) finish({ kind: "tls-error", error: err });
      else finish(secured ? { kind: "tls", refused: true, error: err } : { kind: "network", error: err });
    });
    socket.on("close", () => finish(secured ? { kind: "tls", refused: true } : { kind: "network", error: new Error("closed") }));
  });
}

function hostPort(address: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  return m ? { host: m[1], port: Number(m[2]) } : undefined;
}

const describe = (c: crypto.X509Certificate) => `${c.subject.replace(/\n/g, ", ")}, issued by ${c.issuer.replace(/\n/g, ", ")}`;

export async function diagnoseTlsRefusal(address: string, files: TlsFiles | undefined, timeoutMs = 3000): Promise<string | undefined> {
  const hp = address.startsWith("unix:") ? undefined : hostPort(address);
  if (!hp) return undefined;
  const servername = files?.server_name ?? (net.isIP(hp.host) ? undefined : hp.host);
  if (!files) {
    // Plain gRPC against a TLS port fails as a dropped connection: does it speak TLS?
    // A finished handshake or a TLS alert says so; a plain gRPC server answers a ClientHello with bytes that are no TLS.
    const r = await handshake({ host: hp.host, port: hp.port, servername, rejectUnauthorized: false }, timeoutMs);
    if (r.kind === "network" || (r.kind === "tls-error" && !/ALERT/.test(r.error.code ?? ""))) return undefined;
    return `the coordinator at ${address} requires TLS with a client certificate, and this agent has no certificate (agent.tls is not set): give it one signed by the coordinator's CA`;
  }
  let own: crypto.X509Certificate;
  try {
    own = new crypto.X509Certificate(fs.readFileSync(files.cert));
  } catch (err) {
    return `this agent's certificate ${files.cert} cannot be read: ${(err as Error).message}`;
  }
  const now = Date.now();
  if (Date.parse(own.validTo) < now) return `this agent's certificate ${files.cert} (${describe(own)}) expired on ${own.validTo}: the coordinator refuses it`;
  if (Date.parse(own.validFrom) > now) return `this agent's certificate ${files.cert} (${describe(own)}) is not valid before ${own.validFrom}`;
  let options: tls.ConnectionOptions;
  try {
    options = { host: hp.host, port: hp.port, servername, ca: fs.readFileSync(files.ca), cert: fs.readFileSync(files.cert), key: fs.readFileSync(files.key) };
  } catch (err) {
    return `this agent's TLS files cannot be read: ${(err as Error).message}`;
  }
  const r = await handshake(options, timeoutMs);
  if (r.kind === "network") return undefined;
  const refusal = `the coordinator at ${address} refused this agent's certificate ${files.cert} (${describe(own)})`;
  if (r.kind === "tls") {
    // Expiry was checked above: what is left is a certificate of a CA the coordinator does not trust.
    // Asked twice, so a coordinator that closed a connection while stopping is not taken for a refusal.
    if (r.refused) await new Promise((res) => setTimeout(res, 200));
    const again = r.refused ? await handshake(options, timeoutMs) : undefined;
    if (r.refused && again?.kind === "tls" && again.refused)
      return `${refusal}: it closed the connection after the handshake, so it does not trust the CA that signed it (it must be signed by coordinator.tls.ca)`;
    return undefined;
  }
  const code = r.error.code ?? "";
  const alert = ALERTS.find(([re]) => re.test(code));
  if (alert) return `${refusal}: ${alert[1]} [${code}]`;
  const problem = SERVER_PROBLEMS[code];
  if (problem) return `this agent does not trust the coordinator's certificate at ${address}: ${problem} (agent.tls.ca is ${files.ca}) [${code}]`;
  // Anything else (a reset, a coordinator going down meanwhile) may pass: retried.
  return undefined;
}
