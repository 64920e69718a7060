// `beamflow logs JOB|aATTEMPT [-f] [--step NAME]`: the backlog, then live output.
// A dropped stream (the coordinator restarting) is resumed from the last byte
// received, so every line arrives once, in order; the command ends when the
// attempt does.
import { StringDecoder } from "node:string_decoder";
import * as grpc from "@grpc/grpc-js";
import type { Command } from "commander";
import type { LogData } from "../shared/gen/admin";
import { CliError, connectAdmin, type Admin } from "./admin-client";
import { parseId, textOption, usageError } from "./args";
import { exitForGrpc } from "./exit-codes";
import { cliConfig } from "./config-option";
import { run } from "./run";

/**
 * pty output to plain text: \r\n becomes \n even when a chunk ends between the two,
 * and a UTF-8 character split across chunks is decoded whole.
 */
class PtyText {
  private readonly decoder = new StringDecoder("utf8");
  private pendingCr = false;

  write(data: Buffer): string {
    let text = (this.pendingCr ? "\r" : "") + this.decoder.write(data);
    this.pendingCr = text.endsWith("\r");
    if (this.pendingCr) text = text.slice(0, -1);
    return text.replace(/\r\n/g, "\n");
  }
}

function target(id: string): { jobId: number; attemptId: number } {
  const m = /^(a?)(\d+)$/.exec(id);
  if (!m) throw usageError(`not a job or attempt id: '${id}' (a job: 12, an attempt: a34)`);
  const n = parseId(m[2], m[1] ? "attempt id" : "job id");
  return m[1] ? { jobId: 0, attemptId: n } : { jobId: n, attemptId: 0 };
}

/** One streaming call; resolves with the offset reached and whether the log ended. */
function stream(
  admin: Admin,
  req: { jobId: number; attemptId: number; follow: boolean; offset: number; step: string },
  out: NodeJS.WritableStream,
): Promise<{ offset: number; attemptId: number; ended: boolean }> {
  return new Promise((resolve, reject) => {
    let offset = req.offset;
    let attemptId = req.attemptId;
    let ended = false;
    const toText = new PtyText();
    const call = admin.client.tailLog(req, admin.metadata);
    call.on("data", (d: LogData) => {
      attemptId = d.attemptId;
      if (d.data.length) {
        out.write(toText.write(d.data));
        offset = d.nextOffset || d.offset + d.data.length;
      }
      if (d.end) ended = true;
    });
    call.on("error", (err: grpc.ServiceError) => {
      // Only a dropped connection is retried: a job that does not exist, or has not started, is said at once.
      if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.CANCELLED || (err.code === grpc.status.INTERNAL && attemptId))
        resolve({ offset, attemptId, ended: false });
      else reject(new CliError(err.details || err.message, exitForGrpc(err.code)));
    });
    call.on("end", () => resolve({ offset, attemptId, ended }));
  });
}

export function registerLogsCommand(program: Command): void {
  program
    .command("logs <id>")
    .description("an attempt's log (a job's latest attempt, or aN for attempt N); -f follows it live")
    .option("-f, --follow", "keep printing as the attempt runs, until it ends")
    .option("--step <name>", "only this step's output", textOption("--step"))
    .action(
      run(async (opts: { config?: string; follow?: boolean; step?: string }, id: string) => {
        const cfg = cliConfig(opts.config);
        let { jobId, attemptId } = target(id);
        let offset = 0;
        let wait = 200;
        for (;;) {
          let admin: Admin | undefined;
          try {
            admin = connectAdmin(cfg);
            const r = await stream(admin, { jobId, attemptId, follow: !!opts.follow, offset, step: opts.step ?? "" }, process.stdout);
            // Stay on the attempt first resolved, even if the job moves on to another one.
            if (r.attemptId) {
              attemptId = r.attemptId;
              jobId = 0;
            }
            if (r.offset > offset) wait = 200;
            offset = r.offset;
            if (r.ended || !opts.follow) return;
          } catch (err) {
            // The coordinator's socket may be gone for a moment while it restarts.
            if (!opts.follow || !(err instanceof CliError) || !/no coordinator is listening|cannot reach/.test(err.message)) throw err;
          } finally {
            admin?.client.close();
          }
          await new Promise((r) => setTimeout(r, wait));
          wait = Math.min(wait * 2, 5000);
        }
      }),
    );
}
