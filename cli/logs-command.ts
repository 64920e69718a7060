// `beamflow logs JOB|aATTEMPT [-f] [--step NAME]`: the backlog, then live output.
// A dropped stream (the coordinator restarting) is resumed from the last byte
// received, so every line arrives once, in order; the command ends when the
// attempt does.
import * as grpc from "@grpc/grpc-js";
import type { Command } from "commander";
import type { LogData } from "../shared/gen/admin";
import { CliError, connectAdmin, type Admin } from "./admin-client";
import { parseId, textOption, usageError } from "./args";
import { exitForGrpc } from "./exit-codes";
import { cliConfig } from "./config-option";
import { run } from "./run";
import { tuneGcForBuffers } from "../shared/runtime/buffer-gc";

/**
 * pty output to plain text: \r\n becomes \n even when a chunk ends between the two. On the
 * bytes, not decoded text: a \r or \n byte is never part of a UTF-8 sequence, so a character
 * split across chunks comes out whole, and heavy output is written a megabyte at a time as
 * it arrived (decoding it into a string, replacing and encoding it again cost more than
 * receiving it).
 */
export class PtyText {
  private pendingCr = false;

  write(data: Buffer): Buffer {
    const parts: Buffer[] = [];
    let from = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (data.length === 0) {
        this.pendingCr = true;
        return data;
      }
      if (data[0] !== LF) parts.push(CR_BYTE);
    }
    for (let i = data.indexOf(CR); i !== -1; i = data.indexOf(CR, i + 1)) {
      if (i === data.length - 1) {
        // Whether it is followed by \n is for the next chunk to say.
        parts.push(data.subarray(from, i));
        from = data.length;
        this.pendingCr = true;
      } else if (data[i + 1] === LF) {
        parts.push(data.subarray(from, i));
        from = i + 1;
      }
    }
    if (parts.length === 0) return data;
    parts.push(data.subarray(from));
    return Buffer.concat(parts);
  }
}

const CR = 0x0d;
const LF = 0x0a;
const CR_BYTE = Buffer.from([CR]);

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
        if (opts.follow) tuneGcForBuffers();
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
