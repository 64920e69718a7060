// The agent's step runner: runs one attempt's steps as processes (with pipes through the
// spawner, or under a pty when a step asks for one), one after another, and reports exit
// status, signal, wall and CPU time and output per step.
//
//   types.ts          public data shapes
//   step-runner.ts    sequencing and cancel
//   step-executor.ts  an attempt's steps, several at once up to its cores; the first failure stops the rest
//   step-process.ts   one step: start, output, time limits, stopping, outcome
//   spawner.ts        the agent's long-lived spawner process (spawner-script.ts) that starts pipe steps
//   wrapper.ts        the bash wrapper of pty steps, which measures CPU of the step's process tree
//   step-env.ts       the environment steps start from
//   outcome.ts        observed facts -> exit code / signal / error class / message
//   process-group.ts  SIGTERM -> grace -> SIGKILL of a whole process group
//   pgid-records.ts   on-disk pgid records and killing leftovers after an agent crash
//   procfs.ts         /proc readers (liveness ignoring zombies, CPU, start times)
//   output-tail.ts    last line of output for failure messages, bounded
export type { RunResult, StepErrorClass, StepEvents, StepOutcome, StepSpec, StepStart } from "./types";
export { StepRunner, type StepRunnerOptions } from "./step-runner";
export { killStaleProcessGroups, pgidRecordFor, writePgidRecord, type PgidRecord } from "./pgid-records";
export { warmStepSpawner } from "./spawner";
