// The runner's public data shapes. Kept apart from the code so callers (the agent's
// attempt loop, the gRPC reporting) can import them without pulling in node-pty.

export interface StepSpec {
  name: string;
  /** argv[0] is looked up in PATH like execvp does; nothing is re-interpreted by a shell */
  argv: string[];
  cwd: string;
  /** added on top of the agent's own environment */
  env?: Record<string, string>;
  /** wall-clock limit; 0/undefined = none */
  timeoutS?: number;
  /** no output for this long => the step is killed and fails ("no_output"); 0/undefined = none */
  idleTimeoutS?: number;
  /**
   * Run it under a pseudo-terminal (250 columns, \r\n line ends, isatty true) for a program
   * that needs one. Otherwise its stdout and stderr are one pipe-like socket and its stdin
   * is /dev/null: much cheaper to start, and what most programs need.
   */
  pty?: boolean;
}

export type StepErrorClass = "exit_code" | "signal" | "timeout" | "no_output" | "spawn" | "cancelled";

export interface StepOutcome {
  index: number;
  name: string;
  argv: string[];
  /** unix seconds (ms precision) */
  startedAt: number;
  wallS: number;
  /** user+sys of the step's whole process tree (see wrapper.ts for what "whole" covers) */
  cpuS: number;
  exitCode?: number;
  /** "SIGKILL", ... when the program was terminated by a signal */
  signal?: string;
  /** why it failed; absent on success */
  error?: string;
  errorClass?: StepErrorClass;
  /** process-group id the step ran in (absent if it never started) */
  pgid?: number;
  /**
   * Pipe steps: the program's own lifetime as the spawner saw it (from its spawn call to
   * reaping it); wallS minus this is what starting, reaping and recording it cost.
   */
  programWallS?: number;
}

export interface StepStart {
  index: number;
  name: string;
  argv: string[];
  startedAt: number;
  /** absent if the process could not be created */
  pgid?: number;
}

export interface StepEvents {
  onStart?(s: StepStart): void;
  /**
   * Raw bytes as they arrive (\r\n line ends under a pty), possibly split mid-line or mid-UTF-8.
   * Called synchronously from the read loop: keep it quick, the runner does not queue.
   */
  onOutput?(index: number, name: string, data: Buffer): void;
  onFinish?(o: StepOutcome): void;
}

export interface RunResult {
  ok: boolean;
  steps: StepOutcome[];
  failed?: StepOutcome;
}
