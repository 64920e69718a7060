// The webhook channel: the notice's JSON POSTed to a URL, signed with
// HMAC-SHA256 over the exact body bytes when a secret is configured.
//
// Receivers verify with:  "sha256=" + hex(HMAC_SHA256(secret, raw body)) === X-Beamflow-Signature
// (compare in constant time). X-Beamflow-Delivery stays the same across the
// retries of one notice, so a receiver can drop a duplicate.
import crypto from "node:crypto";
import type { WebhookConfig } from "../../shared/config/notify-schema";
import type { Notice, NoticeJson } from "./notice";
import { PermanentFailure } from "./retry";

export const SIGNATURE_HEADER = "X-Beamflow-Signature";

/** What the webhook receives: the notice's JSON plus the delivery's id and time. */
export interface WebhookPayload extends NoticeJson {
  delivery: string;
  /** ISO 8601, when the notice was first handed to the notifier */
  sent_at: string;
}

export interface Delivery {
  id: string;
  at: Date;
}

export function signature(secret: string, body: string | Buffer): string {
  return "sha256=" + crypto.createHmac("sha256", secret).update(body).digest("hex");
}

/** True when `header` is the right signature of `body` (constant-time compare). */
export function verifySignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const want = Buffer.from(signature(secret, body));
  const got = Buffer.from(header);
  return want.length === got.length && crypto.timingSafeEqual(want, got);
}

export class WebhookChannel {
  /** `secret` is the content of secret_file, read by the caller; it is never logged. */
  constructor(
    private readonly cfg: WebhookConfig,
    private readonly secret: string | undefined,
  ) {}

  async send(notice: Notice, delivery: Delivery): Promise<void> {
    const payload: WebhookPayload = { ...notice.json, delivery: delivery.id, sent_at: delivery.at.toISOString() };
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "user-agent": "beamflow-notifier",
      "x-beamflow-event": notice.json.event,
      "x-beamflow-delivery": delivery.id,
    };
    if (this.secret !== undefined) headers[SIGNATURE_HEADER.toLowerCase()] = signature(this.secret, body);
    const res = await fetch(this.cfg.url!, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(this.cfg.timeout_s * 1000),
    });
    // Read (a little of) the reply so the connection is released, and for the log.
    const reply = (await res.text().catch(() => "")).slice(0, 300);
    if (res.ok) return;
    const what = `webhook answered HTTP ${res.status}${reply ? `: ${reply.replace(/\s+/g, " ").trim()}` : ""}`;
    // 408/429/5xx may pass later; other 4xx and redirects will not.
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw new Error(what);
    throw new PermanentFailure(what);
  }
}
