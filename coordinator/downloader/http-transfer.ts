// One file over HTTP(S): resumed with a Range request from the bytes already in the
// partial file, hashed while written (part-file.ts). A server that ignores the Range
// (200 instead of 206) starts the file over; 416 means the listing's size is wrong.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { classify, DownloadFailure } from "./errors";
import { type PartState, PartWriter } from "./part-file";

export interface TransferRequest {
  url: string;
  partPath: string;
  expectedSize: number;
  /** Bytes already on disk and the hash over them; a fresh state when starting from zero. */
  state: PartState;
  headers?: Record<string, string>;
  /** Nothing received for this long: the transfer is dropped. */
  stallMs: number;
  onBytes?: (n: number) => void;
  signal?: AbortSignal;
  insecureTls?: boolean;
  /** A fresh state for when the server restarts the file from zero. */
  restart: () => PartState;
}

// A connection per file: transfers are long and seconds apart, and a kept-alive socket the
// server closed meanwhile would fail the next transfer before it starts.
const agents = { http: new http.Agent({ keepAlive: false }), https: new https.Agent({ keepAlive: false }) };

/** Resolves with the final state (all bytes written and hashed); rejects with a DownloadFailure. */
export async function httpTransfer(req: TransferRequest): Promise<PartState> {
  if (new URL(req.url).protocol === "http:") {
    try {
      return await plainHttpTransfer(req);
    } catch (err) {
      if (!(err instanceof NotPlain)) throw err;
    }
  }
  return httpModuleTransfer(req);
}

/** The server's answer is not one the plain path reads (no Content-Length, chunked): Node's http takes it. */
class NotPlain extends Error {}

const SLAB = 4 << 20;

/**
 * Plain HTTP/1.1 on a socket that reads into large buffers (Node's http client reads 64 KiB
 * at a time, and the per-chunk cost showed in the transfer's time): a GET with Content-Length,
 * the body straight into the partial file's writer, the socket paused while it lags.
 */
function plainHttpTransfer(req: TransferRequest): Promise<PartState> {
  return new Promise<PartState>((resolve, reject) => {
    const u = new URL(req.url);
    let state = req.state;
    let settled = false;
    let received = false;
    let head: Buffer | null = Buffer.alloc(0);
    let writer: PartWriter | null = null;
    let remaining = 0;
    let slab = Buffer.allocUnsafe(SLAB);
    let used = 0;
    const settle = (err: unknown, value?: PartState) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      req.signal?.removeEventListener("abort", onAbort);
      if (value) return resolve(value);
      if (err instanceof NotPlain) return reject(err);
      const fail = () => reject(classify(err, received));
      if (writer && !writer.destroyed && !writer.writableEnded) writer.end(fail);
      else fail();
    };
    const onAbort = () => settle(Object.assign(new Error("aborted"), { code: "ABORT_ERR" }));
    req.signal?.addEventListener("abort", onAbort);
    const feed = (b: Buffer): boolean => {
      if (b.length > remaining) {
        settle(new DownloadFailure("size_mismatch", "the server sent more than its Content-Length"));
        return false;
      }
      received = true;
      remaining -= b.length;
      const more = writer!.write(b);
      if (remaining === 0) writer!.end();
      return more;
    };
    const onHead = (buf: Buffer): boolean => {
      head = head!.length ? Buffer.concat([head!, buf]) : Buffer.from(buf);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > 64 << 10) settle(new DownloadFailure("bad_answer", "no end to the HTTP headers"));
        return true;
      }
      const lines = head.subarray(0, end).toString("latin1").split("\r\n");
      const body = head.subarray(end + 4);
      head = null;
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1]);
      const h = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()] as const));
      if (status === 416) {
        settle(
          new DownloadFailure(
            "size_mismatch",
            `the server has no bytes past ${state.bytes} (416): the file is shorter than the ${req.expectedSize} bytes listed`,
          ),
        );
        return false;
      }
      if (status === 200 && state.bytes > 0) state = req.restart();
      else if (status === 206) {
        const m = /^bytes (\d+)-/.exec(h.get("content-range") ?? "");
        if (!m || Number(m[1]) !== state.bytes) {
          settle(new DownloadFailure("bad_answer", `asked for bytes from ${state.bytes}, got Content-Range '${h.get("content-range")}'`));
          return false;
        }
      } else if (status !== 200) {
        settle(new DownloadFailure(status >= 500 ? "unreachable" : "bad_answer", `GET ${u.pathname}: HTTP ${status || "garbage"}`));
        return false;
      }
      const length = h.get("content-length");
      if (!length || /chunked/i.test(h.get("transfer-encoding") ?? "") || !/^\d+$/.test(length)) {
        settle(new NotPlain());
        return false;
      }
      remaining = Number(length);
      writer = new PartWriter(req.partPath, state, req.expectedSize, (n) => req.onBytes?.(n));
      writer.on("error", (err) => settle(err));
      writer.on("drain", () => socket.resume());
      writer.on("finish", () => {
        if (remaining === 0) settle(null, writer!.state);
      });
      if (remaining === 0) {
        writer.end();
        return true;
      }
      return body.length ? feed(body) : true;
    };
    const socket = net.connect({
      host: u.hostname,
      port: u.port ? Number(u.port) : 80,
      onread: {
        // Reads go into the free end of a large slab; a slab is never reused, so a chunk stays valid until written.
        buffer: () => {
          if (SLAB - used < 256 << 10) {
            slab = Buffer.allocUnsafe(SLAB);
            used = 0;
          }
          return slab.subarray(used);
        },
        callback: (n: number, buf: Uint8Array) => {
          const chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
          used += n;
          if (settled) return false;
          return head ? onHead(chunk) : feed(chunk);
        },
      },
    } as net.NetConnectOpts);
    socket.setTimeout(req.stallMs, () => settle(Object.assign(new Error(`nothing received for ${req.stallMs / 1000} s`), { code: "ETIMEDOUT" })));
    socket.on("connect", () => {
      const extra = Object.entries(req.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("");
      const range = state.bytes > 0 ? `Range: bytes=${state.bytes}-\r\n` : "";
      socket.write(`GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nConnection: close\r\nUser-Agent: beamflow\r\n${range}${extra}\r\n`);
    });
    socket.on("error", (err) => settle(err));
    socket.on("close", () => {
      if (!settled && (head || remaining > 0)) settle(Object.assign(new Error("the connection dropped mid-file"), { code: "ECONNRESET" }));
    });
  });
}

function httpModuleTransfer(req: TransferRequest): Promise<PartState> {
  return new Promise<PartState>((resolve, reject) => {
    const u = new URL(req.url);
    const lib = u.protocol === "https:" ? https : http;
    const headers: Record<string, string> = { ...req.headers };
    if (req.state.bytes > 0) headers.Range = `bytes=${req.state.bytes}-`;
    let settled = false;
    let received = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      reject(classify(err, received));
    };
    const r = lib.get(
      u,
      {
        headers,
        agent: u.protocol === "https:" ? (req.insecureTls ? new https.Agent({ rejectUnauthorized: false }) : agents.https) : agents.http,
        signal: req.signal,
      },
      (res) => {
        let state = req.state;
        if (res.statusCode === 416) {
          res.resume();
          return fail(
            new DownloadFailure(
              "size_mismatch",
              `the server has no bytes past ${state.bytes} (416): the file is shorter than the ${req.expectedSize} bytes listed`,
            ),
          );
        }
        if (res.statusCode === 200 && state.bytes > 0)
          state = req.restart(); // Range ignored: from zero
        else if (res.statusCode === 206) {
          const m = /^bytes (\d+)-/.exec(String(res.headers["content-range"] ?? ""));
          if (!m || Number(m[1]) !== state.bytes) {
            res.resume();
            return fail(new DownloadFailure("bad_answer", `asked for bytes from ${state.bytes}, got Content-Range '${res.headers["content-range"]}'`));
          }
        } else if (res.statusCode !== 200) {
          res.resume();
          const cls = res.statusCode === 404 || res.statusCode === 410 ? "bad_answer" : res.statusCode! >= 500 ? "unreachable" : "bad_answer";
          return fail(new DownloadFailure(cls, `GET ${u.pathname}: HTTP ${res.statusCode}`));
        }
        const writer = new PartWriter(req.partPath, state, req.expectedSize, (n) => {
          received = true;
          req.onBytes?.(n);
        });
        let writeError: Error | null = null;
        writer.on("error", (err) => {
          writeError = err;
          res.destroy();
          fail(err);
        });
        res.on("error", (err) => {
          // Keep what was written: flush it, so the next try resumes from a consistent end.
          writer.end(() => fail(err));
        });
        res.on("aborted", () => writer.end(() => fail(Object.assign(new Error("the connection dropped mid-file"), { code: "ECONNRESET" }))));
        res.pipe(writer);
        writer.on("finish", () => {
          if (settled || writeError) return;
          if (!res.complete) return fail(Object.assign(new Error("the connection dropped mid-file"), { code: "ECONNRESET" }));
          settled = true;
          resolve(writer.state);
        });
      },
    );
    r.setTimeout(req.stallMs, () => r.destroy(Object.assign(new Error(`nothing received for ${req.stallMs / 1000} s`), { code: "ETIMEDOUT" })));
    r.on("error", fail);
  });
}
