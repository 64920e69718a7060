// The restore archive's HTTP API (docs/archive-api.md): ask for N beams, poll the
// restore, list its files, delete it, fetch the zaplists. Every answer is checked
// against the contract; anything else is a DownloadFailure("bad_answer") saying what
// came back, and a server that cannot be reached is "unreachable".
import { z } from "zod";
import { classify, DownloadFailure } from "./errors";

const restoreCreated = z.object({ id: z.string().min(1).max(200) });
const restoreStatus = z.object({ id: z.string(), status: z.enum(["pending", "ready", "failed"]), message: z.string().optional() });
const listedFile = z.object({
  name: z.string().regex(/^[^/\\]+$/, "a plain file name"),
  size: z.number().int().nonnegative(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/i)
    .optional(),
  url: z.string().min(1),
});
const restoreFiles = z.object({ files: z.array(listedFile) });

export type ListedFile = z.output<typeof listedFile>;
export type RestoreStatus = z.output<typeof restoreStatus>;

export interface ArchiveClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8080/api/v1 */
  url: string;
  token?: string;
  timeoutMs?: number;
}

export class ArchiveClient {
  private readonly base: string;

  constructor(private readonly opts: ArchiveClientOptions) {
    this.base = opts.url.replace(/\/+$/, "");
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { accept: "application/json", ...(this.opts.token ? { authorization: `Bearer ${this.opts.token}` } : {}), ...extra };
  }

  private async call(method: string, rel: string, body?: unknown): Promise<Response> {
    try {
      return await fetch(`${this.base}${rel}`, {
        method,
        headers: this.headers(body === undefined ? {} : { "content-type": "application/json" }),
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw classify(err);
    }
  }

  private async json<T>(what: string, res: Response, schema: z.ZodType<T>): Promise<T> {
    const text = await res.text().catch((err) => {
      throw classify(err);
    });
    if (!res.ok) throw new DownloadFailure(res.status >= 502 && res.status <= 504 ? "unreachable" : "bad_answer", `${what}: HTTP ${res.status} ${short(text)}`);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new DownloadFailure("bad_answer", `${what}: the archive answered something that is not JSON: ${short(text)}`);
    }
    const parsed = schema.safeParse(doc);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join(".") || "(answer)"}: ${i.message}`).join("; ");
      throw new DownloadFailure("bad_answer", `${what}: the answer is not the contract's (${why}): ${short(text)}`);
    }
    return parsed.data;
  }

  /** Asks for a restore of `beams` beams; returns the archive's restore id. */
  async restore(beams: number, fileType: string, numbits: number): Promise<string> {
    const res = await this.call("POST", "/restores", { beams, file_type: fileType, numbits });
    return (await this.json("POST /restores", res, restoreCreated)).id;
  }

  async status(id: string): Promise<RestoreStatus> {
    const res = await this.call("GET", `/restores/${encodeURIComponent(id)}`);
    const s = await this.json(`GET /restores/${id}`, res, restoreStatus);
    if (s.id !== id) throw new DownloadFailure("bad_answer", `GET /restores/${id}: the answer is about restore '${s.id}'`);
    return s;
  }

  /** The restore's files; each URL absolute (http, https, ftp, ftps), resolved against the listing's URL when relative. */
  async files(id: string): Promise<ListedFile[]> {
    const rel = `/restores/${encodeURIComponent(id)}/files`;
    const res = await this.call("GET", rel);
    const listing = await this.json(`GET ${rel}`, res, restoreFiles);
    const names = new Set<string>();
    for (const f of listing.files) {
      if (names.has(f.name)) throw new DownloadFailure("bad_answer", `GET ${rel}: ${f.name} is listed twice`);
      names.add(f.name);
      let u: URL;
      try {
        u = new URL(f.url, `${this.base}${rel}`);
      } catch {
        throw new DownloadFailure("bad_answer", `GET ${rel}: ${f.name} has no usable URL (${f.url})`);
      }
      if (!["http:", "https:", "ftp:", "ftps:"].includes(u.protocol))
        throw new DownloadFailure("bad_answer", `GET ${rel}: ${f.name}'s URL is ${u.protocol} (http, https, ftp or ftps only)`);
      f.url = u.toString();
      if (f.sha256) f.sha256 = f.sha256.toLowerCase();
    }
    return listing.files;
  }

  /** Tells the archive the restore may go; a restore it no longer knows counts as deleted. */
  async delete(id: string): Promise<void> {
    const res = await this.call("DELETE", `/restores/${encodeURIComponent(id)}`);
    await res.text().catch(() => "");
    if (res.ok || res.status === 404 || res.status === 410) return;
    throw new DownloadFailure(res.status >= 502 && res.status <= 504 ? "unreachable" : "bad_answer", `DELETE /restores/${id}: HTTP ${res.status}`);
  }

  /** The zaplists tarball when it changed since `etag` (null when it did not). */
  async zaplists(etag: string): Promise<{ etag: string; body: Buffer } | null> {
    let res: Response;
    try {
      res = await fetch(`${this.base}/zaplists`, {
        headers: this.headers(etag ? { "if-none-match": etag, accept: "application/gzip" } : { accept: "application/gzip" }),
        signal: AbortSignal.timeout(this.opts.timeoutMs ?? 30_000),
      });
    } catch (err) {
      throw classify(err);
    }
    if (res.status === 304) return null;
    if (!res.ok) throw new DownloadFailure("bad_answer", `GET /zaplists: HTTP ${res.status}`);
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length < 2 || body[0] !== 0x1f || body[1] !== 0x8b) throw new DownloadFailure("bad_answer", "GET /zaplists: not a gzip file");
    return { etag: res.headers.get("etag") ?? "", body };
  }
}

const short = (text: string) => JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
