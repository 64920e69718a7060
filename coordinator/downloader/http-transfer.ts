// One file over HTTP(S): resumed with a Range request from the bytes already in the
// partial file, hashed while written (part-file.ts). A server that ignores the Range
// (200 instead of 206) starts the file over; 416 means the listing's size is wrong.
import http from "node:http";
import https from "node:https";
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
export function httpTransfer(req: TransferRequest): Promise<PartState> {
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
