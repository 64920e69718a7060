// The mail channel: one plain-text message per notice through an SMTP server
// (nodemailer's SMTP transport, one connection per message, no pool).
import nodemailer, { type Transporter } from "nodemailer";
import type { EmailConfig } from "../../shared/config/notify-schema";
import type { Notice } from "./notice";
import { PermanentFailure } from "./retry";

export interface EmailTimeouts {
  /** TCP connect, ms */
  connectionMs: number;
  /** server greeting after connect, ms */
  greetingMs: number;
  /** idle socket during the session, ms */
  socketMs: number;
}

export const DEFAULT_EMAIL_TIMEOUTS: EmailTimeouts = { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 };

export class EmailChannel {
  private readonly transport: Transporter;

  /** `password` is the content of smtp.password_file, read by the caller; it is never logged. */
  constructor(
    private readonly cfg: EmailConfig,
    password: string | undefined,
    timeouts: EmailTimeouts = DEFAULT_EMAIL_TIMEOUTS,
  ) {
    const smtp = cfg.smtp;
    this.transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      ignoreTLS: smtp.ignore_tls,
      auth: smtp.user !== undefined ? { user: smtp.user, pass: password ?? "" } : undefined,
      connectionTimeout: timeouts.connectionMs,
      greetingTimeout: timeouts.greetingMs,
      socketTimeout: timeouts.socketMs,
      logger: false,
      debug: false,
    });
  }

  async send(notice: Notice): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.cfg.from,
        to: this.cfg.to,
        subject: notice.subject,
        text: notice.text,
        headers: { "X-Beamflow-Event": notice.json.event },
      });
    } catch (err) {
      // A 5xx reply (bad recipient, message refused, auth refused) comes back the same next time.
      if ((err as { permanent?: boolean }).permanent === true) throw new PermanentFailure(errorText(err), { cause: err });
      throw err;
    }
  }

  close(): void {
    this.transport.close();
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
