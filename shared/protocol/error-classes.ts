// Why an attempt failed: the names the tracker stores and operators read, and the
// ErrorClass each travels as in AttemptResult (proto/agent.proto says what each means).
import { ErrorClass } from "../gen/agent";

const WIRE = {
  exit_code: ErrorClass.ERROR_CLASS_EXIT_CODE,
  signal: ErrorClass.ERROR_CLASS_SIGNAL,
  timeout: ErrorClass.ERROR_CLASS_TIMEOUT,
  no_output: ErrorClass.ERROR_CLASS_NO_OUTPUT,
  spawn: ErrorClass.ERROR_CLASS_SPAWN,
  cancelled: ErrorClass.ERROR_CLASS_CANCELLED,
  staging: ErrorClass.ERROR_CLASS_STAGING,
  checksum: ErrorClass.ERROR_CLASS_CHECKSUM,
  shm_full: ErrorClass.ERROR_CLASS_SHM_FULL,
  shm_occupied: ErrorClass.ERROR_CLASS_SHM_OCCUPIED,
  workdir: ErrorClass.ERROR_CLASS_WORKDIR,
  bad_input: ErrorClass.ERROR_CLASS_BAD_INPUT,
  too_short: ErrorClass.ERROR_CLASS_TOO_SHORT,
  bad_params: ErrorClass.ERROR_CLASS_BAD_PARAMS,
  bad_output: ErrorClass.ERROR_CLASS_BAD_OUTPUT,
  missing_program: ErrorClass.ERROR_CLASS_MISSING_PROGRAM,
  toolchain: ErrorClass.ERROR_CLASS_TOOLCHAIN,
  agent: ErrorClass.ERROR_CLASS_AGENT,
} as const satisfies Record<string, ErrorClass>;

/** An error class by name, as stored in job_submits.error_class. */
export type ErrorClassName = keyof typeof WIRE;

const BY_WIRE = new Map<ErrorClass, ErrorClassName>(Object.entries(WIRE).map(([name, wire]) => [wire, name as ErrorClassName]));

export function errorClassToWire(name: ErrorClassName | ""): ErrorClass {
  return name === "" ? ErrorClass.ERROR_CLASS_UNSPECIFIED : WIRE[name];
}

/** The name of an error class off the wire; "" for none, and a plain label for one this side does not know. */
export function errorClassName(wire: ErrorClass): ErrorClassName | "" | `unknown error class ${number}` {
  if (wire === ErrorClass.ERROR_CLASS_UNSPECIFIED) return "";
  return BY_WIRE.get(wire) ?? `unknown error class ${wire}`;
}
