// One PushResults call: an agent's search results, checked byte for byte against
// the manifest it declared and against the manifest.json the search wrote, then
// filed under results/<MJD>/<observation>/<beam>/<attempt>/ and recorded as the
// attempt's output dir. Nothing reaches the tree unless all of it is verified;
// paths from the network are refused unless every part is a plain name.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { ResultFile, ResultsPart, ResultsReceipt } from "../../shared/gen/agent";
import type { Logger } from "../../shared/logging/logger";
import { inside, plainName, UnsafePathError } from "../../shared/files/safe-path";
import type { Tracker } from "../tracker/tracker";
import { isLiveAttempt } from "../tracker/states";
import { CANARY_RESULTS, finalDirFor, incomingDir } from "./results-tree";
import { CANARY_JOB_TYPE } from "../../shared/protocol/job-types";

/** The search's own list of its results (shared/results/manifest.ts). */
const MANIFEST_JSON = "manifest.json";

export class ResultsRefused extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
    this.name = "ResultsRefused";
  }
}

export interface ReceiveContext {
  tracker: Tracker;
  /** the results root (config results.dir) */
  root: string;
  /** the authenticated caller */
  agentId: string;
  log: Logger;
}

function checkedPath(p: string): string {
  try {
    const parts = p.split("/");
    for (const part of parts) plainName(part, "results path part");
    return parts.join("/");
  } catch (err) {
    if (err instanceof UnsafePathError) throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, err.message);
    throw err;
  }
}

/** The attempt is this agent's and live (assigned counts: the agent may hold its accept back, see Welcome). */
function requireHeld(ctx: ReceiveContext, attemptId: number): void {
  const a = ctx.tracker.attempt(attemptId);
  if (!a || a.agent_id !== ctx.agentId || !isLiveAttempt(a.status)) {
    throw new ResultsRefused(
      grpc.status.PERMISSION_DENIED,
      `attempt ${attemptId} is not running on agent ${ctx.agentId}${a ? ` (it is ${a.status} on ${a.agent_id})` : ""}`,
    );
  }
}

/** One file being written: its bytes counted and hashed as they arrive. */
class IncomingFile {
  private readonly fd: number;
  private readonly hash = crypto.createHash("sha256");
  private written = 0;
  private closed = false;

  constructor(
    readonly entry: ResultFile,
    file: string,
  ) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, "wx", 0o644);
  }

  write(data: Buffer): void {
    this.written += data.length;
    if (this.written > this.entry.size) {
      throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, `${this.entry.path}: more than the ${this.entry.size} bytes the manifest declares`);
    }
    this.hash.update(data);
    fs.writeSync(this.fd, data);
  }

  close(): void {
    if (!this.closed) fs.closeSync(this.fd);
    this.closed = true;
  }

  finish(): void {
    this.close();
    if (this.written !== this.entry.size) {
      throw new ResultsRefused(grpc.status.DATA_LOSS, `${this.entry.path}: ${this.written} bytes received, the manifest declares ${this.entry.size}`);
    }
    const sha = this.hash.digest("hex");
    if (sha !== this.entry.sha256)
      throw new ResultsRefused(grpc.status.DATA_LOSS, `${this.entry.path}: SHA-256 ${sha} differs from the manifest's ${this.entry.sha256}`);
  }
}

/** The manifest.json the search wrote must list exactly the other files, with the same sizes and hashes. */
function agreeWithManifestJson(dir: string, files: ResultFile[]): string {
  let listed: { base?: unknown; files?: { path: string; size: number; sha256: string }[] };
  try {
    listed = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST_JSON), "utf8"));
  } catch (err) {
    throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, `${MANIFEST_JSON}: not readable JSON: ${(err as Error).message}`);
  }
  if (typeof listed.base !== "string" || !Array.isArray(listed.files))
    throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, `${MANIFEST_JSON}: no base or files`);
  const declared = new Map(files.filter((f) => f.path !== MANIFEST_JSON).map((f) => [f.path, f]));
  for (const f of listed.files) {
    const d = declared.get(f.path);
    if (!d) throw new ResultsRefused(grpc.status.DATA_LOSS, `${MANIFEST_JSON} lists ${f.path}, which was not sent`);
    if (d.size !== f.size || d.sha256 !== f.sha256) throw new ResultsRefused(grpc.status.DATA_LOSS, `${f.path}: differs from what ${MANIFEST_JSON} says`);
    declared.delete(f.path);
  }
  if (declared.size) throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, `sent but not in ${MANIFEST_JSON}: ${[...declared.keys()].join(", ")}`);
  return plainName(listed.base, "beam base name");
}

export async function receiveResults(ctx: ReceiveContext, parts: AsyncIterable<ResultsPart>): Promise<ResultsReceipt> {
  const it = parts[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done || first.value.part?.$case !== "manifest")
    throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, "the first part of a results push must be the manifest");
  const { attemptId, files } = first.value.part.value;
  requireHeld(ctx, attemptId);
  const paths = files.map((f) => checkedPath(f.path));
  if (new Set(paths).size !== paths.length) throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, "the manifest lists a path twice");
  if (!paths.includes(MANIFEST_JSON)) throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, `the results have no ${MANIFEST_JSON}`);

  const log = ctx.log.child({ attempt: attemptId, agent: ctx.agentId });
  const dir = incomingDir(ctx.root, attemptId);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  let open: IncomingFile | null = null;
  let index = -1;
  let bytes = 0;
  const advanceTo = (target: number) => {
    while (index < target) {
      open?.finish();
      index++;
      open = new IncomingFile(files[index]!, inside(dir, paths[index]!));
    }
  };
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      if (r.value.part?.$case !== "data") throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, "a second manifest in one push");
      const { file, data } = r.value.part.value;
      if (file < index || file >= files.length)
        throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, `data for file #${file} out of order (at #${index} of ${files.length})`);
      advanceTo(file);
      open!.write(data);
      bytes += data.length;
    }
    advanceTo(files.length - 1);
    (open as IncomingFile | null)?.finish();
    open = null;
    const base = agreeWithManifestJson(dir, files);
    const fits = path.join(dir, `${base}.fits`);
    if (!fs.existsSync(fits)) throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, `the results have no ${base}.fits (the header-only copy of the beam)`);
    requireHeld(ctx, attemptId); // still ours after the transfer
    const job = ctx.tracker.attempt(attemptId)!.job_id;
    // Canary runs' results are kept apart from the survey's.
    const root = ctx.tracker.job(job)?.job_type === CANARY_JOB_TYPE ? path.join(ctx.root, CANARY_RESULTS) : ctx.root;
    const final = finalDirFor(
      root,
      base,
      fits,
      attemptId,
      ctx.tracker.filesOfJob(job).map((f) => path.basename(f.filename)),
    );
    fs.rmSync(final, { recursive: true, force: true }); // an earlier push of this attempt whose receipt was lost
    fs.mkdirSync(path.dirname(final), { recursive: true });
    fs.renameSync(dir, final);
    ctx.tracker.recordOutputDir(attemptId, final);
    log.info({ dir: final, files: files.length, bytes }, "results received and verified");
    return { resultsDir: final, bytes };
  } catch (err) {
    (open as IncomingFile | null)?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    log.warn({ err: (err as Error).message }, "results push refused");
    if (err instanceof ResultsRefused) throw err;
    if (err instanceof UnsafePathError) throw new ResultsRefused(grpc.status.INVALID_ARGUMENT, err.message);
    throw new ResultsRefused(grpc.status.INTERNAL, `storing the results failed: ${(err as Error).message}`);
  }
}
