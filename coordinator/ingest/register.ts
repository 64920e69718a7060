// Manual registration of raw-data files: PALFA's bin/add_files.py plus the
// job creation of job.create_jobs_for_new_files, in one step.
//
// 1. Every path is checked first (exists, regular file, can be opened); if any
//    is bad, one AddFilesError lists them all and nothing is registered.
// 2. Each new file is hashed (SHA-256) while it is read once, in 1 MiB reads
//    with the next read in flight while the previous chunk is hashed.
// 3. One transaction inserts the `files` rows (status `downloaded`) and creates
//    a job for every complete beam among the files that have no job yet, with
//    the Tracker's own createJob (a nested transaction = a savepoint).
import crypto from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Config } from "../../shared/config/schema";
import { COMMAND_JOB_TYPE, runsSearch } from "../../shared/protocol/job-types";
import { unsearchable } from "./validate";
import type { Reservation, Tracker } from "../tracker/tracker";
import type { TrackedFile } from "../tracker/files";
import { classify, groupFiles, RejectedFile, type Classification } from "./beams";

export { expandGlobs, expandGlobsDetailed, type GlobResult } from "./glob";

export const ADDED_DETAILS = "added by add-files";

export type IngestConfig = Pick<Config, "beams" | "dispatch" | "jobs"> & Partial<Pick<Config, "search">>;

/** The coordinator's Config will do; `readChunkBytes` (1 MiB unless set) is the hashing read size. */
export type RegisterOptions = IngestConfig & { readChunkBytes?: number; searchOverrides?: Record<string, unknown> };

export interface RegisterResult {
  added: { path: string; size: number; sha256: string }[];
  /** Absolute paths that were registered already (same absolute path). */
  skipped: string[];
  /** Files not registered because of what their name says (PALFA's can_add_file): beam 7, a beam's slot already tracked, … */
  rejected: { path: string; reason: string }[];
  jobsCreated: number[];
  /** Beams still missing files, e.g. "p2030.20230225.G037.00-00.10.C.b0.00000 (mock): have s0, missing s1". */
  waiting: string[];
}

export interface PathProblem {
  path: string;
  reason: string;
}

/** Some given paths cannot be registered; nothing was registered. */
export class AddFilesError extends Error {
  constructor(readonly problems: PathProblem[]) {
    super(
      problems.length === 1
        ? `cannot add ${problems[0].path}: ${problems[0].reason}; nothing was registered`
        : `cannot add ${problems.length} files; nothing was registered:\n` + problems.map((p) => `  - ${p.path}: ${p.reason}`).join("\n"),
    );
    this.name = "AddFilesError";
  }
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException).code ?? String(err);

function describeOpenError(err: unknown): string {
  switch (errCode(err)) {
    case "ENOENT":
      return "no such file";
    case "ENOTDIR":
      return "a component of the path is not a directory";
    case "EACCES":
    case "EPERM":
      return "not readable (permission denied)";
    case "ELOOP":
      return "too many levels of symbolic links";
    case "EISDIR":
      return "is a directory";
    default:
      return `cannot be opened (${errCode(err)})`;
  }
}

/** Why `abs` cannot be registered, or null if it is a regular file we can open for reading. */
export async function checkPath(abs: string): Promise<string | null> {
  let st: fs.Stats;
  try {
    st = await fsp.stat(abs);
  } catch (err) {
    if (errCode(err) === "ENOENT") {
      const isLink = await fsp.lstat(abs).then(
        (l) => l.isSymbolicLink(),
        () => false,
      );
      return isLink ? "a symbolic link to a missing file" : "no such file";
    }
    return describeOpenError(err);
  }
  if (st.isDirectory()) return "is a directory (give the files in it, or a glob such as DIR/*.fits)";
  if (!st.isFile()) return "not a regular file (a FIFO, socket or device)";
  try {
    const fh = await fsp.open(abs, "r");
    await fh.close();
  } catch (err) {
    return describeOpenError(err);
  }
  return null;
}

/**
 * Size and SHA-256 of a file, read once from start to end. Two buffers: the
 * next read is in the thread pool while the previous chunk is being hashed.
 */
export async function hashFile(file: string, chunkBytes = 1 << 20): Promise<{ size: number; sha256: string }> {
  const fh = await fsp.open(file, "r");
  try {
    const hash = crypto.createHash("sha256");
    const bufs = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
    let size = 0;
    let cur = 0;
    let pending = fh.read(bufs[cur], 0, chunkBytes, 0);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const filled = bufs[cur];
      size += bytesRead;
      cur ^= 1;
      pending = fh.read(bufs[cur], 0, chunkBytes, size);
      hash.update(filled.subarray(0, bytesRead));
    }
    return { size, sha256: hash.digest("hex") };
  } finally {
    await fh.close();
  }
}

type Tracked = TrackedFile;
const describeTracked = (t: Tracked) => (t.id < 0 ? `${t.filename} (given in this call too)` : `${t.filename} (file ${t.id}, ${t.status})`);

/** Which beam slots (kind + beam + member) the tracked files fill, by classification of their names. */
function beamSlots(tracked: Tracked[], rules: IngestConfig["beams"]["rules"]) {
  const slots = new Map<string, { kind: string; members: Map<string, Tracked> }>();
  for (const t of tracked) {
    let c: Classification;
    try {
      c = classify(t.filename, rules);
    } catch (err) {
      if (err instanceof RejectedFile) continue;
      throw err;
    }
    if (c.members.length === 0) continue; // single-file beams never collide: each file is its own group
    const s = slots.get(c.beam) ?? { kind: c.kind, members: new Map<string, Tracked>() };
    slots.set(c.beam, s);
    if (!s.members.has(c.member!)) s.members.set(c.member!, t);
  }
  return slots;
}

/** Sorts candidates into new / skipped (same path tracked) / rejected, against the tracker's files. */
function plan(tracker: Tracker, candidates: string[], rules: IngestConfig["beams"]["rules"]) {
  const tracked = tracker.files.tracked();
  const byPath = new Map(tracked.map((t) => [t.filename, t]));
  const byBase = new Map<string, Tracked>();
  for (const t of tracked) if (!byBase.has(path.basename(t.filename))) byBase.set(path.basename(t.filename), t);
  const slots = beamSlots(tracked, rules);
  const fresh: string[] = [];
  const skipped: string[] = [];
  const rejected: PathProblem[] = [];
  for (const p of candidates) {
    if (byPath.has(p)) {
      skipped.push(p);
      continue;
    }
    // PALFA's can_add_file: a file whose name is tracked already (anywhere) is refused.
    const sameName = byBase.get(path.basename(p));
    if (sameName) {
      rejected.push({ path: p, reason: `a file of the same name is tracked already: ${describeTracked(sameName)}` });
      continue;
    }
    let c: Classification;
    try {
      c = classify(p, rules);
    } catch (err) {
      if (err instanceof RejectedFile) {
        rejected.push({ path: p, reason: err.reason });
        continue;
      }
      throw err;
    }
    if (c.members.length > 0) {
      // A second file for a member already filled would make the group ambiguous
      // (PALFA refused any file whose name was tracked already).
      const s = slots.get(c.beam);
      if (s && s.kind !== c.kind) {
        rejected.push({ path: p, reason: `beam ${c.beam} is tracked already as kind '${s.kind}', this file is '${c.kind}'` });
        continue;
      }
      const holder = s?.members.get(c.member!);
      if (holder) {
        rejected.push({ path: p, reason: `beam ${c.beam} has its ${c.member} file already: ${describeTracked(holder)}` });
        continue;
      }
      const entry = s ?? { kind: c.kind, members: new Map<string, Tracked>() };
      entry.members.set(c.member!, { id: -1, filename: p, status: "being added" });
      slots.set(c.beam, entry);
    }
    byBase.set(path.basename(p), { id: -1, filename: p, status: "being added" });
    fresh.push(p);
  }
  return { fresh, skipped, rejected };
}

export function reservationFor(config: IngestConfig, totalBytes: number): Reservation {
  return {
    cores: config.dispatch.cores_per_beam,
    memory: config.dispatch.memory_per_beam,
    shm: Math.ceil(totalBytes * config.dispatch.shm_factor),
  };
}

/** A commands job carries its steps; a palfa-search job the parameters that differ from the config's `search`. */
export function jobSpecFor(config: IngestConfig, searchOverrides: Record<string, unknown> = {}): unknown {
  return config.jobs.type === COMMAND_JOB_TYPE ? { commands: config.jobs.commands } : { params: searchOverrides };
}

/**
 * Creates a job for every complete beam among the ready files that have none
 * yet; returns the new job ids and the beams still waiting. Call it inside a
 * transaction (registerFiles does) or on its own (it makes its own).
 */
export function createJobsForNewFiles(
  tracker: Tracker,
  config: IngestConfig,
  searchOverrides: Record<string, unknown> = {},
): { jobsCreated: number[]; waiting: string[] } {
  return tracker.transaction(() => {
    const rows = tracker.files.readyWithoutJob();
    const sizes = new Map(rows.map((r) => [r.id, r.size]));
    const groups = groupFiles(rows, config.beams.rules);
    const jobsCreated: number[] = [];
    for (const g of groups.complete) {
      const total = g.fileIds.reduce((sum, id) => sum + sizes.get(id)!, 0);
      jobsCreated.push(
        tracker.createJob({
          beam: g.beam,
          jobType: config.jobs.type,
          spec: jobSpecFor(config, searchOverrides),
          reservation: reservationFor(config, total),
          fileIds: g.fileIds,
        }),
      );
    }
    const waiting = groups.incomplete.map((g) => `${g.beam} (${g.kind}): have ${g.have.join(", ")}, missing ${g.missing.join(", ")}`);
    return { jobsCreated, waiting };
  });
}

/** low_T_to_search for this registration (its own --param first), when the config says. */
function searchMinSeconds(opts: RegisterOptions): number | undefined {
  const own = opts.searchOverrides?.low_T_to_search;
  return typeof own === "number" ? own : opts.search?.low_T_to_search;
}

/** Registers files (PALFA add_files.py) and creates the jobs of the beams they complete. */
export async function registerFiles(tracker: Tracker, paths: readonly string[], opts: RegisterOptions): Promise<RegisterResult> {
  const config = opts;
  const rules = config.beams.rules;
  const abs = [...new Set(paths.map((p) => path.resolve(p)))];

  // 1. All paths first: one bad path and nothing is registered.
  const problems: PathProblem[] = [];
  for (const p of abs) {
    const why = await checkPath(p);
    if (why) problems.push({ path: p, reason: why });
  }
  if (problems.length) throw new AddFilesError(problems);

  // 2. Hash what is new (a read error is a bad path too: still nothing registered).
  const first = plan(tracker, abs, rules);
  const hashed = new Map<string, { size: number; sha256: string }>();
  for (const p of first.fresh) {
    try {
      const before = await fsp.stat(p);
      const h = await hashFile(p, opts.readChunkBytes);
      const after = await fsp.stat(p);
      if (h.size !== after.size || after.mtimeMs !== before.mtimeMs) {
        problems.push({ path: p, reason: `changed while it was read (${before.size} → ${after.size} bytes); is it still being written?` });
        continue;
      }
      // A beam to be searched must be searchable: what would fail its attempt for good (bad_input, too_short) is refused here.
      const why = runsSearch(config.jobs.type) ? unsearchable(p, searchMinSeconds(opts)) : null;
      if (why) problems.push({ path: p, reason: why });
      else hashed.set(p, h);
    } catch (err) {
      problems.push({ path: p, reason: `read failed (${errCode(err)})` });
    }
  }
  if (problems.length) throw new AddFilesError(problems);

  // 3. One transaction: the files, then the jobs. Planned again inside it, in case
  //    another registration ran while this one was hashing.
  return tracker.transaction((): RegisterResult => {
    const again = plan(tracker, abs, rules);
    const result: RegisterResult = { added: [], skipped: again.skipped, rejected: again.rejected, jobsCreated: [], waiting: [] };
    for (const p of again.fresh) {
      const h = hashed.get(p);
      if (!h) throw new Error(`internal: ${p} became new while this registration was hashing`);
      if (!tracker.files.add({ filename: p, size: h.size, sha256: h.sha256, details: ADDED_DETAILS })) {
        result.skipped.push(p);
        continue;
      }
      result.added.push({ path: p, size: h.size, sha256: h.sha256 });
    }
    Object.assign(result, createJobsForNewFiles(tracker, config, opts.searchOverrides));
    return result;
  });
}
