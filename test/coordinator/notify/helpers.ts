// Real servers on 127.0.0.1 for the notifier's tests, a tiny MIME reader for
// what nodemailer sends, and a pino logger whose lines the test can read.
import http from "node:http";
import net from "node:net";
import pino from "pino";
import { SMTPServer } from "smtp-server";
import type { Logger } from "../../../shared/logging/logger";

export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  user: string | undefined;
  raw: string;
}

export interface Smtp {
  port: number;
  mails: ReceivedMail[];
  connections: number;
  close(): Promise<void>;
}

/** smtp-server as toolchain.md §8 says: no STARTTLS, auth optional (or checked, when `auth` is given). */
export async function startSmtp(auth?: { user: string; pass: string }, rejectRcpt = false): Promise<Smtp> {
  const state = { mails: [] as ReceivedMail[], connections: 0 };
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    authOptional: auth === undefined,
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    logger: false,
    onConnect(_session, cb) {
      state.connections++;
      cb();
    },
    onAuth(a, _session, cb) {
      if (auth && a.username === auth.user && a.password === auth.pass) cb(null, { user: a.username });
      else cb(new Error("Invalid username or password"));
    },
    onRcptTo(_address, _session, cb) {
      if (!rejectRcpt) return cb();
      const err = new Error("5.1.1 mailbox unavailable") as Error & { responseCode: number };
      err.responseCode = 550;
      cb(err);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        state.mails.push({
          envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as net.AddressInfo).port;
  return {
    port,
    get mails() {
      return state.mails;
    },
    get connections() {
      return state.connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A loopback port with nobody listening (bound, then released). */
/** The notifier's email settings for a test SMTP server: one recipient, no retry notices. */
export function mailTo(smtp: Smtp) {
  return {
    enabled: true,
    smtp: { host: "127.0.0.1", port: smtp.port, ignore_tls: true },
    from: "beamflow@localhost",
    to: ["ops@localhost"],
    on_failure_retry: false,
  };
}

export async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export interface HookRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** node:http on 127.0.0.1; `reply` picks the status of the n-th request (0-based); 0: never answer. */
export async function startHook(reply: (n: number) => number = () => 200): Promise<{ url: string; requests: HookRequest[]; close(): Promise<void> }> {
  const requests: HookRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const n = requests.length;
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const status = reply(n);
      if (status === 0) return;
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "nope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks/beamflow`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A pino logger writing JSON lines into memory. */
export function captureLogger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const log = pino(
    { level: "debug" },
    {
      write: (s: string) => {
        raw.push(s);
      },
    },
  );
  return {
    log,
    lines: () =>
      raw
        .join("")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

// ---- a small MIME reader: enough for nodemailer's single-part text/plain messages ----

function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)\s+(?==\?)/g, "$1")
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_m, _charset: string, enc: string, text: string) =>
      enc.toUpperCase() === "B" ? Buffer.from(text, "base64").toString("utf8") : decodeQp(text.replace(/_/g, " ")),
    );
}

function decodeQp(s: string): string {
  const bytes: number[] = [];
  const src = s.replace(/=\r?\n/g, "");
  for (let i = 0; i < src.length; i++) {
    if (src[i] === "=" && /^[0-9A-Fa-f]{2}$/.test(src.slice(i + 1, i + 3))) {
      bytes.push(parseInt(src.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(src[i]!, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

export function parseMail(raw: string): { headers: Record<string, string>; subject: string; text: string } {
  const split = raw.indexOf("\r\n\r\n");
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, " ");
  const body = raw.slice(split + 4);
  const headers: Record<string, string> = {};
  for (const line of head.split("\r\n")) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const cte = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  const text = cte === "quoted-printable" ? decodeQp(body) : cte === "base64" ? Buffer.from(body, "base64").toString("utf8") : body;
  return { headers, subject: decodeWords(headers["subject"] ?? ""), text: text.replace(/\r\n/g, "\n") };
}
