// HTTP listeners without TLS (the coordinator's status page and /metrics, the
// agent's /metrics) may only listen on loopback: their bearer token would
// otherwise cross the network in clear text.
import net from "node:net";

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** Splits HOST:PORT ("[::1]:7051" for IPv6); throws, naming the setting, unless the host is a loopback address. */
export function parseLoopbackListen(listen: string, setting: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(listen.trim());
  if (!m) throw new Error(`${setting} '${listen}': expected HOST:PORT, e.g. 127.0.0.1:7051`);
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`${setting} '${listen}': port out of range`);
  const loopback = host === "localhost" || (net.isIP(host) !== 0 && LOOPBACK.check(host, net.isIPv6(host) ? "ipv6" : "ipv4"));
  if (!loopback) {
    throw new Error(
      `${setting} '${listen}': refusing to listen on a non-loopback address: this listener has no TLS yet, ` +
        `so its token would cross the network in clear text. Use 127.0.0.1 or [::1] (and an SSH tunnel to reach it) until TLS is added.`,
    );
  }
  return { host, port };
}
