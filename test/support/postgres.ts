// A throwaway PostgreSQL server for tests: initdb into a temp dir, listen only on a
// Unix socket inside that dir (no TCP port to collide with anything), trust auth,
// fsync off (a test DB is thrown away; commits are fast), and remove it all on
// destroy().
//
//   findPostgresBin(): string | null        the newest /usr/lib/postgresql/<v>/bin with
//                                           initdb, pg_ctl and postgres ($BEAMFLOW_PG_BIN wins)
//   startPostgres(): Promise<PgServer | null>
//       null when there are no server binaries and $CI is unset (callers skip with
//       requirePostgres's message); with $CI set that is an error instead, so CI
//       never passes by skipping
//   PgServer: connectionString (database "beamflow_test"), createDatabase(name),
//             stop(mode), start(), destroy(), admin(sql, params)
//
// PostgreSQL refuses to run as root, so under root the server runs as a system
// user (an existing "postgres", else one created with useradd) via runuser, and
// the temp dir is chowned to it. The client side connects over the socket as the
// "postgres" role (initdb -U postgres, trust auth), whoever runs the tests.
// The apt line CI needs: apt-get install -y --no-install-recommends postgresql
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);

export const NO_POSTGRES_MESSAGE =
  "PostgreSQL server binaries not found (looked for /usr/lib/postgresql/*/bin/{initdb,pg_ctl,postgres} and $BEAMFLOW_PG_BIN); " +
  "install them with `apt-get install -y --no-install-recommends postgresql`";

const SERVER_USER = "postgres";
const PORT = 5432;

export function findPostgresBin(): string | null {
  const has = (dir: string) => ["initdb", "pg_ctl", "postgres"].every((p) => fs.existsSync(path.join(dir, p)));
  const env = process.env.BEAMFLOW_PG_BIN;
  if (env) return has(env) ? env : null;
  const root = "/usr/lib/postgresql";
  let versions: string[];
  try {
    versions = fs.readdirSync(root);
  } catch {
    return null;
  }
  const dirs = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(root, v, "bin"))
    .filter(has);
  return dirs[0] ?? null;
}

export interface PgServer {
  readonly binDir: string;
  readonly dir: string;
  readonly socketDir: string;
  /** The test database. */
  readonly connectionString: string;
  readonly running: boolean;
  connectionStringFor(database: string): string;
  /** CREATE DATABASE <name> (a fresh, empty one per suite keeps suites apart). */
  createDatabase(name: string): Promise<string>;
  /** One statement on the maintenance database "postgres". */
  admin(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  /** pg_ctl stop: "fast" rolls back and disconnects clients; "immediate" is a crash. */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  start(): Promise<void>;
  /** Stop (immediate) and remove the data directory. */
  destroy(): Promise<void>;
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** Run a server program, as the server user when we are root. */
async function asServerUser(file: string, args: string[]): Promise<string> {
  const [cmd, argv] = isRoot() ? ["runuser", ["-u", SERVER_USER, "--", file, ...args]] : [file, args];
  try {
    const { stdout } = await run(cmd, argv, { encoding: "utf8", maxBuffer: 16 * 2 ** 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${path.basename(file)} ${args.join(" ")} failed: ${err.stderr || err.stdout || err.message}`);
  }
}

function ensureServerUser(): void {
  try {
    execFileSync("id", ["-u", SERVER_USER], { stdio: "ignore" });
  } catch {
    execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER], { stdio: "inherit" });
  }
}

const live = new Set<{ binDir: string; data: string }>();
process.on("exit", () => {
  // A test run that dies must not leave servers behind.
  for (const s of live) {
    try {
      const args = ["-D", s.data, "-m", "immediate", "-w", "stop"];
      const pgCtl = path.join(s.binDir, "pg_ctl");
      if (isRoot()) execFileSync("runuser", ["-u", SERVER_USER, "--", pgCtl, ...args], { stdio: "ignore" });
      else execFileSync(pgCtl, args, { stdio: "ignore" });
    } catch {
      // already stopped
    }
  }
});

export async function startPostgres(options: { database?: string } = {}): Promise<PgServer | null> {
  const binDir = findPostgresBin();
  if (binDir === null) {
    if (process.env.CI) throw new Error(`CI is set, so the PostgreSQL tests may not be skipped: ${NO_POSTGRES_MESSAGE}`);
    return null;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bf-pg-"));
  const data = path.join(dir, "data");
  const log = path.join(dir, "server.log");
  if (isRoot()) {
    ensureServerUser();
    execFileSync("chown", [SERVER_USER, dir]);
  }
  const entry = { binDir, data };
  let running = false;
  const pgCtl = path.join(binDir, "pg_ctl");

  const connectionStringFor = (database: string) => `postgresql://postgres@/${encodeURIComponent(database)}?host=${encodeURIComponent(dir)}&port=${PORT}`;

  const server: PgServer = {
    binDir,
    dir,
    socketDir: dir,
    connectionString: connectionStringFor(options.database ?? "beamflow_test"),
    get running() {
      return running;
    },
    connectionStringFor,
    async admin(sql, params) {
      const client = new pg.Client({ connectionString: connectionStringFor("postgres") });
      client.on("error", () => undefined);
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async createDatabase(name) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
      await server.admin(`CREATE DATABASE ${name}`);
      return connectionStringFor(name);
    },
    async start() {
      try {
        await asServerUser(pgCtl, ["-D", data, "-l", log, "-w", "-t", "30", "start"]);
      } catch (e) {
        const tail = fs.existsSync(log) ? fs.readFileSync(log, "utf8").split("\n").slice(-20).join("\n") : "";
        throw new Error(`${(e as Error).message}\n${tail}`);
      }
      running = true;
      live.add(entry);
    },
    async stop(mode = "fast") {
      await asServerUser(pgCtl, ["-D", data, "-m", mode, "-w", "-t", "30", "stop"]);
      running = false;
      live.delete(entry);
    },
    async destroy() {
      if (running) await server.stop("immediate").catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    await asServerUser(path.join(binDir, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]);
    fs.appendFileSync(
      path.join(data, "postgresql.conf"),
      [
        "",
        "# test server (test/support/postgres.ts)",
        "listen_addresses = ''",
        `unix_socket_directories = '${dir}'`,
        `port = ${PORT}`,
        // No fsync: nothing here survives an OS crash anyway. synchronous_commit stays
        // on: the outage tests stop the server with "immediate", which would lose
        // asynchronously committed transactions still in the WAL buffers.
        "fsync = off",
        "full_page_writes = off",
        "max_connections = 40",
        "",
      ].join("\n"),
    );
    await server.start();
    if (options.database !== "postgres") await server.createDatabase(options.database ?? "beamflow_test");
  } catch (e) {
    await server.destroy();
    throw e;
  }
  return server;
}

let warned = false;

/**
 * For a mocha before(): the server, or skip the suite (once saying why) when
 * there is none and CI is unset.
 */
export async function requirePostgres(ctx: Mocha.Context, options?: { database?: string }): Promise<PgServer> {
  const server = await startPostgres(options);
  if (server === null) {
    if (!warned) {
      console.log(`      (skipping the PostgreSQL cases: ${NO_POSTGRES_MESSAGE})`);
      warned = true;
    }
    ctx.skip();
  }
  return server!;
}
