// The CLI's exit statuses, after BSD's sysexits.h so scripts can tell a typo from
// a coordinator that is down. `beamflow --help` and the README list them.
import * as grpc from "@grpc/grpc-js";

export const EXIT = {
  /** done */
  ok: 0,
  /** the command ran and what it checked failed (doctor found problems, a canary run failed) */
  failed: 1,
  /** (agent, up) the coordinator refused this agent's id, token or enrolment: restarting will not help */
  agentRefused: 2,
  /** the command line is wrong: an unknown command or option, a bad argument (EX_USAGE) */
  usage: 64,
  /** the coordinator refused the request: a job in the wrong state, a file it rejected (EX_DATAERR) */
  refused: 65,
  /** what was named does not exist: a job, attempt, agent or file (EX_NOINPUT) */
  notFound: 66,
  /** no coordinator to talk to: not running, not reachable, timed out (EX_UNAVAILABLE) */
  unavailable: 69,
  /** a fault inside beamflow (EX_SOFTWARE) */
  internal: 70,
  /** the admin token is missing, unreadable or wrong (EX_NOPERM) */
  permission: 77,
  /** the config file is invalid (EX_CONFIG) */
  config: 78,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The `--help` epilogue and README table. */
export const EXIT_HELP = `Exit status:
  0   done
  1   the command ran and what it checked failed (doctor, canary --wait)
  2   (agent, up) the coordinator refused this agent's id, token or enrolment, or revoked it:
      restarting will not help
  64  usage: unknown command or option, or a bad argument (named on stderr)
  65  refused by the coordinator (e.g. a job in the wrong state, a rejected file)
  66  not found: no such job, attempt, agent or file
  69  unavailable: no coordinator running or reachable
  70  internal error
  77  permission: the admin token is missing, unreadable or wrong
  78  the config file is invalid`;

/** Which exit status a gRPC error from an admin call gives. */
export function exitForGrpc(code: grpc.status | undefined): ExitCode {
  switch (code) {
    case grpc.status.NOT_FOUND:
      return EXIT.notFound;
    case grpc.status.INVALID_ARGUMENT:
    case grpc.status.OUT_OF_RANGE:
    case grpc.status.FAILED_PRECONDITION:
    case grpc.status.ALREADY_EXISTS:
    case grpc.status.ABORTED:
      return EXIT.refused;
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
    case grpc.status.RESOURCE_EXHAUSTED:
    case grpc.status.CANCELLED:
      return EXIT.unavailable;
    case grpc.status.UNAUTHENTICATED:
    case grpc.status.PERMISSION_DENIED:
      return EXIT.permission;
    default:
      return EXIT.internal;
  }
}

/** A failure the CLI reports in one line on stderr, and the status it exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.failed,
  ) {
    super(message);
    this.name = "CliError";
  }
}
