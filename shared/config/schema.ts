// The one config file's schema. Every setting has its default here and is
// documented in deploy/beamflow.example.yaml; a test keeps the two in step.
import { z } from "zod";
import { sizeSchema } from "./sizes";
import { searchParamsSchema } from "./search-params";
import { notifySchema } from "./notify-schema";
import { downloaderSchema } from "./downloader-schema";
import { BEAM_JOB_TYPES, SEARCH_JOB_TYPE } from "../protocol/job-types";
import { parseLoopbackListen } from "../protocol/loopback-listen";
import { isLocalAddress } from "../protocol/credentials";

const size = sizeSchema;

const seconds = z.number().positive();
const hostPort = z
  .string()
  .regex(/^(unix:.+|\[?[A-Za-z0-9.:-]+\]?:\d{1,5})$/, "expected HOST:PORT or unix:PATH")
  .refine((v) => v.startsWith("unix:") || Number(/:(\d+)$/.exec(v)?.[1] ?? 0) <= 65535, "port out of range (at most 65535)");

// The checks the coordinator and the agent make of their settings at start, made here so that
// `beamflow check-config` refuses exactly what they would refuse.
/** An HTTP listener without TLS (status page, /metrics): loopback only (parseLoopbackListen's rule). */
const loopbackListen = (setting: string) =>
  z.union([z.literal(""), hostPort]).superRefine((v, ctx) => {
    if (v === "" || v.startsWith("unix:")) {
      if (v.startsWith("unix:")) ctx.addIssue({ code: "custom", message: "expected HOST:PORT (an HTTP listener), not a unix socket" });
      return;
    }
    if (!hostPort.safeParse(v).success) return; // said already
    try {
      parseLoopbackListen(v, setting);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message.replace(`${setting} '${v}': `, "") });
    }
  });

const tls = z.strictObject({
  ca: z.string().describe("CA certificate (PEM) that signed the peers' certificates"),
  cert: z.string(),
  key: z.string(),
  // The name the peer's certificate must carry, when the address dialled is not that name (e.g. an IP).
  server_name: z.string().optional(),
});

const commandStep = z.strictObject({
  name: z.string().min(1),
  argv: z.array(z.string()).min(1),
  timeout_s: z.number().int().nonnegative().default(0),
  idle_timeout_s: z.number().int().nonnegative().default(0),
});

const beamRule = z.strictObject({
  name: z.string().min(1),
  regex: z.string().refine((r) => {
    try {
      new RegExp(r);
      return true;
    } catch {
      return false;
    }
  }, "not a valid regular expression"),
  // Values the (?<member>…) group must take for the group to be complete; empty: one file per beam.
  members: z.array(z.string()).default([]),
});

export const configSchema = z.strictObject({
  data_dir: z.string().default("./beamflow-data"),
  coordinator: z
    .strictObject({
      listen: hostPort.default("127.0.0.1:7050"),
      admin_socket: z.string().default(""),
      http_listen: loopbackListen("coordinator.http_listen").default("127.0.0.1:7051"),
      tls: tls.optional(),
      allow_insecure_remote: z.boolean().default(false),
      db: z.string().default(""),
      // An attempt's stored log is capped: head and tail kept, the middle cut and marked. 0 = no cap.
      log_max_bytes: size.default(64 * 2 ** 20),
      // An ephemeral agent (enrolled with `token create --ephemeral`: a pilot) not seen for this
      // long and holding no live attempt is removed (seconds); one that leaves cleanly at once.
      ephemeral_gone_s: seconds.default(900),
    })
    .superRefine((c, ctx) => {
      // serverCredentials' rule: plain gRPC only on loopback or a unix socket, unless allowed.
      if (!c.tls && !c.allow_insecure_remote && !isLocalAddress(c.listen))
        ctx.addIssue({
          code: "custom",
          path: ["listen"],
          message: `refusing to listen on ${c.listen} without TLS: set coordinator.tls (or coordinator.allow_insecure_remote for a trusted private network)`,
        });
    })
    .prefault({}),
  jobs: z
    .strictObject({
      type: z.enum(BEAM_JOB_TYPES).default(SEARCH_JOB_TYPE),
      commands: z.array(commandStep).default([]),
      max_attempts: z.number().int().positive().default(2),
      // A counted failure's retry waits this long, doubled for each earlier counted failure (seconds; 0 = at once).
      retry_backoff_s: z.number().nonnegative().default(60),
      lease_s: seconds.default(600),
      accept_timeout_s: seconds.default(30),
      // Remove a beam's raw files once its results are uploaded or it failed for good (PALFA's delete_rawdata).
      delete_rawdata: z.boolean().default(false),
    })
    .prefault({}),
  results: z
    .strictObject({
      // Where the coordinator keeps results, as results/<MJD>/<obs>/<beam>/<attempt>/; "" = <data_dir>/results.
      dir: z.string().default(""),
      // The results DB: "" = SQLite <data_dir>/results.db; postgresql://… = a shared common DB; else a SQLite path.
      db: z.string().default(""),
      upload_max_attempts: z.number().int().positive().default(3),
      upload_retry_s: seconds.default(300),
      db_backoff_max_s: seconds.default(300),
    })
    .prefault({}),
  beams: z
    .strictObject({
      rules: z.array(beamRule).default([]),
    })
    .prefault({}),
  // PALFA search parameters for palfa-search jobs (PALFA V-2 defaults; see search-params.ts).
  search: searchParamsSchema.prefault({}),
  // Canary runs: a synthetic beam with a known pulsar searched on one agent; a run that does
  // not find it drains the agent. `beamflow canary` runs them by hand.
  canary: z
    .strictObject({
      // Run one on every agent fit for searches this often, and whenever an agent's toolchain
      // changes (hours; 0 = only by hand).
      every_h: z.number().nonnegative().default(0),
      // A run that has not ended this long after it was asked for fails (minutes).
      timeout_m: z.number().positive().default(60),
      // The folded S/N of the canary pulsar: bright enough that any working search finds it first.
      snr: z.number().positive().default(25),
    })
    .prefault({}),
  zaplists: z
    .strictObject({
      // A directory or a .tar.gz of zaplists, looked up per beam in PALFA's order.
      source: z.string().default(""),
      default_mock: z.string().default("PALFA_commondb_Mock.zaplist"),
      default_wapp: z.string().default("PALFA_commondb_wapp.zaplist"),
      default_other: z.string().default("default.zaplist"),
      // false: a beam without its own zaplist fails instead of using the default.
      use_default: z.boolean().default(true),
    })
    .prefault({}),
  dispatch: z
    .strictObject({
      shm_factor: z.number().positive().default(3),
      cores_per_beam: z.number().int().positive().default(1),
      memory_per_beam: size.default(2 * 2 ** 30),
      // An agent whose failed attempts in a row span this many different beams is drained; 0 = never.
      drain_after_failures: z.number().int().nonnegative().default(3),
      // An agent that says when it must be done (agent.end_time: a batch pilot) gets only beams
      // expected to finish this many seconds before then.
      walltime_margin_s: z.number().nonnegative().default(60),
      // The expected duration of a beam of a type and size never finished before (seconds);
      // 0 = assume it fits.
      unknown_duration_s: z.number().nonnegative().default(0),
    })
    .prefault({}),
  agent: z
    .strictObject({
      id: z
        .string()
        .regex(/^[A-Za-z0-9._-]+$/, "letters, digits, dot, dash, underscore")
        .refine((v) => v !== "." && v !== "..", "names a directory")
        .optional(),
      coordinator: hostPort.default("127.0.0.1:7050"),
      token_file: z.string().default(""),
      // An enrolment token (`beamflow token create`): with no credential in token_file yet, the
      // agent enrols with it once and writes its own credential to token_file. "" = none.
      enrol_token_file: z.string().default(""),
      tls: tls.optional(),
      work_base: z.string().default("/dev/shm/beamflow/{agent}"),
      scratch_dir: z.string().default("/tmp"),
      cores: z.number().int().positive().optional(),
      labels: z.record(z.string(), z.string()).default({}),
      heartbeat_s: seconds.default(10),
      step_timeout_s: z.number().nonnegative().default(0),
      idle_timeout_s: z.number().nonnegative().default(0),
      kill_grace_s: seconds.default(10),
      // On SIGTERM/SIGINT the running attempts may finish for this long (seconds); then what
      // still runs is handed back (requeued, not counted). 0 = hand back at once. A second
      // signal hands back at once.
      stop_timeout_s: z.number().nonnegative().default(120),
      // When the agent must be done (unix seconds; 0 = no end): a batch allocation's end, set
      // by the pilot scripts. Told to the coordinator, which then sends only beams expected to
      // finish in time.
      end_time: z.number().nonnegative().default(0),
      // Exit (status 0) after this many seconds with nothing to run or deliver; 0 = never. Pilots
      // set it, so that an allocation with no beam left to fit is given back early.
      idle_exit_s: z.number().nonnegative().default(0),
      toolchain: z
        .strictObject({
          path: z.array(z.string()).default([]),
          prefix: z.string().default(""),
          wrapper: z.array(z.string()).default([]),
          presto_dir: z.string().default(process.env.PRESTO ?? ""),
          psrfits_utils_dir: z.string().default(""),
        })
        .prefault({}),
      // How often the agent looks for changes to its toolchain and work dir (a few stat calls),
      // and how often it checks them in full regardless (runs accelsearch for its usage).
      fitness_check_s: seconds.default(60),
      fitness_full_check_s: seconds.default(900),
      reconnect_initial_s: seconds.default(0.5),
      reconnect_max_s: seconds.default(2),
      // Log output not yet acknowledged by the coordinator, spooled under scratch_dir; when full, steps are held back.
      log_spool_bytes: size.default(2 ** 30),
      // The read-only token scrapers of /metrics present (never the agent's credential); created
      // (mode 0600) on first use; "" = <data_dir>/metrics.token.
      metrics_token_file: z.string().default(""),
      // GET /metrics for Prometheus (loopback only, the metrics token as bearer); "" = none.
      metrics_listen: loopbackListen("agent.metrics_listen").default(""),
    })
    .prefault({}),
  // Getting data in: directories watched and archives that restore beams on request (PALFA's downloader).
  downloader: downloaderSchema.prefault({}),
  // Email and webhook notices of failures, lost agents and crashes (PALFA's mailer).
  notify: notifySchema.prefault({}),
  logging: z
    .strictObject({
      level: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
