// The job types both sides name: in jobs.job_type, Assign.job_type and an agent's
// Capabilities (which types it can run).
// The tracker stores these names and the wire carries them as JobType; a job type
// this side does not know may still be in a tracker, so the functions below take a string.
import { JobType as WireJobType } from "../gen/common";

export const COMMAND_JOB_TYPE = "commands";
export const SEARCH_JOB_TYPE = "palfa-search";
/**
 * A synthetic beam with a known pulsar, searched on one chosen agent to check that
 * its search finds pulsars. It runs the search, leaves results for the coordinator
 * to judge, and is never uploaded to the results DB.
 */
export const CANARY_JOB_TYPE = "canary";

/** Every job type beamflow knows. */
export type JobType = typeof COMMAND_JOB_TYPE | typeof SEARCH_JOB_TYPE | typeof CANARY_JOB_TYPE;
export const KNOWN_JOB_TYPES: readonly JobType[] = [COMMAND_JOB_TYPE, SEARCH_JOB_TYPE, CANARY_JOB_TYPE];

/** The job types that beams registered with add-files get (`jobs.type` in the config). */
export const BEAM_JOB_TYPES = [COMMAND_JOB_TYPE, SEARCH_JOB_TYPE] as const;
export type BeamJobType = (typeof BEAM_JOB_TYPES)[number];

/** Job types whose attempts run the search and push results back. */
export function runsSearch(jobType: string): boolean {
  return jobType === SEARCH_JOB_TYPE || jobType === CANARY_JOB_TYPE;
}

/** The job type an agent must be fit for to be given a job of this type. */
export function fitnessTypeOf(jobType: string): string {
  return jobType === CANARY_JOB_TYPE ? SEARCH_JOB_TYPE : jobType;
}

const WIRE: Record<JobType, WireJobType> = {
  [COMMAND_JOB_TYPE]: WireJobType.JOB_TYPE_COMMANDS,
  [SEARCH_JOB_TYPE]: WireJobType.JOB_TYPE_PALFA_SEARCH,
  [CANARY_JOB_TYPE]: WireJobType.JOB_TYPE_CANARY,
};

export function isJobType(name: string): name is JobType {
  return Object.hasOwn(WIRE, name);
}

/** How a job type travels; JOB_TYPE_UNSPECIFIED for a name this side does not know. */
export function jobTypeToWire(name: string): WireJobType {
  return isJobType(name) ? WIRE[name] : WireJobType.JOB_TYPE_UNSPECIFIED;
}

/** The name of a job type off the wire; a plain label for one this side does not know. */
export function jobTypeName(wire: WireJobType): string {
  for (const [name, w] of Object.entries(WIRE)) if (w === wire) return name;
  return `unknown job type ${wire}`;
}
