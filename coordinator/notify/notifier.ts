// Sends notices to people: by mail and/or webhook, each channel on its own,
// filtered by that channel's on_* switches. notify() never rejects: a channel
// that fails is logged, retried a few times with backoff and then dropped with
// an error log, so a dead mail server can't stop the coordinator.
import crypto from "node:crypto";
import fs from "node:fs";
import type { Logger } from "../../shared/logging/logger";
import { EmailChannel, DEFAULT_EMAIL_TIMEOUTS, type EmailTimeouts } from "./email";
import { logFieldsOf, SWITCH_OF, type NotifyEvent } from "./events";
import { buildNotice, type Notice } from "./notice";
import { backoffFor, DEFAULT_RETRY, PermanentFailure, sleep, type RetryPolicy } from "./retry";
import type { NoticeSwitches, NotifyConfig } from "../../shared/config/notify-schema";
import { WebhookChannel, type Delivery } from "./webhook";

export { buildNotice } from "./notice";

export interface NotifierOptions {
  retry?: Partial<RetryPolicy>;
  emailTimeouts?: Partial<EmailTimeouts>;
}

/** A secret file that cannot be used; thrown by the constructor (at start), naming the key and file only. */
export class NotifyConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotifyConfigError";
  }
}

interface Channel {
  name: "email" | "webhook";
  switches: NoticeSwitches;
  send(notice: Notice, delivery: Delivery): Promise<void>;
  close(): void;
}

/** Reads a one-line secret; a trailing newline is not part of it. */
function readSecret(file: string, key: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new NotifyConfigError(`${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? "error"}`);
  }
  const secret = text.replace(/\r?\n$/, "");
  if (secret === "") throw new NotifyConfigError(`${key}: ${file} is empty`);
  return secret;
}

function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch() says only "fetch failed"; the reason (ECONNREFUSED, …) is its cause.
  const cause = err.cause as { message?: string; code?: string } | undefined;
  const why = cause && !(err instanceof PermanentFailure) ? cause.message || cause.code : undefined;
  return why && !err.message.includes(why) ? `${err.message}: ${why}` : err.message;
}

export class Notifier {
  private readonly log: Logger;
  private readonly list: Channel[] = [];
  private readonly retry: RetryPolicy;
  private readonly closing = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();

  /** Reads password_file and secret_file now (throws NotifyConfigError if one is unusable). */
  constructor(
    private readonly cfg: NotifyConfig,
    log: Logger,
    opts: NotifierOptions = {},
  ) {
    this.log = log.child({ part: "notify" });
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    if (cfg.email.enabled) {
      const file = cfg.email.smtp.password_file;
      const password = file !== undefined ? readSecret(file, "notify.email.smtp.password_file") : undefined;
      const mail = new EmailChannel(cfg.email, password, { ...DEFAULT_EMAIL_TIMEOUTS, ...opts.emailTimeouts });
      this.list.push({ name: "email", switches: cfg.email, send: (n) => mail.send(n), close: () => mail.close() });
    }
    if (cfg.webhook.enabled) {
      const file = cfg.webhook.secret_file;
      const secret = file !== undefined ? readSecret(file, "notify.webhook.secret_file") : undefined;
      const hook = new WebhookChannel(cfg.webhook, secret);
      this.list.push({ name: "webhook", switches: cfg.webhook, send: (n, d) => hook.send(n, d), close: () => {} });
    }
  }

  /** The enabled channels. */
  get channels(): string[] {
    return this.list.map((c) => c.name);
  }

  /**
   * Sends one notice on every enabled channel whose switch lets it through.
   * Resolves once every channel delivered or gave up; never rejects.
   */
  notify(event: NotifyEvent): Promise<void> {
    const p = this.run(event);
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  /** Stops retrying (pending retries are dropped, logged), waits for sends under way, closes the mail transport. */
  async close(): Promise<void> {
    this.closing.abort();
    await Promise.allSettled([...this.inFlight]);
    for (const c of this.list) c.close();
  }

  private async run(event: NotifyEvent): Promise<void> {
    try {
      const fields = logFieldsOf(event);
      const wanted = this.list.filter((c) => c.switches[SWITCH_OF[event.kind]] === true);
      if (wanted.length === 0) return;
      if (this.closing.signal.aborted) {
        this.log.error(fields, "notice dropped: the notifier is closed");
        return;
      }
      const notice = buildNotice(event, this.cfg.email.subject_prefix);
      const delivery: Delivery = { id: crypto.randomUUID(), at: new Date() };
      await Promise.all(wanted.map((c) => this.deliver(c, notice, delivery, { ...fields, channel: c.name, delivery: delivery.id })));
    } catch (err) {
      // Only a bug (e.g. a malformed event) gets here; still not the caller's problem.
      this.log.error({ err: errorText(err), notice: (event as { kind?: unknown })?.kind }, "notice failed unexpectedly: dropped");
    }
  }

  private async deliver(c: Channel, notice: Notice, delivery: Delivery, fields: Record<string, unknown>): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await c.send(notice, delivery);
        this.log.info({ ...fields, tries }, "notice sent");
        return;
      } catch (err) {
        const why = errorText(err);
        if (err instanceof PermanentFailure) {
          this.log.error({ ...fields, tries, err: why }, "notice refused: dropped (retrying would not help)");
          return;
        }
        if (tries >= this.retry.tries) {
          this.log.error({ ...fields, tries, err: why }, `notice not delivered after ${tries} tries: dropped`);
          return;
        }
        const wait = backoffFor(this.retry, tries);
        this.log.warn({ ...fields, tries, err: why, retry_in_ms: wait }, "notice not delivered; will retry");
        if (!(await sleep(wait, this.closing.signal))) {
          this.log.error({ ...fields, tries, err: why }, "notice dropped: the notifier closed before it could be retried");
          return;
        }
      }
    }
  }
}
