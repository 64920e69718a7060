// Adapts a command's action to commander and makes every failure one line on
// stderr and an exit status that says what kind of failure it was (exit-codes.ts).
import type { Command } from "commander";
import { ConfigError } from "../shared/config/load";
import { CliError, EXIT } from "./exit-codes";

export type Action<O> = (opts: O, ...args: any[]) => Promise<void>;
export type Run = <O>(fn: Action<O>) => (...raw: unknown[]) => Promise<void>;

export function exitCodeOf(err: unknown): number {
  if (err instanceof CliError) return err.exitCode;
  if (err instanceof ConfigError) return EXIT.config;
  return EXIT.failed;
}

export function fail(err: unknown): never {
  process.stderr.write(`beamflow: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(exitCodeOf(err));
}

/** commander calls actions as (args…, opts, command); ours take (opts, args…), opts including the global --config. */
export const run: Run =
  (fn) =>
  async (...raw) => {
    const cmd = raw[raw.length - 1] as Command;
    try {
      await fn(cmd.optsWithGlobals() as never, ...raw.slice(0, -2));
    } catch (err) {
      fail(err);
    }
  };
