// One pino logger per component on stderr (stdout belongs to the CLI's output):
// JSON lines when stderr is a file, pipe or journal, one readable line per record
// when it is a terminal (BEAMFLOW_LOG_FORMAT=json|pretty decides otherwise). Every
// logger of a process shares one destination, so lines never interleave. Callers
// bind job/attempt/agent ids with child(); `component` is bound once, at the root.
import pino from "pino";

export type Logger = pino.Logger;

export type LogFormat = "json" | "pretty";

/** The format for stderr: BEAMFLOW_LOG_FORMAT, else pretty on a terminal and JSON elsewhere. */
export function logFormat(env: NodeJS.ProcessEnv = process.env, isTty = !!process.stderr.isTTY): LogFormat {
  const f = env.BEAMFLOW_LOG_FORMAT;
  if (f === "json" || f === "pretty") return f;
  return isTty ? "pretty" : "json";
}

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
const COLOURS: Record<number, string> = { 10: "90", 20: "36", 30: "32", 40: "33", 50: "31", 60: "35" };
const OMIT = new Set(["level", "time", "msg", "component", "pid", "hostname", "err"]);

function fmtValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v) ?? String(v);
}

/**
 * One JSON record as a line for people: `06:12:01.345 INFO  coordinator: message key=value …`,
 * an error's stack indented below it. Not a parser of arbitrary JSON: pino's own output only.
 */
export function prettyLine(json: string, colour = false): string {
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(json);
  } catch {
    return json.endsWith("\n") ? json : `${json}\n`;
  }
  const level = Number(r.level);
  const t = new Date(Number(r.time) || Date.now());
  const time = `${String(t.getHours()).padStart(2, "0")}:${String(t.getMinutes()).padStart(2, "0")}:${String(t.getSeconds()).padStart(2, "0")}.${String(t.getMilliseconds()).padStart(3, "0")}`;
  const name = (LEVELS[level] ?? String(r.level)).padEnd(5);
  const lvl = colour ? `\u001b[${COLOURS[level] ?? "0"}m${name}\u001b[0m` : name;
  const fields = Object.entries(r)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${fmtValue(v)}`);
  let line = `${time} ${lvl} ${r.component ? `${r.component}: ` : ""}${r.msg ?? ""}${fields.length ? ` ${fields.join(" ")}` : ""}`;
  const err = r.err as { message?: string; stack?: string } | undefined;
  if (err) line += `\n    ${(err.stack ?? err.message ?? JSON.stringify(err)).split("\n").join("\n    ")}`;
  return `${line}\n`;
}

/** A pino destination that writes each record as prettyLine() to stderr. */
function prettyDestination(): pino.DestinationStream {
  const out = pino.destination({ fd: 2, sync: true });
  const colour = !!process.stderr.isTTY && !process.env.NO_COLOR;
  return { write: (s: string) => out.write(prettyLine(s.trimEnd(), colour)) };
}

let shared: { format: LogFormat; dest: pino.DestinationStream } | undefined;

function destination(): pino.DestinationStream {
  const format = logFormat();
  if (shared?.format !== format) shared = { format, dest: format === "pretty" ? prettyDestination() : pino.destination({ fd: 2, sync: false }) };
  return shared.dest;
}

export function createLogger(component: string, level: string = process.env.BEAMFLOW_LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: { component, pid: process.pid } }, destination());
}

/** A logger that writes nothing, for library callers that don't want logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
