// A failed call to an archive or a failed transfer, with its class (download-states.ts'
// DOWNLOAD_ERRORS), so `beamflow requests` and `beamflow downloads` can say what went wrong.
import type { DownloadError } from "../tracker/download-states";

export class DownloadFailure extends Error {
  constructor(
    readonly errorClass: DownloadError,
    message: string,
  ) {
    super(message);
    this.name = "DownloadFailure";
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EPIPE",
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The error's code, or its cause's (fetch wraps the socket's error). */
export function errorCode(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.code ?? e?.cause?.code ?? "";
}

/** Classifies anything thrown by a transfer or an archive call. `midTransfer`: bytes had arrived already. */
export function classify(err: unknown, midTransfer = false): DownloadFailure {
  if (err instanceof DownloadFailure) return err;
  const code = errorCode(err);
  const msg = (err as Error)?.message ?? String(err);
  if (code === "ENOSPC" || code === "EDQUOT") return new DownloadFailure("disk_full", `the download filesystem is full (${code})`);
  if (midTransfer && (code === "ECONNRESET" || code === "EPIPE" || code === "ERR_STREAM_PREMATURE_CLOSE" || /aborted|closed|socket hang up/i.test(msg)))
    return new DownloadFailure("dropped", `the connection dropped mid-file: ${msg}`);
  if (NETWORK_CODES.has(code)) return new DownloadFailure("unreachable", `${msg}${code && !msg.includes(code) ? ` (${code})` : ""}`);
  if (code === "ABORT_ERR" || (err as Error)?.name === "TimeoutError") return new DownloadFailure("timeout", msg);
  if (midTransfer) return new DownloadFailure("dropped", msg);
  return new DownloadFailure("unreachable", msg);
}
