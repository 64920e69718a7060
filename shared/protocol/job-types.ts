// The job types both sides name: in jobs.job_type, Assign.job_type and an agent's
// Capabilities (which types it can run).
export const COMMAND_JOB_TYPE = "commands";
export const SEARCH_JOB_TYPE = "palfa-search";
