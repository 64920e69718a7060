// `beamflow jobs` pages on a real tracker file: every filter and pair of filters, both
// orders, followed page by page to the end, must give exactly the jobs a plain reading of
// every row gives, in order, none twice; the walk over windows of ids (filters no index
// answers) must also come back short with a cursor when its time is up, and go on from there.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Database from "better-sqlite3";
import { eachBatch, firstJobs } from "../../../cli/job-listing";
import { type JobListRow, type JobPageQuery, JobPages } from "../../../coordinator/tracker/job-pages";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { Tracker } from "../../../coordinator/tracker/tracker";

const JOBS = 6000;
const STATES = ["uploaded", "processed", "new", "terminal_failure", "retrying", "uploaded", "submitted"];
const AGENTS = ["node1", "node2", "node3"];
const T0 = 1_800_000_000;

/** A tracker of JOBS jobs: beams of three surveys, states, attempts on three agents (some jobs tried twice, on two). */
function fill(db: Database.Database, t: Tracker): void {
  for (const a of AGENTS) t.ensureAgent(a, "x");
  const attempt = db.prepare(`INSERT INTO job_submits (job_id, agent_id, status, cores, memory, shm, lease_expires_at, created_at, updated_at)
                              VALUES (?, ?, 'processed', 1, 0, 0, 0, 0, 0)`);
  const move = db.prepare("UPDATE jobs SET status = ?, updated_at = ?, current_attempt_id = ? WHERE id = ?");
  t.transaction(() => {
    for (let i = 0; i < JOBS; i++) {
      const survey = ["p2030", "p2030", "G35", "mock"][i % 4];
      const id = t.createJob({
        beam: `${survey}.${String(i).padStart(6, "0")}.b${i % 7}`,
        jobType: "command",
        spec: {},
        reservation: { cores: 1, memory: 0, shm: 0 },
      });
      const status = STATES[(i * 7 + (i >> 4)) % STATES.length]!;
      let current: number | null = null;
      if (status !== "new") {
        // Tried on one agent; every fifth job once more, on another (the later attempt is the current one).
        current = Number(attempt.run(id, AGENTS[i % 3]).lastInsertRowid);
        if (i % 5 === 0) current = Number(attempt.run(id, AGENTS[(i + 1) % 3]).lastInsertRowid);
      }
      // updated in an order unlike the ids', so that --since picks from all over
      move.run(status, T0 + ((i * 7919) % JOBS), current, id);
    }
  });
}

/** What a page walk must find: every row read and filtered here, in order. */
function reference(all: JobListRow[], q: JobPageQuery): number[] {
  const glob = q.beam
    ? new RegExp(
        `^${q.beam
          .replace(/[.+^${}()|\\]/g, "\\$&")
          .replace(/\*/g, ".*")
          .replace(/\?/g, ".")}$`,
      )
    : undefined;
  const ids = all
    .filter(
      (j) =>
        (!q.status || j.status === q.status) && (!q.agent || j.agent_id === q.agent) && (!glob || glob.test(j.beam)) && (!q.since || j.updated_at >= q.since),
    )
    .map((j) => j.id);
  return q.oldestFirst ? ids.sort((a, b) => a - b) : ids.sort((a, b) => b - a);
}

/** Every page from the first, as a client follows the cursors; how many replies it took and how many came short. */
async function walk(pages: JobPages, q: Omit<JobPageQuery, "cursor">): Promise<{ ids: number[]; replies: number; short: number }> {
  const ids: number[] = [];
  let cursor = 0;
  let replies = 0;
  let short = 0;
  do {
    const p = await pages.page({ ...q, cursor });
    replies++;
    assert.ok(p.jobs.length <= q.limit, `a page of ${p.jobs.length} for a limit of ${q.limit}`);
    if (p.nextCursor && p.jobs.length < q.limit) short++;
    ids.push(...p.jobs.map((j) => j.id));
    cursor = p.nextCursor;
    assert.ok(replies < 10_000, "the walk never ends");
  } while (cursor);
  return { ids, replies, short };
}

describe("job pages (beamflow jobs)", function () {
  this.timeout(120_000);
  let dir: string;
  let db: Database.Database;
  let all: JobListRow[];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-pages-"));
    createTracker(path.join(dir, "tracker.db"));
    db = openTracker(path.join(dir, "tracker.db"));
    const t = new Tracker(db);
    fill(db, t);
    all = db.prepare("SELECT j.*, a.agent_id FROM jobs j LEFT JOIN job_submits a ON a.id = j.current_attempt_id").all() as JobListRow[];
  });
  after(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const filters: Record<string, Partial<JobPageQuery>> = {
    none: {},
    status: { status: "terminal_failure" },
    agent: { agent: "node2" },
    "beam prefix, few": { beam: "G35.0012*" },
    "beam prefix, many": { beam: "p2030.*" },
    "beam inside the name": { beam: "*1?3*.b2" },
    "beam, none": { beam: "*nosuch*" },
    since: { since: T0 + JOBS - 700 },
    "since, none": { since: T0 + JOBS + 1 },
    "status and agent": { status: "uploaded", agent: "node3" },
    "status and beam": { status: "retrying", beam: "*7*" },
    "agent and since": { agent: "node1", since: T0 + JOBS / 2 },
    "agent, beam prefix and since": { agent: "node1", beam: "mock.*", since: T0 + 1000 },
    "agent nobody": { agent: "nobody" },
  };

  for (const [name, f] of Object.entries(filters))
    it(`${name}: every matching job once, in order, page by page, both ways`, async () => {
      // One small window per reply: every page that walks windows comes back in several replies.
      const stepwise = new JobPages(db, { replyMs: 0, firstWindow: 300, windowMs: 0.001 });
      const quick = new JobPages(db);
      for (const oldestFirst of [false, true]) {
        const want = reference(all, { ...f, oldestFirst, limit: 0 });
        // (a page of one only where there are few: it is a reply per job)
        for (const limit of want.length < 300 ? [1, 7, 1000] : [7, 1000]) {
          for (const pages of [stepwise, quick]) {
            const got = await walk(pages, { ...f, oldestFirst, limit });
            assert.deepEqual(got.ids, want, `${name}, ${oldestFirst ? "oldest" : "newest"} first, limit ${limit}`);
          }
        }
        // The first page alone is the newest (or oldest) `limit` of them.
        const first = await quick.page({ ...f, oldestFirst, limit: 50 });
        assert.deepEqual(
          first.jobs.map((j) => j.id),
          want.slice(0, 50),
        );
        assert.equal(first.nextCursor === 0, want.length <= 50);
      }
    });

  it("a walk that finds nothing for a while answers short pages with a cursor, and ends with none", async () => {
    const stepwise = new JobPages(db, { replyMs: 0, firstWindow: 300, windowMs: 0.001 });
    const rare = await walk(stepwise, { beam: "*000123*", limit: 50 });
    assert.deepEqual(rare.ids, reference(all, { beam: "*000123*", limit: 0 }));
    assert.equal(rare.ids.length, 1);
    assert.ok(rare.short >= 5, `${rare.short} short replies in ${rare.replies}`);
    const none = await walk(stepwise, { since: T0 + JOBS + 1, limit: 50 });
    assert.deepEqual(none.ids, []);
    assert.ok(none.replies >= 5, `${none.replies} replies`);
    // Answered by an index alone, a page never walks: one reply.
    assert.equal((await walk(stepwise, { agent: "nobody", limit: 50 })).replies, 1);
    assert.equal((await walk(stepwise, { status: "new", limit: 5000 })).replies, 1);
  });

  it("beamflow jobs asks again after a short page: its first N, and --all in batches, are what one reading gives", async () => {
    const stepwise = new JobPages(db, { replyMs: 0, firstWindow: 300, windowMs: 0.001 });
    const q = { beam: "*77*", since: T0 + 100 };
    const want = reference(all, { ...q, limit: 0 });
    assert.ok(want.length > 100 && want.length < 1000, `${want.length} jobs match`);
    let calls = 0;
    const list = async (limit: number, cursor: number) => {
      calls++;
      return stepwise.page({ ...q, limit, cursor });
    };
    const first = await firstJobs(list, 50);
    assert.deepEqual(
      first.jobs.map((j) => j.id),
      want.slice(0, 50),
    );
    assert.equal(first.more, true);
    assert.ok(calls > 1, `${calls} calls`);
    const everything = await firstJobs(list, want.length + 10);
    assert.deepEqual([everything.jobs.length, everything.more], [want.length, false]);
    const batches: number[][] = [];
    await eachBatch(list, 100, 100, (jobs) => batches.push(jobs.map((j) => j.id)));
    assert.deepEqual(batches.flat(), want);
    assert.ok(batches.slice(0, -1).every((b) => b.length >= 100) && batches.at(-1)!.length > 0, `batches of ${batches.map((b) => b.length)}`);
  });

  it("a cursor past either end gives an empty last page", async () => {
    const pages = new JobPages(db);
    for (const q of [{ cursor: 1 }, { cursor: JOBS + 10, oldestFirst: true }, { cursor: 1, beam: "*b3" }, { cursor: JOBS + 10, oldestFirst: true, since: T0 }])
      assert.deepEqual(await pages.page({ ...q, limit: 10 }), { jobs: [], nextCursor: 0 });
  });
});
