// Events as the coordinator would build them, for the notifier's tests.
import type {
  AgentDrained,
  AgentLost,
  ComponentCrashed,
  JobFailedForGood,
  JobFailedWillRetry,
  PrecheckFailed,
  UploadFailedForGood,
} from "../../../coordinator/notify/events";

export const BEAM = "p2030.20120101.G45.00+00.00.C.b0s0g0";

export const forGood: JobFailedForGood = {
  kind: "job_failed_for_good",
  job: 12,
  beam: BEAM,
  attempts: [
    { id: 101, agent: "node-a", status: "processing_failed", errorClass: "step_failed", details: "prepsubband exited with status 1" },
    { id: 102, agent: "node-b", status: "lost", errorClass: "lost", details: "lease expired: no heartbeat from agent node-b for 600 s" },
    { id: 103, agent: "node-c", status: "processing_failed", errorClass: "step_failed", details: "accelsearch killed by SIGKILL\n(out of memory?)" },
  ],
  lastError: "step_failed: accelsearch killed by SIGKILL\n(out of memory?)",
  rawDataDeleted: false,
};

export const willRetry: JobFailedWillRetry = {
  kind: "job_failed_will_retry",
  job: 12,
  beam: BEAM,
  attempt: 101,
  attemptsUsed: 1,
  maxAttempts: 2,
  errorClass: "step_failed",
  error: "prepsubband exited with status 1",
};

export const uploadFailed: UploadFailedForGood = {
  kind: "upload_failed",
  job: 14,
  beam: BEAM,
  attempt: 21,
  uploadsTried: 3,
  lastError: "compare: pdm_candidates row 1: sigma differs",
  resultsDir: "/data/results/60000/beam/0/21",
};
export const precheck: PrecheckFailed = { kind: "precheck_failed", job: 13, beam: BEAM, reason: "no zaplist for this beam and zaplists.use_default is false" };

export const agentLost: AgentLost = {
  kind: "agent_lost",
  agent: "node-b",
  hostname: "node-b.cluster",
  lastSeenAt: 1_700_000_000,
  attempts: [
    { id: 102, job: 12, beam: BEAM },
    { id: 104, job: 14, beam: "p2030.20120101.G46.00+00.00.C.b1s0g0" },
  ],
};

export const agentDrained: AgentDrained = {
  kind: "agent_drained",
  agent: "node-c",
  hostname: "node-c.cluster",
  by: "auto",
  reason:
    "3 failed attempts in a row on 3 beams: job 4 (attempt 7) missing_program: accelsearch not found; job 5 (attempt 8) exit_code: exited with code 1; job 6 (attempt 9) workdir: cannot create the work dir",
  failures: [
    { attempt: 7, job: 4, beam: BEAM, errorClass: "missing_program", details: "accelsearch not found" },
    { attempt: 8, job: 5, beam: "p2030.20120101.G46.00+00.00.C.b1s0g0", errorClass: "exit_code", details: "exited with code 1" },
    { attempt: 9, job: 6, beam: "p2030.20120101.G46.00+00.00.C.b2s0g0", errorClass: "workdir", details: "cannot create the work dir" },
  ],
};

export const crashed: ComponentCrashed = {
  kind: "component_crashed",
  component: "dispatcher",
  error: "TypeError: cannot read properties of undefined",
  stack: "TypeError: x\n    at schedule (dispatcher.ts:42:7)",
};
