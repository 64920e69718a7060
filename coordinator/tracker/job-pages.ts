// Pages of `beamflow jobs` over a tracker of a million jobs, none of them holding the
// coordinator's event loop for long.
//
// A page is read in job-id order through the index that has its first filter's jobs in that
// order: the agent's attempts by job, a state's jobs, a beam prefix's few jobs, or every job
// by its key. When that index answers every filter, the page costs a few index steps.
// Otherwise (a glob that matches inside beam names, --since, a second filter) each job along
// the way is read and checked; if few match, that is a walk over many jobs. Such a page is
// read in windows of job ids sized to take a few ms each, with the event loop free between
// them, and the reply ends after ~60 ms (replyMs) with what it found and a cursor where it stopped:
// a short page with a cursor means "nothing more yet, go on" (the CLI goes on by itself).
import type Database from "better-sqlite3";
import type { JobRow } from "./rows";

/** A job with how many attempts it had and the agent of its current one (`beamflow jobs`). */
export type JobListRow = JobRow & { attempt_count: number; agent_id: string | null };

/** A page of `beamflow jobs`: filters (all optional) and where the page starts. */
export interface JobPageQuery {
  status?: string;
  agent?: string;
  /** a GLOB over the beam name */
  beam?: string;
  /** updated at or after (unix seconds) */
  since?: number;
  /** ids beyond this one only (below it newest first, above it oldest first); 0: from the start */
  cursor?: number;
  oldestFirst?: boolean;
  limit: number;
}

export interface JobPage {
  /** at most the query's limit, in its order */
  jobs: JobListRow[];
  /** the cursor of the next page; 0: there are no more jobs */
  nextCursor: number;
}

export interface JobPageTiming {
  /** a window of ids is sized to take about this long */
  windowMs: number;
  /** a reply that walks windows ends after about this long, with what it found */
  replyMs: number;
  /** ids in the first window */
  firstWindow: number;
}

const TIMING: JobPageTiming = { windowMs: 8, replyMs: 60, firstWindow: 16_384 };
const MIN_WINDOW = 256;
const MAX_WINDOW = 1 << 21;
/** A beam glob with a literal start is read through the beam index when it matches at most this many jobs. */
const BEAM_INDEX_MAX = 2000;

/** What each listed job shows besides its row: its attempt count and its current attempt's agent. */
const JOB_LIST_SELECT = "SELECT j.*, (SELECT COUNT(*) FROM job_submits x WHERE x.job_id = j.id) AS attempt_count, a.agent_id";
const CURRENT_ATTEMPT = "LEFT JOIN job_submits a ON a.id = j.current_attempt_id";
/** One job as a listing shows it (`job ID`). */
export const JOB_LIST_SQL = `${JOB_LIST_SELECT} FROM jobs j ${CURRENT_ATTEMPT}`;

type Filter = "status" | "agent" | "beam" | "since";
/** The WHERE clause of each filter: fixed text, the values always bound. */
const FILTER_SQL: Record<Filter, string> = {
  status: "j.status = @status",
  agent: "a.agent_id = @agent",
  beam: "j.beam GLOB @beam",
  since: "j.updated_at >= @since",
};

/** Where a page's jobs come from, in job-id order: the index, and its job-id column. */
type Source = "agent" | "status" | "beam" | "key";
const SOURCE_SQL: Record<Source, { from: string; id: string }> = {
  // CROSS JOIN keeps SQLite to this order: the agent's attempts by job, then each one's job by its key.
  agent: {
    from: "FROM job_submits a INDEXED BY job_submits_agent_job CROSS JOIN jobs j ON j.id = a.job_id AND j.current_attempt_id = a.id",
    id: "a.job_id",
  },
  status: { from: `FROM jobs j INDEXED BY jobs_status ${CURRENT_ATTEMPT}`, id: "j.id" },
  // the few jobs of a beam prefix, sorted
  beam: { from: `FROM jobs j INDEXED BY jobs_beam ${CURRENT_ATTEMPT}`, id: "j.id" },
  // NOT INDEXED still ranges over the key: no index on the filters' columns may take its place
  key: { from: `FROM jobs j NOT INDEXED ${CURRENT_ATTEMPT}`, id: "j.id" },
};

/** The literal start of a glob, before its first wildcard. */
function literalPrefix(glob: string): string {
  const i = glob.search(/[*?[]/);
  return i < 0 ? glob : glob.slice(0, i);
}

export class JobPages {
  private readonly statements = new Map<string, Database.Statement>();
  private readonly bounds: Database.Statement;
  private readonly beamMatches: Database.Statement;
  private readonly timing: JobPageTiming;

  constructor(
    private readonly db: Database.Database,
    timing: Partial<JobPageTiming> = {},
  ) {
    this.timing = { ...TIMING, ...timing };
    // Two subqueries: each is one step to an end of the key, where MIN and MAX together would read every row.
    this.bounds = db.prepare("SELECT (SELECT MIN(id) FROM jobs) AS lo, (SELECT MAX(id) FROM jobs) AS hi");
    this.beamMatches = db.prepare(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM jobs INDEXED BY jobs_beam WHERE beam GLOB @beam LIMIT ${BEAM_INDEX_MAX + 1})`);
  }

  async page(q: JobPageQuery): Promise<JobPage> {
    const used = (Object.keys(FILTER_SQL) as Filter[]).filter((k) => q[k] !== undefined && q[k] !== "" && q[k] !== 0);
    const source = this.source(q, used);
    const rest = used.filter((f) => f !== source);
    // A beam prefix's few jobs are read at once. limit + 1: the one beyond the page says whether there is a next one.
    if (rest.length === 0 || source === "beam")
      return this.cut(this.statement(source, rest, "whole", q).all(this.params(q, used, { cursor: q.cursor })) as JobListRow[], q.limit);
    return this.walk(q, source, rest, used);
  }

  private source(q: JobPageQuery, used: Filter[]): Source {
    if (used.includes("agent")) return "agent";
    if (used.includes("status")) return "status";
    if (used.includes("beam") && literalPrefix(q.beam!) !== "" && (this.beamMatches.get({ beam: q.beam }) as { n: number }).n <= BEAM_INDEX_MAX) return "beam";
    return "key";
  }

  /** Window after window of job ids, from the cursor on, until the page is full, the jobs end, or the reply's time is up. */
  private async walk(q: JobPageQuery, source: Source, rest: Filter[], used: Filter[]): Promise<JobPage> {
    const ends = this.bounds.get() as { lo: number | null; hi: number | null };
    if (ends.lo === null || ends.hi === null) return { jobs: [], nextCursor: 0 };
    const [minId, maxId] = [ends.lo, ends.hi];
    const st = this.statement(source, rest, "window", q);
    const t0 = performance.now();
    const jobs: JobListRow[] = [];
    let size = this.timing.firstWindow;
    // [lo, hi) is the window; `next` the first id not walked yet (newest first: the window's hi)
    let next = q.oldestFirst ? Math.max(minId, (q.cursor ?? 0) + 1) : q.cursor ? Math.min(q.cursor, maxId + 1) : maxId + 1;
    const done = () => (q.oldestFirst ? next > maxId : next <= minId);
    while (!done()) {
      const lo = q.oldestFirst ? next : Math.max(minId, next - size);
      const hi = q.oldestFirst ? Math.min(maxId + 1, next + size) : next;
      const w0 = performance.now();
      jobs.push(...(st.all(this.params(q, used, { lo, hi, limit: q.limit + 1 - jobs.length })) as JobListRow[]));
      const took = performance.now() - w0;
      next = q.oldestFirst ? hi : lo;
      if (jobs.length > q.limit) return this.cut(jobs, q.limit);
      size = Math.round(Math.min(MAX_WINDOW, Math.max(MIN_WINDOW, (size * this.timing.windowMs) / Math.max(took, 0.05))));
      if (done() || performance.now() - t0 >= this.timing.replyMs) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // Short of a page: all there is, or what the time allowed (the next reply goes on from where this one stopped).
    return { jobs, nextCursor: done() ? 0 : q.oldestFirst ? next - 1 : next };
  }

  private cut(rows: JobListRow[], limit: number): JobPage {
    const jobs = rows.slice(0, limit);
    return { jobs, nextCursor: rows.length > limit ? jobs.at(-1)!.id : 0 };
  }

  private params(q: JobPageQuery, used: Filter[], extra: Record<string, number | undefined>): Record<string, unknown> {
    const p: Record<string, unknown> = { limit: q.limit + 1 };
    for (const k of used) p[k] = q[k];
    for (const [k, v] of Object.entries(extra)) if (v) p[k] = v;
    return p;
  }

  /** One statement per source, remaining filters, shape and order (a few dozen at most). */
  private statement(source: Source, rest: Filter[], shape: "whole" | "window", q: JobPageQuery): Database.Statement {
    const cursor = shape === "whole" && q.cursor ? 1 : 0;
    const order = q.oldestFirst ? "ASC" : "DESC";
    const key = `${source}|${rest.join(",")}|${shape}|${cursor}|${order}`;
    let st = this.statements.get(key);
    if (!st) {
      const { from, id } = SOURCE_SQL[source];
      const where = [source === "key" ? undefined : FILTER_SQL[source], ...rest.map((f) => FILTER_SQL[f])];
      if (shape === "window") where.push(`${id} >= @lo`, `${id} < @hi`);
      else if (cursor) where.push(q.oldestFirst ? `${id} > @cursor` : `${id} < @cursor`);
      const clauses = where.filter((w): w is string => w !== undefined);
      st = this.db.prepare(`${JOB_LIST_SELECT} ${from}${clauses.length ? ` WHERE ${clauses.join(" AND ")}` : ""} ORDER BY ${id} ${order} LIMIT @limit`);
      this.statements.set(key, st);
    }
    return st;
  }
}
