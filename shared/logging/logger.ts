// One pino logger per component, JSON lines on stderr (stdout belongs to the CLI's
// output). Callers bind job/attempt/agent ids with child().
import pino from "pino";

export type Logger = pino.Logger;

export function createLogger(component: string, level: string = process.env.BEAMFLOW_LOG_LEVEL ?? "info"): Logger {
  return pino({ level, base: { component, pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that writes nothing, for library callers that don't want logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
