// The Notifier against real servers on 127.0.0.1: smtp-server for mail,
// node:http for the webhook. Retries are made fast; nothing is mocked.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Notifier, NotifyConfigError } from "../../../coordinator/notify/notifier";
import { notifySchema, type NotifyConfigInput } from "../../../shared/config/notify-schema";
import { verifySignature, type WebhookPayload } from "../../../coordinator/notify/webhook";
import { BEAM, forGood, precheck, willRetry } from "./fixtures";
import { captureLogger, deadPort, parseMail, startHook, startSmtp } from "./helpers";

const FAST = { retry: { tries: 3, backoffMs: 20, maxBackoffMs: 100 }, emailTimeouts: { connectionMs: 2000, greetingMs: 2000, socketMs: 5000 } };

function mailCfg(port: number, extra: Partial<NonNullable<NotifyConfigInput["email"]>> = {}): NotifyConfigInput["email"] {
  return {
    enabled: true,
    smtp: { host: "127.0.0.1", port, ignore_tls: true },
    from: "beamflow@localhost",
    to: ["ops@example.org", "pi@example.org"],
    ...extra,
  };
}

describe("notify: Notifier", () => {
  let dir: string;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-notify-"));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function notifier(cfg: NotifyConfigInput) {
    const cap = captureLogger();
    const n = new Notifier(notifySchema.parse(cfg), cap.log, FAST);
    cleanups.push(() => n.close());
    return { n, lines: cap.lines };
  }

  it("mails exactly one message for a terminal failure: subject, job, beam, attempts, last error, raw data", async () => {
    const smtp = await startSmtp();
    cleanups.push(() => smtp.close());
    const { n, lines } = notifier({ email: mailCfg(smtp.port, { subject_prefix: "[palfa]" }) });
    assert.deepEqual(n.channels, ["email"]);

    await n.notify(forGood);

    assert.equal(smtp.mails.length, 1);
    const m = smtp.mails[0]!;
    assert.equal(m.envelopeFrom, "beamflow@localhost");
    assert.deepEqual(m.envelopeTo, ["ops@example.org", "pi@example.org"]);
    const mail = parseMail(m.raw);
    assert.equal(mail.subject, `[palfa] failed for good — job 12 (${BEAM})`);
    assert.match(mail.headers["content-type"]!, /^text\/plain/);
    assert.equal(mail.headers["x-beamflow-event"], "job_failed_for_good");
    for (const s of [
      `Job 12 (beam ${BEAM}) failed for good`,
      "#101  agent node-a  processing_failed  step_failed",
      "prepsubband exited with status 1",
      "#102  agent node-b  lost",
      "#103  agent node-c  processing_failed",
      "Last error:\n    step_failed: accelsearch killed by SIGKILL\n    (out of memory?)",
      "Raw data deleted: no",
    ]) {
      assert.ok(mail.text.includes(s), `body has ${JSON.stringify(s)}:\n${mail.text}`);
    }
    const sent = lines().filter((l) => l.msg === "notice sent");
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.channel, "email");
    assert.equal(sent[0]!.job, 12);
  });

  it("logs in with smtp.user and the password read from password_file, and never logs the password", async () => {
    const smtp = await startSmtp({ user: "beamflow", pass: "s3cret-pw" });
    cleanups.push(() => smtp.close());
    const pwFile = path.join(dir, "smtp.pw");
    fs.writeFileSync(pwFile, "s3cret-pw\n", { mode: 0o600 });
    const { n, lines } = notifier({
      email: mailCfg(smtp.port, { smtp: { host: "127.0.0.1", port: smtp.port, ignore_tls: true, user: "beamflow", password_file: pwFile } }),
    });
    fs.rmSync(pwFile); // read at start: not needed any more
    await n.notify(willRetry);
    assert.equal(smtp.mails.length, 1);
    assert.equal(smtp.mails[0]!.user, "beamflow");
    assert.ok(!JSON.stringify(lines()).includes("s3cret-pw"));

    assert.throws(
      () =>
        new Notifier(
          notifySchema.parse({ email: mailCfg(1, { smtp: { host: "h", user: "u", password_file: path.join(dir, "missing") } }) }),
          captureLogger().log,
        ),
      (err: unknown) => err instanceof NotifyConfigError && /password_file: cannot read .*missing: ENOENT/.test(err.message),
    );
  });

  it("sends nothing when the notice's switch is off (per channel) or the channel is disabled", async () => {
    const smtp = await startSmtp();
    const hook = await startHook();
    cleanups.push(
      () => smtp.close(),
      () => hook.close(),
    );
    const { n } = notifier({
      email: mailCfg(smtp.port, { on_terminal_failure: false, on_precheck_failure: false }),
      webhook: { enabled: true, url: hook.url, on_failure_retry: false, on_precheck_failure: false },
    });
    await n.notify(forGood); // email off, webhook on
    await n.notify(willRetry); // email on, webhook off
    await n.notify(precheck); // both off
    assert.equal(smtp.connections, 1);
    assert.equal(smtp.mails.length, 1);
    assert.equal(parseMail(smtp.mails[0]!.raw).headers["x-beamflow-event"], "job_failed_will_retry");
    assert.equal(hook.requests.length, 1);
    assert.equal((JSON.parse(hook.requests[0]!.body) as WebhookPayload).event, "job_failed_for_good");

    const idle = notifier({});
    assert.deepEqual(idle.n.channels, []);
    await idle.n.notify(forGood);
    assert.equal(smtp.connections, 1);
  });

  it("an unreachable SMTP server: notify resolves, retries are logged, then an error; the webhook still gets its notice", async () => {
    const hook = await startHook();
    cleanups.push(() => hook.close());
    const { n, lines } = notifier({ email: mailCfg(await deadPort()), webhook: { enabled: true, url: hook.url } });
    const t0 = Date.now();
    await n.notify(forGood); // resolves, doesn't reject
    assert.ok(Date.now() - t0 < 20_000, "the retries end (their backoff is short here)");

    const mine = lines().filter((l) => l.channel === "email");
    assert.deepEqual(
      mine.map((l) => [l.level, l.tries]),
      [
        [40, 1],
        [40, 2],
        [50, 3],
      ],
    );
    const last = mine.at(-1)!;
    assert.match(String(last.msg), /not delivered after 3 tries: dropped/);
    assert.match(String(last.err), /ECONNREFUSED/);
    assert.equal(last.job, 12);
    assert.equal(last.notice, "job_failed_for_good");
    assert.equal(hook.requests.length, 1);
  });

  it("POSTs the notice's JSON to the webhook with a valid HMAC-SHA256 signature", async () => {
    const hook = await startHook();
    cleanups.push(() => hook.close());
    const secretFile = path.join(dir, "hook.key");
    fs.writeFileSync(secretFile, "hook-key-123\n");
    const { n, lines } = notifier({ webhook: { enabled: true, url: hook.url, secret_file: secretFile } });

    await n.notify(forGood);

    assert.equal(hook.requests.length, 1);
    const r = hook.requests[0]!;
    assert.equal(r.method, "POST");
    assert.equal(r.url, "/hooks/beamflow");
    assert.equal(r.headers["content-type"], "application/json");
    assert.equal(r.headers["x-beamflow-event"], "job_failed_for_good");
    const sig = r.headers["x-beamflow-signature"] as string;
    assert.match(sig, /^sha256=[0-9a-f]{64}$/);
    assert.ok(verifySignature("hook-key-123", r.body, sig));
    assert.ok(!verifySignature("hook-key-123", r.body + " ", sig));
    assert.ok(!verifySignature("other-key", r.body, sig));

    const body = JSON.parse(r.body) as WebhookPayload;
    const { kind, ...data } = forGood;
    assert.equal(body.event, kind);
    assert.equal(body.title, `failed for good — job 12 (${BEAM})`);
    assert.deepEqual(body.data, data);
    assert.equal(body.delivery, r.headers["x-beamflow-delivery"]);
    assert.ok(Math.abs(Date.parse(body.sent_at) - Date.now()) < 10_000);
    assert.ok(!JSON.stringify(lines()).includes("hook-key-123"));
  });

  it("a webhook answering 500 then 200 is retried and the notice delivered once (same delivery id)", async () => {
    const hook = await startHook((i) => (i === 0 ? 500 : 200));
    cleanups.push(() => hook.close());
    const { n, lines } = notifier({ webhook: { enabled: true, url: hook.url } });

    await n.notify(precheck);

    assert.equal(hook.requests.length, 2);
    assert.equal(hook.requests[0]!.body, hook.requests[1]!.body);
    assert.equal(hook.requests[0]!.headers["x-beamflow-delivery"], hook.requests[1]!.headers["x-beamflow-delivery"]);
    assert.equal(hook.requests[0]!.headers["x-beamflow-signature"], undefined); // no secret_file: unsigned
    const log = lines()
      .filter((l) => l.channel === "webhook")
      .map((l) => [l.level, l.msg, l.tries]);
    assert.deepEqual(log, [
      [40, "notice not delivered; will retry", 1],
      [30, "notice sent", 2],
    ]);
    assert.match(String(lines().find((l) => l.level === 40)!.err), /HTTP 500/);
  });

  it("a refusal that would come back the same (webhook 4xx, SMTP 550) is not retried", async () => {
    const hook = await startHook(() => 400);
    const smtp = await startSmtp(undefined, true);
    cleanups.push(
      () => hook.close(),
      () => smtp.close(),
    );
    const { n, lines } = notifier({ email: mailCfg(smtp.port), webhook: { enabled: true, url: hook.url } });
    await n.notify(willRetry);
    assert.equal(hook.requests.length, 1);
    assert.equal(smtp.connections, 1);
    assert.equal(smtp.mails.length, 0);
    const err = lines()
      .filter((l) => l.level === 50)
      .sort((a, b) => String(a.channel).localeCompare(String(b.channel)));
    assert.deepEqual(
      err.map((l) => [l.channel, l.tries, l.msg]),
      [
        ["email", 1, "notice refused: dropped (retrying would not help)"],
        ["webhook", 1, "notice refused: dropped (retrying would not help)"],
      ],
    );
    assert.match(String(err[0]!.err), /550/);
    assert.match(String(err[1]!.err), /HTTP 400/);
    assert.equal(lines().filter((l) => l.level === 40).length, 0);
  });

  it("a webhook that never answers times out after timeout_s and is retried", async () => {
    const hook = await startHook(() => 0);
    cleanups.push(() => hook.close());
    const { n, lines } = notifier({ webhook: { enabled: true, url: hook.url, timeout_s: 0.2 } });
    const t0 = Date.now();
    await n.notify(willRetry);
    assert.ok(Date.now() - t0 < 20_000, "each try times out instead of waiting for an answer");
    assert.equal(hook.requests.length, 3);
    const last = lines().at(-1)!;
    assert.equal(last.level, 50);
    assert.match(String(last.err), /timeout|abort/i);
  });

  it("close() drops pending retries at once instead of waiting out the backoff", async () => {
    const hook = await startHook(() => 503);
    cleanups.push(() => hook.close());
    const cap = captureLogger();
    const n = new Notifier(notifySchema.parse({ webhook: { enabled: true, url: hook.url } }), cap.log, { retry: { tries: 5, backoffMs: 60_000 } });
    const p = n.notify(willRetry);
    while (hook.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const t0 = Date.now();
    await n.close();
    await p;
    assert.ok(Date.now() - t0 < 20_000, "not the 60 s backoff");
    assert.equal(hook.requests.length, 1);
    assert.ok(cap.lines().some((l) => l.level === 50 && /closed before it could be retried/.test(String(l.msg))));
    await n.notify(willRetry); // after close: dropped, still resolves
    assert.equal(hook.requests.length, 1);
  });
});
