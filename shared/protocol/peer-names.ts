// Under mutual TLS the client certificate must name the agent that presents itself: a
// node's certificate with another node's id and token is refused, so a stolen token is of
// no use without that node's key. The certificate names the agent by its subject's CN or
// by a subjectAltName (DNS:, URI: or email: entry) equal to the agent id.
import type { PeerCertificate } from "node:tls";

/** The names a peer certificate carries: the subject's CN(s) and the subjectAltName values. */
export function certificateNames(cert: PeerCertificate | undefined): string[] {
  if (!cert || !cert.subject) return [];
  const cn = cert.subject.CN as string | string[] | undefined;
  const names = cn === undefined ? [] : Array.isArray(cn) ? [...cn] : [cn];
  for (const part of (cert.subjectaltname ?? "").split(/,\s*/)) {
    const i = part.indexOf(":");
    if (i > 0) names.push(part.slice(i + 1));
  }
  return names;
}

/** Why this peer certificate may not act as agent `id`, or undefined when it names it. */
export function peerCertificateRefusal(cert: PeerCertificate | undefined, id: string): string | undefined {
  const names = certificateNames(cert);
  if (names.length === 0) return `agent '${id}': no client certificate, or one without a name (mutual TLS needs one naming the agent)`;
  if (names.includes(id)) return undefined;
  return `agent '${id}': its TLS client certificate names ${names.map((n) => `'${n}'`).join(", ")}, not '${id}' (the CN or a subjectAltName must be the agent id)`;
}
