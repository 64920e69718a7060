// The `notify:` config section: who hears about failed jobs, lost agents and
// crashes, by email (SMTP) and/or by a signed JSON webhook. PALFA only emailed
// (mailer.py, reference §7); the switches below cover its triggers plus agent_lost and agent_drained.
//
// Mount it in the main schema as `notify: notifySchema.prefault({})`. Secrets are
// never in the config itself: `password_file` and `secret_file` name files that
// the Notifier reads once when it is constructed.
import { z } from "zod";

/** Which notices a channel sends; every one on by default (the channel itself is off by default). */
const switches = {
  /** a job failed and will be retried (PALFA send_on_failures) */
  on_failure_retry: z.boolean().default(true),
  /** a job used its last attempt and failed for good (PALFA send_on_terminal_failures) */
  on_terminal_failure: z.boolean().default(true),
  /** a coordinator component crashed (PALFA send_on_crash) */
  on_crash: z.boolean().default(true),
  /** an agent stopped renewing its leases and its attempts were lost */
  on_agent_lost: z.boolean().default(true),
  /** the coordinator drained an agent on its own (failures in a row on several beams, a failed check) */
  on_agent_drained: z.boolean().default(true),
  /** a beam failed its presubmission check (e.g. no zaplist) and failed for good */
  on_precheck_failure: z.boolean().default(true),
  /** a beam's results failed to upload as often as allowed (upload_failed; not searched again) */
  on_upload_failure: z.boolean().default(true),
};

export const SWITCH_KEYS = Object.keys(switches) as (keyof typeof switches)[];
export type SwitchKey = (typeof SWITCH_KEYS)[number];

export const emailSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    smtp: z
      .strictObject({
        host: z.string().default(""),
        port: z.number().int().min(1).max(65535).default(25),
        /** implicit TLS from the first byte (usually port 465) */
        secure: z.boolean().default(false),
        /** don't upgrade with STARTTLS even if the server offers it */
        ignore_tls: z.boolean().default(false),
        user: z.string().min(1).optional(),
        /** file holding the SMTP password (read at start, never logged) */
        password_file: z.string().min(1).optional(),
      })
      .prefault({}),
    from: z.string().default(""),
    to: z.array(z.string().min(1)).default([]),
    subject_prefix: z.string().default("beamflow:"),
    ...switches,
  })
  .superRefine((e, ctx) => {
    if (e.smtp.password_file !== undefined && e.smtp.user === undefined) {
      ctx.addIssue({ code: "custom", path: ["smtp", "user"], message: "smtp.password_file is set but smtp.user is not" });
    }
    if (e.smtp.user !== undefined && e.smtp.password_file === undefined) {
      ctx.addIssue({ code: "custom", path: ["smtp", "password_file"], message: "smtp.user is set: give the password in smtp.password_file" });
    }
    if (!e.enabled) return;
    if (!e.smtp.host) ctx.addIssue({ code: "custom", path: ["smtp", "host"], message: "required when email is enabled" });
    if (!e.from) ctx.addIssue({ code: "custom", path: ["from"], message: "required when email is enabled" });
    if (e.to.length === 0) ctx.addIssue({ code: "custom", path: ["to"], message: "at least one recipient is required when email is enabled" });
  });

export const webhookSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    url: z.string().optional(),
    /** file holding the HMAC-SHA256 key; the body's MAC goes in `X-Beamflow-Signature: sha256=<hex>` */
    secret_file: z.string().min(1).optional(),
    timeout_s: z.number().positive().default(10),
    ...switches,
  })
  .superRefine((w, ctx) => {
    if (w.url !== undefined) {
      let ok = false;
      try {
        ok = ["http:", "https:"].includes(new URL(w.url).protocol);
      } catch {
        ok = false;
      }
      if (!ok) ctx.addIssue({ code: "custom", path: ["url"], message: `not an http(s) URL: ${JSON.stringify(w.url)}` });
    } else if (w.enabled) {
      ctx.addIssue({ code: "custom", path: ["url"], message: "required when the webhook is enabled" });
    }
  });

export const notifySchema = z.strictObject({
  email: emailSchema.prefault({}),
  webhook: webhookSchema.prefault({}),
});

export type NotifyConfigInput = z.input<typeof notifySchema>;
export type NotifyConfig = z.output<typeof notifySchema>;
export type EmailConfig = z.output<typeof emailSchema>;
export type WebhookConfig = z.output<typeof webhookSchema>;
export type NoticeSwitches = Pick<EmailConfig, SwitchKey>;
