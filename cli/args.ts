// Checks of command-line values before anything is sent: a bad value is named in one
// line and the command exits 64 (usage) having changed nothing. Option values are
// checked as commander parses them (an InvalidArgumentError names the option);
// positional arguments with usageError() inside the action.
import { InvalidArgumentError } from "commander";
import { CliError, EXIT } from "./exit-codes";

export function usageError(message: string): CliError {
  return new CliError(message, EXIT.usage);
}

/** The largest value a uint32 field can carry. */
export const UINT32_MAX = 2 ** 32 - 1;

/** A whole number from min to max, as digits only ("1e3", "0x10", " 5" and "5.0" are refused). */
function wholeNumber(v: string, min: number, max: number): number | string {
  if (!/^\d+$/.test(v)) return `not a whole number: '${v}'`;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n > max) return `'${v}' is too large (at most ${max})`;
  if (n < min) return `'${v}' is too small (at least ${min})`;
  return n;
}

/** A commander option parser for a whole number in [min, max]. */
export function intOption(min: number, max = UINT32_MAX): (v: string) => number {
  return (v) => {
    const r = wholeNumber(v, min, max);
    if (typeof r === "string") throw new InvalidArgumentError(r);
    return r;
  };
}

/** A commander option parser for a number of seconds, minutes, …: finite, >= min (fractions allowed). */
export function numberOption(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) throw new InvalidArgumentError(`not a number: '${v}'`);
    if (n < min) throw new InvalidArgumentError(`'${v}' is too small (at least ${min})`);
    if (n > max) throw new InvalidArgumentError(`'${v}' is too large (at most ${max})`);
    return n;
  };
}

/** A commander option parser for a text value that must not be empty nor hold a line break. */
export function textOption(what: string): (v: string) => string {
  return (v) => {
    if (v.trim() === "") throw new InvalidArgumentError(`${what} is empty`);
    if (/[\r\n\0]/.test(v)) throw new InvalidArgumentError(`${what} holds a line break or NUL: ${JSON.stringify(v)}`);
    return v;
  };
}

/** Job (or other record) ids: positive safe integers. */
export function parseIds(args: string[], what = "job id"): number[] {
  if (args.length === 0) throw usageError(`no ${what} given`);
  return args.map((a) => parseId(a, what));
}

export function parseId(a: string, what = "job id"): number {
  const r = wholeNumber(a, 1, Number.MAX_SAFE_INTEGER);
  if (typeof r === "string")
    throw usageError(`not ${/^[aeiou]/.test(what) ? "an" : "a"} ${what}: '${a}' (${r.startsWith("not a") ? "a positive whole number" : r})`);
  return r;
}

/** A path given on the command line: not empty, no line break or NUL (PALFA-era scripts split on lines). */
export function checkPath(p: string, what = "path"): string {
  if (p === "") throw usageError(`empty ${what}`);
  if (/[\r\n\0]/.test(p)) throw usageError(`${what} holds a line break or NUL: ${JSON.stringify(p)}`);
  return p;
}

/** An agent id as the config allows it (agent.id): letters, digits, dot, dash, underscore. */
export function checkAgentId(id: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(id)) throw usageError(`not an agent id: ${JSON.stringify(id)} (letters, digits, dot, dash, underscore)`);
  return id;
}
