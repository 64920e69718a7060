// A command job's argv with the attempt's facts put in: {workdir}, {beam}, {job}, {attempt},
// {cores} inside an argument, and an argument that is exactly {files} becoming the staged
// paths. Values only ever become (parts of) separate arguments; no shell sees them. A step
// that runs a shell script itself (`sh -c SCRIPT`, bash, dash, zsh, ksh) gets the values as
// the script's positional parameters ("$1", "$2", …, appended after any the step gives), the
// placeholders in the script replaced by references to them: a raw file named
// `obs$(touch pwned).fits` is data to the script, never code.
import path from "node:path";

export interface CommandFacts {
  workdir: string;
  beam: string;
  job: number;
  attempt: number;
  cores: number;
  files: string[];
}

const PLACEHOLDER = /\{(workdir|beam|job|attempt|cores|files)\}/g;
const SHELLS = new Set(["sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"]);

/** The index of the script in `argv` when it runs a shell on a -c script (`sh -c`, `bash -ec`, `busybox sh -c`), else -1. */
export function shellScriptIndex(argv: string[]): number {
  let i = 0;
  if (path.basename(argv[0] ?? "") === "env") i++;
  if (!SHELLS.has(path.basename(argv[i] ?? ""))) return -1;
  if (path.basename(argv[i]) === "busybox") i++;
  // Options up to the one that carries c (-c, -ec, -xc, -o pipefail -c, …); the script follows it.
  for (let j = i + 1; j < argv.length; j++) {
    const a = argv[j];
    if (a === "-o" || a === "+o") {
      j++;
      continue;
    }
    if (!/^[-+][A-Za-z]+$/.test(a)) return -1;
    if (a.startsWith("-") && a.includes("c")) return j + 1 < argv.length ? j + 1 : -1;
  }
  return -1;
}

function value(facts: CommandFacts, key: string): string[] {
  return key === "files" ? facts.files : [String(facts[key as keyof Omit<CommandFacts, "files">])];
}

export function expandCommand(argv: string[], facts: CommandFacts): string[] {
  const script = shellScriptIndex(argv);
  if (script >= 0) return expandShell(argv, script, facts);
  const out: string[] = [];
  for (const arg of argv) {
    if (arg === "{files}") {
      out.push(...facts.files);
      continue;
    }
    out.push(arg.replace(PLACEHOLDER, (_, k: string) => value(facts, k).join(" ")));
  }
  return out;
}

/**
 * `sh -c SCRIPT [NAME [ARGS…]]`: the script's placeholders become "${N}" (each file one
 * parameter for {files}), their values appended as positional parameters after the step's
 * own; the other arguments are expanded as plain arguments.
 */
function expandShell(argv: string[], script: number, facts: CommandFacts): string[] {
  const head = argv.slice(0, script);
  const rest = argv.slice(script + 1);
  // $0 is the argument right after the script; without one, the shell's name.
  const name = rest.length ? rest[0] : path.basename(argv[0]);
  const given = rest.slice(1).flatMap((a) => (a === "{files}" ? facts.files : [a.replace(PLACEHOLDER, (_, k: string) => value(facts, k).join(" "))]));
  const params: string[] = [];
  const ref = (v: string) => {
    params.push(v);
    return `"\${${given.length + params.length}}"`;
  };
  const body = argv[script].replace(PLACEHOLDER, (_, k: string) => value(facts, k).map(ref).join(" "));
  return [...head, body, name, ...given, ...params];
}
