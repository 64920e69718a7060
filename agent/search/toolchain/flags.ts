// Which flags the installed programs accept, read from their usage text (a
// PRESTO program run without arguments lists every flag), so PALFA's intent is
// translated for the installed version and no rejected flag is ever passed:
// PRESTO >= 4 polishes harmonics by default (-harmpolish is gone, -noharmpolish
// exists), and reads PSRFITS without -psrfits.
import { spawn } from "node:child_process";
import type { ResolvedProgram } from "./resolve";

export type FlagSet = ReadonlySet<string>;

export function parseUsageFlags(usage: string): Set<string> {
  const flags = new Set<string>();
  for (const m of usage.matchAll(/(?:^|[\s[(,|])(-[A-Za-z][A-Za-z0-9_]*)(?=[\s\]),:=|]|$)/gm)) flags.add(m[1]);
  return flags;
}

/** Runs the program without arguments and collects its usage text (stdout and stderr). */
export function readUsage(program: ResolvedProgram, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program.argv[0], program.argv.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${program.name}: ${err.message}`));
    });
    child.on("close", () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

export class UnsupportedFlagError extends Error {
  constructor(
    readonly program: string,
    readonly flag: string,
    why: string,
  ) {
    super(`${program} does not accept ${flag}: ${why}`);
    this.name = "UnsupportedFlagError";
  }
}

/** PALFA's -harmpolish: pass it where it exists; where -noharmpolish exists instead, polishing is the default. */
export function harmpolishFlags(accelsearch: FlagSet): string[] {
  if (accelsearch.has("-harmpolish")) return ["-harmpolish"];
  if (accelsearch.has("-noharmpolish")) return [];
  throw new UnsupportedFlagError("accelsearch", "-harmpolish", "neither -harmpolish nor -noharmpolish is in its usage: is this PRESTO's accelsearch?");
}

/** A flag PALFA passed for a data type (-psrfits): only where the program still knows it. */
export function optionalFlag(flags: FlagSet, flag: string): string[] {
  return flag && flags.has(flag) ? [flag] : [];
}

/** A flag the configuration asks for: an error if the installed program lacks it. */
export function requiredFlag(program: string, flags: FlagSet, flag: string, why: string): string[] {
  if (!flags.has(flag)) throw new UnsupportedFlagError(program, flag, why);
  return [flag];
}
