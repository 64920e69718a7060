// The small bash program every step runs under, and the reading of what it reports.
//
// Why a wrapper: node-pty only tells us the pty child's exit status; it can't give the
// CPU time of the processes that child started. So the pty child is bash, which runs
// the real program as its own child, waits for it, and writes `times` (whose second
// line is the user/sys time of all reaped descendants, recursively) and the exit status
// to a status file. The program's argv reaches it through "$@" untouched.
//
// What "whole tree" misses: descendants that were orphaned (their parent exited without
// waiting) are reaped by init, not by us, and their CPU isn't counted.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

// $0 = label for bash's own messages, $1 = status file, $2 = end marker, $3... = the step's argv.
// - The lookup up front turns "no such program" into a clear spawn failure instead of
//   a 127 indistinguishable from a program that exits 127 itself.
// - `exec --` in a subshell runs argv[0] as a real executable (not a bash builtin or
//   function of the same name), and `--` keeps an argv[0] like "-l" from being an option.
// - `trap : TERM` keeps the wrapper alive when the group gets SIGTERM (cancel/timeout)
//   so it can still record how the program ended; the trap is reset across exec, so
//   the program itself sees SIGTERM with the default action.
// - bash's stderr is /dev/null around the wait so its "line 12: 1234 Killed" chatter
//   doesn't land in the step's log (the runner reports the signal); the program gets the
//   real stderr back through fd 3.
// - finish: print the end marker, then wait (silently, bounded) for the runner's answer
//   before exiting, so no output is lost at exit (see end-marker.ts).
export const WRAPPER_SCRIPT = String.raw`status_file=$1; end_marker=$2; shift 2
finish() { printf '%s' "$end_marker"; read -r -s -t 10 _ 2>/dev/null; exit "$1"; }
spawn_fail() { printf 'beamflow: %s%s\n' "$2" "$3" >&2; printf 'spawn %s %s\n' "$1" "$2" > "$status_file"; finish "$1"; }
prog=$1
if [[ $prog == */* ]]; then
  [[ -e $prog ]] || spawn_fail 127 "$prog: no such file"
  [[ -d $prog ]] && spawn_fail 126 "$prog: is a directory"
  [[ -x $prog ]] || spawn_fail 126 "$prog: not executable"
else
  type -P -- "$prog" > /dev/null || spawn_fail 127 "$prog: command not found in PATH" " (PATH=$PATH)"
fi
trap : TERM
{ ( exec -- "$@" 2>&3 3>&- ); rc=$?; } 3>&2 2>/dev/null
{ printf 'exit %d\n' "$rc"; times; } > "$status_file"
finish "$rc"
`;

let bashPathCache: string | undefined;
/**
 * Absolute path of bash, resolved once from the agent's PATH: a step's env may replace
 * PATH with one that doesn't contain bash, and the wrapper must still start.
 */
export function bashPath(): string {
  if (bashPathCache) return bashPathCache;
  const dirs = (process.env.PATH ?? "").split(":").filter(Boolean).concat(["/bin", "/usr/bin"]);
  for (const d of dirs) {
    const p = path.join(d, "bash");
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return (bashPathCache = p);
    } catch {
      /* next */
    }
  }
  throw new Error("bash not found in PATH; the step runner needs it");
}

/** argv for the pty child: bash -c SCRIPT beamflow-step STATUSFILE ENDMARKER argv... */
export function wrapperArgs(statusFile: string, endMarker: Buffer, argv: string[]): string[] {
  return ["-c", WRAPPER_SCRIPT, "beamflow-step", statusFile, endMarker.toString("latin1"), ...argv];
}

export type WrapperStatus = { kind: "ran"; rc: number; cpuS: number } | { kind: "spawn"; rc: number; message: string };

/** Parses the status file; undefined if missing or garbled (wrapper killed before writing). */
export function parseStatus(text: string): WrapperStatus | undefined {
  const spawn = /^spawn (\d+) (.*)\n?$/s.exec(text);
  if (spawn) return { kind: "spawn", rc: Number(spawn[1]), message: spawn[2]!.trim() };
  const lines = text.split("\n");
  const m = /^exit (\d+)$/.exec(lines[0] ?? "");
  if (!m) return undefined;
  // `times` prints "0m0.002s 0m0.000s" for the shell, then the same for its children.
  const children = /^(\d+)m([\d.]+)s (\d+)m([\d.]+)s$/.exec(lines[2] ?? "");
  const cpuS = children ? Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4]) : NaN;
  if (!Number.isFinite(cpuS)) return undefined;
  return { kind: "ran", rc: Number(m[1]), cpuS };
}

const signalNames = new Map<number, string>(Object.entries(os.constants.signals).map(([name, num]) => [num, name] as [number, string]));

export function signalName(num: number): string | undefined {
  return signalNames.get(num);
}

/**
 * Shell convention: a status of 128+N means "killed by signal N". bash folds a signal
 * death into that number and offers no way to see the raw wait status, so a program
 * that deliberately exits 137 would read as SIGKILL; in practice programs don't.
 */
export function decodeShellStatus(rc: number): { exitCode?: number; signal?: string } {
  if (rc > 128) {
    const name = signalName(rc - 128);
    if (name) return { signal: name };
  }
  return { exitCode: rc };
}
