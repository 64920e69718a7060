// Turning what was observed about a finished step into exit code / signal / error class
// and a message an operator can act on. Pure, so every branch is cheap to reason about.
import type { TerminateResult } from "./process-group";
import type { StepErrorClass } from "./types";
import { decodeShellStatus, signalName, type WrapperStatus } from "./wrapper";

/**
 * How the program ended: the pty wrapper's status file, or (pipe steps) the raw wait
 * status the spawner got from wait4, which tells an exit code from a signal exactly.
 */
export type StepStatus = WrapperStatus | { kind: "waited"; exitCode?: number; signal?: string; cpuS: number };

/** A reason the runner itself stopped the step. */
export interface StopCause {
  cls: "timeout" | "no_output" | "cancelled";
  message: string;
}

export interface ObservedEnd {
  cause?: StopCause;
  /** the runner could not create the process at all (bad cwd, pty failure, empty argv) */
  spawnError?: string;
  /** what the wrapper wrote or the spawner saw; absent if the wrapper died before writing (SIGKILL) */
  status?: StepStatus;
  /** the wrapper's own wait status as node-pty saw it */
  ptyExit?: { exitCode: number; signal?: number };
  terminate?: TerminateResult;
  pgid?: number;
  lastOutputLine?: string;
}

export interface Classified {
  exitCode?: number;
  signal?: string;
  cpuS: number;
  error?: string;
  errorClass?: StepErrorClass;
}

export function classify(end: ObservedEnd): Classified {
  if (end.spawnError !== undefined) {
    return { cpuS: 0, errorClass: "spawn", error: end.spawnError };
  }
  let exitCode: number | undefined;
  let signal: string | undefined;
  let cpuS: number;
  let note = "";
  const st = end.status;
  if (st?.kind === "waited") {
    ({ exitCode, signal, cpuS } = st);
  } else if (st) {
    ({ exitCode, signal } = decodeShellStatus(st.rc));
    cpuS = st.kind === "ran" ? st.cpuS : 0;
  } else {
    // The wrapper never reported: it was SIGKILLed along with the group (or something
    // outside killed it). Fall back to the pty child's own status and to the CPU the
    // group had used just before our SIGKILL, if we sent one.
    const px = end.ptyExit;
    if (px?.signal) signal = signalName(px.signal) ?? `signal ${px.signal}`;
    else if (px) ({ exitCode, signal } = decodeShellStatus(px.exitCode));
    cpuS = end.terminate?.cpuBeforeKillS ?? 0;
    if (!end.cause) note = " (the step wrapper did not report; CPU time unknown)";
  }
  cpuS = Math.round(cpuS * 1000) / 1000;

  if (end.cause) {
    const how = end.terminate?.lastSignal ? ` with ${end.terminate.lastSignal}` : "";
    const grp = end.pgid !== undefined ? `process group ${end.pgid}` : "process group";
    const stuck = end.terminate && !end.terminate.gone ? "; some processes survived SIGKILL" : "";
    return { exitCode, signal, cpuS, errorClass: end.cause.cls, error: `${end.cause.message}; ${grp} killed${how}${stuck}` };
  }
  if (st?.kind === "spawn") {
    return { exitCode, cpuS, errorClass: "spawn", error: `cannot start program: ${st.message}` };
  }
  const last = end.lastOutputLine ? `; last output: ${JSON.stringify(end.lastOutputLine)}` : "";
  if (signal) return { signal, cpuS, errorClass: "signal", error: `killed by ${signal}${note}${last}` };
  if (exitCode !== 0) {
    return { exitCode, cpuS, errorClass: "exit_code", error: `exited with code ${String(exitCode)}${note}${last}` };
  }
  return { exitCode, cpuS };
}
