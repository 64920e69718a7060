// One file over FTP or FTPS (explicit TLS), with basic-ftp: resumed with REST from the
// bytes already in the partial file, hashed while written (part-file.ts).
import { Client } from "basic-ftp";
import { classify, DownloadFailure } from "./errors";
import { PartWriter, type PartState } from "./part-file";
import type { TransferRequest } from "./http-transfer";

export interface FtpLogin {
  user: string;
  password: string;
}

export async function ftpTransfer(req: TransferRequest, login: FtpLogin): Promise<PartState> {
  const u = new URL(req.url);
  const client = new Client(req.stallMs);
  let received = false;
  const onAbort = () => client.close();
  req.signal?.addEventListener("abort", onAbort);
  try {
    await client.access({
      host: u.hostname,
      port: u.port ? Number(u.port) : 21,
      user: u.username ? decodeURIComponent(u.username) : login.user,
      password: u.password ? decodeURIComponent(u.password) : login.password,
      secure: u.protocol === "ftps:",
      secureOptions: req.insecureTls ? { rejectUnauthorized: false } : undefined,
    });
    const remote = decodeURIComponent(u.pathname);
    const state = req.state;
    const writer = new PartWriter(req.partPath, state, req.expectedSize, (n) => {
      received = true;
      req.onBytes?.(n);
    });
    const finished = new Promise<void>((resolve, reject) => {
      writer.on("finish", resolve);
      writer.on("error", reject);
    });
    try {
      await client.downloadTo(writer, remote, state.bytes);
    } catch (err) {
      writer.end();
      await finished.catch(() => {});
      const e = err as { code?: number; message?: string };
      if (typeof e.code === "number" && e.code >= 500 && e.code < 600 && !received)
        throw new DownloadFailure("bad_answer", `RETR ${remote}: ${e.message ?? e.code}`);
      throw err;
    }
    if (!writer.writableEnded) writer.end();
    await finished;
    return writer.state;
  } catch (err) {
    throw classify(err, received);
  } finally {
    req.signal?.removeEventListener("abort", onAbort);
    client.close();
  }
}
