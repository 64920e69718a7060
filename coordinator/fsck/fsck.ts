// `beamflow fsck`: checks the tracker's invariants against itself, the disk and (with a
// coordinator running) the reservations it holds in memory, and says each violation in
// words; with `repair`, fixes what is safe to fix and says what it did.
//
// Invariants:
//   live_attempts        a job has at most one live attempt (assigned/running)
//   stray_attempt        a live attempt owns a submitted job (is its current attempt)
//   submitted_orphan     a submitted job's current attempt is live
//   done_without_success a processed/uploaded/upload_failed job's current attempt is processed
//   upload_record        a job is uploaded exactly when an upload of it committed
//   status_counts        the counts by state that status reads agree with the rows
//   raw_missing          a registered raw file is on disk ...
//   raw_size             ... with its recorded size
//   results_missing      filed results (an attempt's output_dir) are on disk
//   results_orphan       every attempt dir under the results root is an attempt's output_dir
//   reservation_stray    a reservation held in memory belongs to a live attempt of that agent
//   reservation_missing  a live attempt holds its reservation in memory
//
// Repairs (all guarded moves, nothing counted): the counts by state are counted again;
// stray live attempts are ended as lost;
// orphaned submitted jobs wait again; a waiting job whose raw file is gone or changed
// fails for good with why; a raw file gone whose job is over is recorded as deleted;
// orphaned results dirs of ended attempts are removed; stray reservations are released
// and missing ones taken. What is not safe to guess at (a finished job without its
// successful attempt, results or raw files of a job in flight) is reported only.
import fs from "node:fs";
import path from "node:path";
import type { Tracker } from "../tracker/tracker";
import { isLiveAttempt } from "../tracker/states";
import { CANARY_RESULTS, INCOMING } from "../results/results-tree";

export type FsckCheck =
  | "live_attempts"
  | "stray_attempt"
  | "submitted_orphan"
  | "done_without_success"
  | "upload_record"
  | "status_counts"
  | "raw_missing"
  | "raw_size"
  | "results_missing"
  | "results_orphan"
  | "reservation_stray"
  | "reservation_missing";

export interface FsckFinding {
  check: FsckCheck;
  /** what is wrong, in words */
  problem: string;
  /** what --repair did about it; "" when nothing (yet) */
  repaired: string;
  /** why --repair leaves it alone; "" when it is repairable */
  unrepairable: string;
}

/** The coordinator's reservations in memory, when one runs (fsck through the admin API). */
export interface LiveReservations {
  /** agent id → attempt ids it holds a reservation for */
  held(): Map<string, number[]>;
  release(attemptId: number, agentId: string): void;
  reserve(attemptId: number, agentId: string): void;
  /** an attempt fsck ended: tell its agent to stop it */
  cancel(attemptId: number, agentId: string, reason: string): void;
  /** jobs wait again: wake the dispatcher */
  schedule(): void;
}

export interface FsckOptions {
  repair: boolean;
  resultsRoot: string;
  reservations?: LiveReservations;
}

export interface FsckReport {
  findings: FsckFinding[];
  /** whether the reservations in memory were checked (only with a coordinator running) */
  reservationsChecked: boolean;
}

const WAITING = new Set(["new", "retrying"]);
const OVER = new Set(["uploaded", "terminal_failure", "upload_failed"]);

export function fsck(tracker: Tracker, o: FsckOptions): FsckReport {
  const findings: FsckFinding[] = [];
  const add = (check: FsckCheck, problem: string, unrepairable = "") => {
    const f: FsckFinding = { check, problem, repaired: "", unrepairable };
    findings.push(f);
    return f;
  };
  /** Runs a repair; a move refused meanwhile (the coordinator moved the row) is said so. */
  const repair = (f: FsckFinding, what: string, fn: () => void) => {
    if (!o.repair || f.unrepairable) return;
    try {
      tracker.transaction(fn);
      f.repaired = what;
    } catch (err) {
      f.unrepairable = `the repair failed: ${(err as Error).message}`;
    }
  };

  // ---- attempts and jobs ----
  const many = tracker.fsck.manyLive().map((r) => ({
    job: r.job_id,
    f: add(
      "live_attempts",
      `job ${r.job_id} has ${r.attempt_ids.split(",").length} live attempts (${r.attempt_ids}); its current one is ${r.current_attempt_id ?? "none"}`,
    ),
  }));
  for (const a of tracker.fsck.strayLive()) {
    const owner =
      a.job_status !== "submitted" ? `job ${a.job_id} is ${a.job_status}` : `job ${a.job_id}'s current attempt is ${a.current_attempt_id ?? "none"}`;
    const f = add("stray_attempt", `attempt ${a.id} on agent ${a.agent_id} is ${a.status} but owns no job: ${owner}`);
    const why = `ended by fsck: live without owning job ${a.job_id} (${owner})`;
    repair(f, `attempt ${a.id} ended as lost (not counted)`, () => tracker.fsck.loseStray(a.id, why));
    if (f.repaired) o.reservations?.cancel(a.id, a.agent_id, why);
  }
  if (o.repair && many.length) {
    const still = new Set(tracker.fsck.manyLive().map((r) => r.job_id));
    for (const m of many) {
      if (still.has(m.job)) m.f.unrepairable = "its extra attempts could not all be ended";
      else m.f.repaired = "the attempts that do not own the job were ended as lost (see stray_attempt)";
    }
  }
  // After the stray attempts: a job whose extra attempts were ended may still lack a live one.
  let requeued = false;
  for (const j of tracker.fsck.submittedWithoutLive()) {
    const attempt = j.current_attempt_id == null ? "no current attempt" : `its current attempt ${j.current_attempt_id} is ${j.attempt_status ?? "missing"}`;
    const f = add("submitted_orphan", `job ${j.id} is submitted but ${attempt}`);
    repair(f, `job ${j.id} waits for an agent again (retrying, not counted)`, () =>
      tracker.fsck.requeueOrphan(j.id, `requeued by fsck: it was submitted but ${attempt}`),
    );
    requeued ||= f.repaired !== "";
  }
  for (const j of tracker.fsck.doneWithoutSuccess()) {
    const attempt =
      j.current_attempt_id == null ? "it has no current attempt" : `its current attempt ${j.current_attempt_id} is ${j.attempt_status ?? "missing"}`;
    add("done_without_success", `job ${j.id} is ${j.status} but ${attempt}`, "which attempt produced its results cannot be told; look at `beamflow job`");
  }
  for (const j of tracker.fsck.uploadMismatch()) {
    add(
      "upload_record",
      j.uploaded ? `job ${j.id} is ${j.status} but an upload of it was committed to the results DB` : `job ${j.id} is uploaded but no upload of it committed`,
      "the results DB decides; compare with `beamflow results --job` by hand",
    );
  }

  const drift = tracker.fsck.countDrift();
  const counts = drift.map((d) => add("status_counts", `${d.tbl} in state ${d.status}: ${d.kept} counted, ${d.actual} in the table`));
  if (counts.length) {
    try {
      if (o.repair) tracker.transaction(() => tracker.fsck.recount());
      for (const f of counts) if (o.repair) f.repaired = "the counts by state were counted again from the rows";
    } catch (err) {
      for (const f of counts) f.unrepairable = `the recount failed: ${(err as Error).message}`;
    }
  }

  // ---- raw files ----
  for (const file of tracker.fsck.registeredFiles()) {
    let size: number | undefined;
    try {
      size = fs.statSync(file.filename).size;
    } catch {
      size = undefined;
    }
    if (size === file.size) continue;
    // A job that is over reads its files no more (a retry checks them again): only a file gone matters.
    if (size !== undefined && OVER.has(file.job_status ?? "")) continue;
    const jobState = file.job_id == null ? "no job" : `job ${file.job_id} is ${file.job_status}`;
    const problem =
      size === undefined
        ? `raw file ${file.filename} (file ${file.id}) is registered but not on disk (${jobState})`
        : `raw file ${file.filename} (file ${file.id}) is ${size} bytes on disk, ${file.size} registered (${jobState})`;
    const check: FsckCheck = size === undefined ? "raw_missing" : "raw_size";
    if (file.job_id != null && WAITING.has(file.job_status ?? "")) {
      const f = add(check, problem);
      const why =
        size === undefined
          ? `raw file ${file.filename} is gone (fsck)`
          : `raw file ${file.filename} changed size: ${size} bytes, ${file.size} registered (fsck)`;
      repair(f, `job ${file.job_id} failed for good: ${why}${size === undefined ? `; file ${file.id} recorded as deleted` : ""}`, () => {
        tracker.fsck.failWaiting(file.job_id!, why);
        if (size === undefined) tracker.fsck.forgetFile(file.id, "not on disk (found by fsck)");
      });
    } else if (size === undefined && (file.job_id == null || OVER.has(file.job_status ?? ""))) {
      const f = add(check, problem);
      repair(f, `file ${file.id} recorded as deleted`, () => {
        tracker.fsck.forgetFile(file.id, "not on disk (found by fsck)");
      });
    } else {
      add(
        check,
        problem,
        file.job_id != null ? `job ${file.job_id} is ${file.job_status}: left to it` : "its bytes differ from what was registered; re-register it by hand",
      );
    }
  }

  // ---- results on disk ----
  const filed = tracker.fsck.filedResults();
  const filedDirs = new Set(filed.map((r) => path.resolve(r.output_dir)));
  for (const r of filed) {
    if (fs.existsSync(r.output_dir)) continue;
    const needed = r.current_attempt_id === r.attempt_id && (r.job_status === "processed" || r.job_status === "uploaded");
    add(
      "results_missing",
      `attempt ${r.attempt_id}'s results ${r.output_dir} are gone (job ${r.job_id} is ${r.job_status})`,
      needed
        ? "the results cannot be made again without searching the beam again (`beamflow retry` after a kill)"
        : "the results are of no use any more; nothing to do",
    );
  }
  const attempts = tracker.fsck.attemptStates();
  for (const dir of attemptDirs(o.resultsRoot)) {
    if (filedDirs.has(path.resolve(dir))) continue;
    const id = Number(path.basename(dir));
    const state = attempts.get(id);
    const f = add(
      "results_orphan",
      `results dir ${dir} is not the filed results of any attempt (attempt ${id} ${state ? `is ${state}` : "does not exist"})`,
      state === undefined
        ? "it belongs to no attempt of this tracker: remove it by hand if it is not wanted"
        : isLiveAttempt(state)
          ? `attempt ${id} is still ${state}`
          : "",
    );
    repair(f, `removed ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }));
  }

  // ---- reservations (only with a coordinator running) ----
  const res = o.reservations;
  if (res) {
    const live = new Map(tracker.fsck.liveAttempts().map((a) => [a.id, a.agent_id]));
    const heldBy = new Map<number, string>();
    for (const [agent, ids] of res.held()) for (const id of ids) heldBy.set(id, agent);
    for (const [id, agent] of heldBy) {
      if (live.get(id) === agent) continue;
      const state = attempts.get(id) ?? tracker.attempt(id)?.status;
      // A stopped attempt keeps its reservation until its agent lets go of it (JobLifecycle.stop).
      if (state === "cancelled" || state === "stopped") continue;
      const f = add(
        "reservation_stray",
        `agent ${agent} holds a reservation for attempt ${id}, which is ${state ?? "unknown"}${live.has(id) ? ` on agent ${live.get(id)}` : ""}`,
      );
      repair(f, `released attempt ${id}'s reservation on agent ${agent}`, () => res.release(id, agent));
    }
    for (const [id, agent] of live) {
      if (heldBy.get(id) === agent) continue;
      const f = add("reservation_missing", `live attempt ${id} holds no reservation on its agent ${agent}`);
      repair(f, `reserved attempt ${id}'s resources on agent ${agent}`, () => res.reserve(id, agent));
    }
  }
  if (requeued || findings.some((f) => f.repaired && f.check === "reservation_stray")) res?.schedule();
  return { findings, reservationsChecked: res !== undefined };
}

/** Attempt dirs of the results tree: <root>/<MJD>/<observation>/<beam>/<attempt>/ (not .incoming, not canary). */
function attemptDirs(root: string): string[] {
  const out: string[] = [];
  const list = (dir: string) => {
    try {
      return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
    } catch {
      return [];
    }
  };
  for (const mjd of list(root)) {
    if (mjd.name === INCOMING || mjd.name === CANARY_RESULTS || !/^\d+$/.test(mjd.name)) continue;
    for (const obs of list(path.join(root, mjd.name)))
      for (const beam of list(path.join(root, mjd.name, obs.name)))
        for (const att of list(path.join(root, mjd.name, obs.name, beam.name))) {
          if (/^\d+$/.test(att.name)) out.push(path.join(root, mjd.name, obs.name, beam.name, att.name));
        }
  }
  return out;
}

/** One line per finding, for the CLI. */
export function describeFindings(r: FsckReport): string {
  if (r.findings.length === 0)
    return `fsck: the tracker is consistent${r.reservationsChecked ? " (reservations checked)" : " (coordinator not running: reservations not checked)"}`;
  const lines = r.findings.map((f) => {
    const tail = f.repaired ? `\n    repaired: ${f.repaired}` : f.unrepairable ? `\n    not repaired: ${f.unrepairable}` : "";
    return `${f.check}: ${f.problem}${tail}`;
  });
  const left = r.findings.filter((f) => !f.repaired).length;
  lines.push(`fsck: ${r.findings.length} violation(s), ${r.findings.length - left} repaired, ${left} left`);
  return lines.join("\n");
}
