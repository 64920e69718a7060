// A real restore archive for tests and benchmarks: the HTTP API of docs/archive-api.md
// over a set of beams (lists of files on disk), serving the restored files over HTTP
// (with Range) or over a real FTP server (ftp-srv, with REST), and told to misbehave
// on demand: garbage answers, a wrong size in the listing, a connection dropped
// mid-file, corrupt bytes, slow transfers, or no server at all. It logs what the
// downloader asked of it (restores, Range and REST offsets, deletions) for tests to check.
//
//   const archive = await startReferenceArchive({ beams: [[fileA], [fileB1, fileB2]], transport: "ftp" });
//   archive.url                  // the API base URL for downloader.sources[].url
//   archive.faults.dropAfter = { bytes: 1 << 20, times: 1 };
//   archive.offsets               // [{ name, start, via: "range" | "rest" }]
//   await archive.close();
//
// Run as a program (`tsx test/support/reference-archive.ts FILE…`) it serves each file
// as a beam and prints its URL, for benchmarks that want the server in its own process.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import type net from "node:net";
import path from "node:path";
import { type Readable, Transform } from "node:stream";
import { FileSystem, FtpSrv } from "ftp-srv";

export interface Faults {
  /** every API call answers garbage (HTTP 200, not JSON) */
  garbage: boolean;
  /** the listing gives these files (all when `names` is empty) a size off by `delta` */
  wrongSize: { delta: number; names: string[] } | null;
  /** transfers stop after `bytes` bytes (the connection is dropped), the next `times` transfers */
  dropAfter: { bytes: number; times: number } | null;
  /** the next `times` transfers have one byte flipped (the size stays right) */
  corrupt: { times: number } | null;
  /** transfers are sent at this many bytes per second (0: as fast as possible) */
  bytesPerSecond: number;
  /** restores say `pending` this many polls before `ready` */
  pendingPolls: number;
  /** the archive says the restore failed */
  failRestores: boolean;
  /** files are listed without their SHA-256 */
  noSha256: boolean;
}

export interface ArchiveOptions {
  beams: string[][];
  transport?: "http" | "ftp";
  token?: string;
  /** a zaplists tarball to serve at GET /zaplists (replace with setZaplists) */
  zaplists?: Buffer;
  port?: number;
}

interface Restore {
  id: string;
  files: { name: string; path: string; size: number; sha256: string }[];
  polls: number;
  deleted: boolean;
}

export interface ReferenceArchive {
  url: string;
  port: number;
  ftpUrl: string | null;
  faults: Faults;
  restores: Map<string, Restore>;
  /** where each transfer started (Range or REST offsets; 0 for whole files) */
  offsets: { name: string; start: number; via: "range" | "rest" | "whole" }[];
  /** API calls, as "METHOD path" */
  calls: string[];
  deleted: string[];
  /** transfers under way */
  activeTransfers: number;
  maxActiveTransfers: number;
  setZaplists(tarball: Buffer): void;
  /** closes the HTTP listener (the archive is unreachable) until comeBack() */
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  close(): Promise<void>;
}

const sha256File = (p: string) => crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");

export async function startReferenceArchive(opts: ArchiveOptions): Promise<ReferenceArchive> {
  const faults: Faults = {
    garbage: false,
    wrongSize: null,
    dropAfter: null,
    corrupt: null,
    bytesPerSecond: 0,
    pendingPolls: 1,
    failRestores: false,
    noSha256: false,
  };
  const queue = [...opts.beams];
  const restores = new Map<string, Restore>();
  const offsets: ReferenceArchive["offsets"] = [];
  const calls: string[] = [];
  const deleted: string[] = [];
  const hashes = new Map<string, string>();
  let zaplists = opts.zaplists ?? null;
  let seq = 0;
  const transport = opts.transport ?? "http";
  let ftp: FtpSrv | null = null;
  let ftpPort = 0;

  const state = { activeTransfers: 0, maxActiveTransfers: 0 };

  /** The bytes of one transfer, with the faults applied. */
  function transferStream(file: string, start: number): Readable {
    let stream: Readable = fs.createReadStream(file, { start, highWaterMark: 256 << 10 });
    const drop = faults.dropAfter && faults.dropAfter.times > 0 ? faults.dropAfter : null;
    if (drop) drop.times--;
    const corrupt = faults.corrupt && faults.corrupt.times > 0 ? faults.corrupt : null;
    if (corrupt) corrupt.times--;
    const rate = faults.bytesPerSecond;
    if (drop || corrupt || rate) {
      let sent = 0;
      let flipped = !corrupt;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          let out = chunk;
          if (!flipped && out.length > 0) {
            out = Buffer.from(out);
            out[out.length >> 1] ^= 0xff;
            flipped = true;
          }
          if (drop && sent + out.length >= drop.bytes) {
            const keep = out.subarray(0, Math.max(0, drop.bytes - sent));
            sent += keep.length;
            this.push(keep);
            setTimeout(() => done(Object.assign(new Error("dropped on purpose"), { code: "ECONNRESET" })), 20);
            return;
          }
          sent += out.length;
          if (rate) setTimeout(() => done(null, out), (out.length / rate) * 1000);
          else done(null, out);
        },
      });
      stream = stream.pipe(tap);
    }
    state.activeTransfers++;
    state.maxActiveTransfers = Math.max(state.maxActiveTransfers, state.activeTransfers);
    let counted = true;
    const done = () => {
      if (counted) state.activeTransfers--;
      counted = false;
    };
    stream.on("end", done);
    stream.on("error", done);
    stream.on("close", done);
    return stream;
  }

  function fileOf(id: string, name: string) {
    const r = restores.get(id);
    if (!r || r.deleted) return undefined;
    return r.files.find((f) => f.name === name);
  }

  const send = (res: http.ServerResponse, code: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };

  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    const p = u.pathname;
    if (p.startsWith("/files/")) return serveFile(req, res, p);
    calls.push(`${req.method} ${p}`);
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) return send(res, 401, { error: "unauthorized" });
    if (faults.garbage) {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html><body>Service Temporarily Unavailable</body></html>");
      return;
    }
    let m: RegExpExecArray | null;
    if (req.method === "POST" && p === "/api/v1/restores") {
      let body = "";
      req.on("data", (d) => {
        body += d;
      });
      req.on("end", () => {
        let beams = 0;
        try {
          beams = Number(JSON.parse(body).beams) || 0;
        } catch {
          return send(res, 400, { error: "body is not JSON" });
        }
        const id = `r${++seq}-${crypto.randomBytes(3).toString("hex")}`;
        const files = queue.splice(0, beams).flat();
        restores.set(id, {
          id,
          polls: 0,
          deleted: false,
          files: files.map((f) => {
            if (!hashes.has(f)) hashes.set(f, sha256File(f));
            return { name: path.basename(f), path: f, size: fs.statSync(f).size, sha256: hashes.get(f)! };
          }),
        });
        send(res, 201, { id });
      });
      return;
    }
    if ((m = /^\/api\/v1\/restores\/([^/]+)$/.exec(p))) {
      const r = restores.get(decodeURIComponent(m[1]));
      if (!r || r.deleted) return send(res, 404, { error: "no such restore" });
      if (req.method === "DELETE") {
        r.deleted = true;
        deleted.push(r.id);
        return send(res, 200, { deleted: true });
      }
      if (faults.failRestores) return send(res, 200, { id: r.id, status: "failed", message: "tape drive error" });
      r.polls++;
      return send(res, 200, { id: r.id, status: r.polls > faults.pendingPolls ? "ready" : "pending" });
    }
    if ((m = /^\/api\/v1\/restores\/([^/]+)\/files$/.exec(p))) {
      const r = restores.get(decodeURIComponent(m[1]));
      if (!r || r.deleted) return send(res, 404, { error: "no such restore" });
      const host = `127.0.0.1`;
      return send(res, 200, {
        files: r.files.map((f) => {
          const wrong = faults.wrongSize && (faults.wrongSize.names.length === 0 || faults.wrongSize.names.includes(f.name));
          return {
            name: f.name,
            size: f.size + (wrong ? faults.wrongSize!.delta : 0),
            ...(faults.noSha256 ? {} : { sha256: f.sha256 }),
            url: transport === "ftp" ? `ftp://${host}:${ftpPort}/${r.id}/${encodeURIComponent(f.name)}` : `/files/${r.id}/${encodeURIComponent(f.name)}`,
          };
        }),
      });
    }
    if (p === "/api/v1/zaplists") {
      if (!zaplists) return send(res, 404, { error: "no zaplists" });
      const etag = `"${crypto.createHash("sha256").update(zaplists).digest("hex").slice(0, 16)}"`;
      if (req.headers["if-none-match"] === etag) {
        res.writeHead(304, { etag });
        return res.end();
      }
      res.writeHead(200, { "content-type": "application/gzip", etag, "content-length": zaplists.length });
      return res.end(zaplists);
    }
    send(res, 404, { error: `no route ${req.method} ${p}` });
  });

  function serveFile(req: http.IncomingMessage, res: http.ServerResponse, p: string) {
    const m = /^\/files\/([^/]+)\/([^/]+)$/.exec(p);
    const f = m ? fileOf(decodeURIComponent(m[1]), decodeURIComponent(m[2])) : undefined;
    if (!f) return send(res, 404, { error: "no such file" });
    if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) return send(res, 401, { error: "unauthorized" });
    const size = f.size;
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ""));
    const start = range ? Number(range[1]) : 0;
    offsets.push({ name: f.name, start, via: range ? "range" : "whole" });
    if (start > size || (range && start === size)) {
      res.writeHead(416, { "content-range": `bytes */${size}` });
      return res.end();
    }
    res.writeHead(range ? 206 : 200, {
      "content-length": size - start,
      "accept-ranges": "bytes",
      ...(range ? { "content-range": `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    const s = transferStream(f.path, start);
    s.on("error", () => res.destroy());
    res.on("close", () => s.destroy());
    s.pipe(res);
  }

  class ArchiveFs extends FileSystem {
    override read(fileName: string, { start }: { start?: any } = {}): any {
      const parts = fileName.replace(/^\/+/, "").split("/");
      const f = parts.length === 2 ? fileOf(parts[0], decodeURIComponent(parts[1])) : undefined;
      if (!f) throw new Error("no such file");
      const at = Number(start ?? 0);
      offsets.push({ name: f.name, start: at, via: at ? "rest" : "whole" });
      const s = transferStream(f.path, at);
      return { stream: s, clientPath: fileName };
    }
    override get(fileName: string): any {
      const parts = fileName.replace(/^\/+/, "").split("/");
      const f = parts.length === 2 ? fileOf(parts[0], decodeURIComponent(parts[1])) : undefined;
      if (!f) throw new Error("no such file");
      return Object.assign(fs.statSync(f.path), { name: f.name });
    }
  }

  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child: () => silent };
  if (transport === "ftp") {
    const { port } = await listenPort();
    ftpPort = port;
    ftp = new FtpSrv({
      url: `ftp://127.0.0.1:${port}`,
      pasv_url: "127.0.0.1",
      pasv_min: 20000,
      pasv_max: 60000,
      anonymous: true,
      greeting: "reference archive",
      log: silent as never,
    });
    ftp.on("login", (_data, resolve) => resolve({ fs: new ArchiveFs(_data.connection, { root: "/", cwd: "/" }) as never }));
    await ftp.listen();
  }

  const sockets = new Set<net.Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
    });
  const port = await listen(opts.port ?? 0);
  const closeHttp = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });

  const archive: ReferenceArchive = {
    url: `http://127.0.0.1:${port}/api/v1`,
    port,
    ftpUrl: ftp ? `ftp://127.0.0.1:${ftpPort}` : null,
    faults,
    restores,
    offsets,
    calls,
    deleted,
    get activeTransfers() {
      return state.activeTransfers;
    },
    get maxActiveTransfers() {
      return state.maxActiveTransfers;
    },
    setZaplists(t) {
      zaplists = t;
    },
    goDown: closeHttp,
    comeBack: async () => {
      await listen(port);
    },
    async close() {
      await closeHttp();
      if (ftp) await ftp.close().catch(() => {});
    },
  };
  return archive;
}

function listenPort(): Promise<{ port: number }> {
  return new Promise((resolve, reject) => {
    const s = http.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve({ port }));
    });
    s.on("error", reject);
  });
}

if (require.main === module) {
  const files = process.argv.slice(2);
  startReferenceArchive({ beams: files.map((f) => [path.resolve(f)]) }).then((a) => {
    process.stdout.write(`${a.url}\n`);
  });
}
