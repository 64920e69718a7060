// `beamflow jobs` reads the coordinator reply after reply. A page may come short with a
// cursor: the coordinator walked the jobs as long as one reply may (a filter no index
// answers) and found no more yet; the next call goes on from where it stopped.

/** One ListJobs call: at most `limit` jobs from `cursor` on (0: from the start). */
export type ListCall<Job> = (limit: number, cursor: number) => Promise<{ jobs: Job[]; nextCursor: number }>;

/** The first `limit` jobs, and whether there are more. */
export async function firstJobs<Job>(list: ListCall<Job>, limit: number): Promise<{ jobs: Job[]; more: boolean }> {
  const jobs: Job[] = [];
  let cursor = 0;
  do {
    const r = await list(limit - jobs.length, cursor);
    jobs.push(...r.jobs);
    cursor = r.nextCursor;
  } while (cursor && jobs.length < limit);
  return { jobs, more: cursor !== 0 };
}

/**
 * Every job, a page at a time (neither side ever holds them all), handed on in batches of at
 * least `batch` jobs as they come, and what is left at the end.
 */
export async function eachBatch<Job>(list: ListCall<Job>, page: number, batch: number, use: (jobs: Job[]) => void): Promise<void> {
  let held: Job[] = [];
  let cursor = 0;
  do {
    const r = await list(page, cursor);
    held.push(...r.jobs);
    cursor = r.nextCursor;
    if (held.length >= batch || (!cursor && held.length)) {
      use(held);
      held = [];
    }
  } while (cursor);
}
