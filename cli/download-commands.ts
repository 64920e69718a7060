// `beamflow requests`, `beamflow downloads`: restore requests, transfers with their
// progress and rates, and the space budget (DownloadService on the admin socket);
// and `add-files --watch DIR`'s loop (files registered once they stop growing).
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { Command } from "commander";
import { StableFileWatcher } from "../coordinator/downloader/dir-watch";
import { DownloadServiceClient, type ListDownloadsReply, type ListRequestsReply } from "../shared/gen/downloads";
import { formatSize } from "../shared/config/sizes";
import { type Admin, CliError, connectAdmin } from "./admin-client";
import { cliConfig } from "./config-option";
import { ago, printJson, table, when } from "./format";
import { run } from "./run";

type Common = { config?: string; json?: boolean };

function downloadClient(opts: Common): { client: DownloadServiceClient; metadata: grpc.Metadata } {
  const cfg = cliConfig(opts.config);
  const a = connectAdmin(cfg);
  a.client.close();
  return { client: new DownloadServiceClient(`unix:${cfg.coordinator.admin_socket}`, grpc.credentials.createInsecure()), metadata: a.metadata };
}

function unary<Req, Res>(c: { client: DownloadServiceClient; metadata: grpc.Metadata }, name: "listRequests" | "listDownloads", req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (c.client[name] as unknown as (r: Req, md: grpc.Metadata, o: Partial<grpc.CallOptions>, cb: (e: grpc.ServiceError | null, r: Res) => void) => void).call(
      c.client,
      req,
      c.metadata,
      { deadline: Date.now() + 60_000 },
      (err, res) => {
        c.client.close();
        if (!err) return resolve(res);
        reject(new CliError(err.code === grpc.status.UNIMPLEMENTED ? "this coordinator has no downloader (it predates it)" : err.details || err.message));
      },
    );
  });
}

const size = (n: number) => (n ? formatSize(n) : "-");
const rate = (bps: number) => (bps > 0 ? `${formatSize(bps)}/s` : "-");
const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(b > 0 && a < b ? 1 : 0)}%` : "-");

export function registerDownloadCommands(program: Command): void {
  program
    .command("requests")
    .description("restore requests to the archives: state, files, errors (PALFA's requests table)")
    .option("--limit <n>", "the newest N requests", "50")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common & { limit: string }) => {
        const r = await unary<{ limit: number }, ListRequestsReply>(downloadClient(opts), "listRequests", { limit: Number(opts.limit) || 50 });
        if (opts.json) return printJson(r);
        if (r.requests.length === 0) console.log("no restore requests");
        else
          console.log(
            table(
              ["id", "source", "restore", "status", "beams", "files (ok/pending/failed)", "size", "tries", "error", "updated"],
              r.requests.map((q) => [
                q.id,
                q.source,
                q.guid.startsWith("local:") ? "-" : q.guid,
                q.status + (q.nextTryAt ? `\nnext try ${when(q.nextTryAt)}` : ""),
                q.beams,
                `${q.files} (${q.downloaded}/${q.pending}/${q.failed})`,
                size(q.size),
                q.attempts,
                [q.errorClass ? `${q.errorClass}: ${q.details}` : q.details, q.cleanupError ? `not deleted on the archive: ${q.cleanupError}` : ""]
                  .filter(Boolean)
                  .join("\n"),
                ago(q.updatedAt),
              ]),
            ),
          );
        for (const s of r.sources) if (s.waitingFor) console.log(`${s.source}: ${s.waitingFor}`);
      }),
    );

  program
    .command("downloads")
    .description("transfers: running ones with progress and rate, then the newest ended ones; the space budget")
    .option("--limit <n>", "ended transfers shown", "20")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common & { limit: string }) => {
        const r = await unary<{ limit: number }, ListDownloadsReply>(downloadClient(opts), "listDownloads", { limit: Number(opts.limit) || 20 });
        if (opts.json) return printJson(r);
        const b = r.budget!;
        console.log(
          `space: ${size(b.used)} downloaded + ${size(b.pending)} restored, not yet downloaded, of ${size(b.spaceToUse)} (space_to_use); ` +
            `${size(b.free)} free on disk, ${size(b.minFreeSpace)} kept free; ${size(b.inflight)} still to write; ` +
            `rate ${rate(b.rate)}; at most ${b.numdownloads} at once`,
        );
        for (const s of r.sources) if (s.waitingFor) console.log(`${s.source}: ${s.waitingFor}`);
        for (const p of r.dirProblems) console.log(`${p.source}: not registered: ${p.path}: ${p.why}`);
        if (r.downloads.length === 0) return console.log("no transfers");
        console.log(
          table(
            ["attempt", "file", "status", "progress", "rate", "resumed from", "error", "started"],
            r.downloads.map((d) => [
              d.attemptId,
              `${d.name}\n${d.source}, request ${d.requestId || "-"}`,
              `${d.status}\n(file ${d.fileStatus}, ${d.fileTries} counted)`,
              `${size(d.bytes)} / ${size(d.size)} (${pct(d.bytes, d.size)})`,
              rate(d.rate),
              d.resumedFrom ? size(d.resumedFrom) : "-",
              d.errorClass ? `${d.errorClass}: ${d.details}` : d.details,
              when(d.startedAt),
            ]),
          ),
        );
      }),
    );
}

/**
 * `add-files --watch DIR`: registers each file of DIR once its size has been stable for
 * `stableS` (through the coordinator's AddFiles, so beams are grouped as add-files groups
 * them) until interrupted. `pollS` > 0 scans on a timer instead of inotify (NFS, Lustre).
 */
export async function watchAndAdd(
  admin: Admin,
  dir: string,
  o: { stableS: number; pollS: number; searchParamsJson: string; json: boolean },
  add: (paths: string[]) => Promise<{ added: { path: string }[]; rejected: { path: string; reason: string }[]; jobsCreated: number[]; waiting: string[] }>,
): Promise<void> {
  const abs = path.resolve(dir);
  const watcher = new StableFileWatcher(abs, {
    stableS: o.stableS,
    pollS: o.pollS,
    onStable: async (paths) => {
      try {
        const r = await add(paths);
        if (o.json) printJson(r);
        else {
          for (const f of r.added) console.log(`added ${f.path}`);
          for (const x of r.rejected) console.log(`rejected ${x.path}: ${x.reason}`);
          for (const w of r.waiting) console.log(`waiting: ${w}`);
          if (r.jobsCreated.length) console.log(`jobs created: ${r.jobsCreated.join(", ")}`);
        }
      } catch (err) {
        console.error(`beamflow: not registered (${paths.length} file${paths.length > 1 ? "s" : ""}): ${(err as Error).message}`);
      }
    },
    onError: (err) => console.error(`beamflow: watching ${abs}: ${err.message}`),
  });
  console.error(`watching ${abs}: files are registered once unchanged for ${o.stableS} s (Ctrl-C stops)`);
  watcher.start();
  await new Promise<void>((resolve) => {
    // The watcher's own timers do not hold the process; this does, until Ctrl-C.
    const hold = setInterval(() => {}, 1 << 30);
    const stop = () => {
      clearInterval(hold);
      watcher.stop();
      admin.client.close();
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
}
