// The environment every step starts from: the agent's own, read once (process.env is a
// getenv() per key, which costs more than starting a program when thousands of short
// steps run), less what describes the agent's own terminal or would make the pty
// wrapper run a file before every step.
let baseEnv: Record<string, string> | undefined;

export function stepBaseEnv(): Record<string, string> {
  if (!baseEnv) {
    baseEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) baseEnv[k] = v;
    // These describe the agent's own terminal (if any), not the step's, and would mislead
    // programs that format for the screen width.
    delete baseEnv.COLUMNS;
    delete baseEnv.LINES;
    delete baseEnv.BASH_ENV;
    baseEnv.TERM = "dumb"; // no colour/cursor escapes in the logs, unless the step asks for them
  }
  return baseEnv;
}

/** The base plus the step's own additions. */
export function stepEnv(extra: Record<string, string> | undefined): Record<string, string> {
  return { ...stepBaseEnv(), ...extra };
}
