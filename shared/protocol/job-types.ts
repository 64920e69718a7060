// The job types both sides name: in jobs.job_type, Assign.job_type and an agent's
// Capabilities (which types it can run).
export const COMMAND_JOB_TYPE = "commands";
export const SEARCH_JOB_TYPE = "palfa-search";
/**
 * A synthetic beam with a known pulsar, searched on one chosen agent to check that
 * its search finds pulsars. It runs the search, leaves results for the coordinator
 * to judge, and is never uploaded to the results DB.
 */
export const CANARY_JOB_TYPE = "canary";

/** Job types whose attempts run the search and push results back. */
export function runsSearch(jobType: string): boolean {
  return jobType === SEARCH_JOB_TYPE || jobType === CANARY_JOB_TYPE;
}

/** The job type an agent must be fit for to be given a job of this type. */
export function fitnessTypeOf(jobType: string): string {
  return jobType === CANARY_JOB_TYPE ? SEARCH_JOB_TYPE : jobType;
}
