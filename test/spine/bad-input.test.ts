// Bad input gets one clear error and changes nothing else.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { BIN, Cluster, waitFor } from "../support/cluster";
import { EXIT } from "../../cli/exit-codes";
import { exitStatus } from "../support/exit-status";

function runToExit(args: string[], timeoutMs = 20000): Promise<{ status: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.stdout.on("data", (d) => (stdout += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not exit: ${stderr}`));
    }, timeoutMs);
    void exitStatus(child).then((status) => {
      clearTimeout(timer);
      resolve({ status, stderr, stdout });
    });
  });
}

describe("spine: bad input", function () {
  this.timeout(60_000);
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.create();
    await cluster.startCoordinator();
  });
  after(async () => cluster?.close());

  it("refuses a second coordinator on the same tracker, naming the holder", async () => {
    const r = await runToExit(["--config", cluster.configPath, "coordinator"]);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^beamflow: the job tracker .*tracker\.db is in use by another coordinator \(pid \d+ on .*\); only one coordinator may run on it\n$/,
    );
    const s = cluster.cli(["status", "--json"]);
    assert.equal(s.status, 0, "the first coordinator still answers");
  });

  it("an unknown agent is refused with one clear error and the agent exits", async () => {
    const cfgFile = path.join(cluster.dir, "ghost.yaml");
    const tokenFile = path.join(cluster.dir, "ghost.token");
    fs.writeFileSync(tokenFile, "not-a-real-token\n");
    fs.writeFileSync(
      cfgFile,
      YAML.stringify({
        data_dir: path.join(cluster.dir, "ghost"),
        agent: { id: "ghost", coordinator: `127.0.0.1:${cluster.port}`, token_file: tokenFile, work_base: path.join(cluster.dir, "ghost-work") },
      }),
    );
    const r = await runToExit(["--config", cfgFile, "agent"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /beamflow: unknown agent 'ghost': register it with 'beamflow register-agent ghost'/);
    const agents = JSON.parse(cluster.cli(["agents", "--json"]).stdout);
    assert.deepEqual(agents, [], "nothing was registered");
  });

  it("add-files of a missing or unreadable file fails with one line naming it, and registers nothing", () => {
    const good = path.join(cluster.dir, "beam_ok.fits");
    fs.writeFileSync(good, "dummy data, not a real observation\n");
    const missing = path.join(cluster.dir, "missing.fits");
    const r = cluster.cli(["add-files", good, missing]);
    assert.equal(r.status, EXIT.notFound);
    assert.match(r.stderr, /missing\.fits/);
    assert.match(r.stderr, /does not exist|no such file|ENOENT/i);
    assert.equal(r.stderr.trim().split("\n").length <= 3, true, r.stderr);
    assert.deepEqual(JSON.parse(cluster.cli(["jobs", "--json"]).stdout), []);
    const dir = cluster.cli(["add-files", cluster.dir]);
    assert.equal(dir.status, EXIT.refused);
    assert.match(dir.stderr, /directory/);
  });

  it("unknown ids, states and commands get one clear error and the exit status of their kind", () => {
    const job = cluster.cli(["job", "999"]);
    assert.equal(job.status, EXIT.notFound);
    assert.equal(job.stderr, "beamflow: no job 999\n");
    const status = cluster.cli(["jobs", "--status", "flying"]);
    assert.equal(status.status, EXIT.usage);
    assert.match(status.stderr, /unknown job status 'flying' \(one of: new, submitted/);
    const notId = cluster.cli(["kill", "abc"]);
    assert.equal(notId.status, EXIT.usage);
    assert.equal(notId.stderr, "beamflow: not a job id: 'abc' (a positive whole number)\n");
    const drain = cluster.cli(["drain", "nobody"]);
    assert.equal(drain.status, EXIT.notFound);
    assert.equal(drain.stderr, "beamflow: no agent nobody\n");
  });

  it("the admin socket is private to its owner", () => {
    const mode = fs.statSync(path.join(cluster.dataDir, "admin.sock")).mode & 0o777;
    assert.equal(mode, 0o600);
    assert.equal(fs.statSync(path.join(cluster.dataDir, "admin.token")).mode & 0o777, 0o600);
  });

  it("`init` leaves an existing config and tracker alone, and says so", () => {
    const before = fs.readFileSync(cluster.configPath, "utf8");
    const r = cluster.cli(["init"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /config .* exists: left as it is/);
    assert.match(r.stdout, /job tracker .* exists: left as it is/);
    assert.equal(fs.readFileSync(cluster.configPath, "utf8"), before);
  });
});

describe("beamflow up", function () {
  this.timeout(60_000);

  it("runs a coordinator and a local agent in one process on the embedded default", async () => {
    const dir = fs.mkdtempSync(path.join(require("node:os").tmpdir(), "beamflow-up-"));
    const child = spawn(process.execPath, [BIN, "up"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, BEAMFLOW_CONFIG: "" } });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    try {
      await waitFor("up to start", () => stderr.includes("beamflow up:"));
      const cli = (args: string[]) => require("node:child_process").spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8" });
      const sub = cli(["submit", "--json", "--", "sh", "-c", "echo from-up"]);
      assert.equal(sub.status, 0, sub.stderr);
      const [id] = JSON.parse(sub.stdout).jobIds;
      await waitFor("the job to finish", () => JSON.parse(cli(["job", String(id), "--json"]).stdout).job.status === "processed");
      assert.ok(fs.existsSync(path.join(dir, "beamflow-data", "tracker.db")), "the embedded SQLite tracker");
      const agents = JSON.parse(cli(["agents", "--json"]).stdout);
      assert.equal(agents.length, 1);
      assert.equal(agents[0].state, "connected");
      // JSON lines (stderr is a pipe), each naming its component once: the coordinator's and the agent's are apart.
      const records = stderr.split("\n").filter((l) => l.startsWith("{"));
      assert.ok(records.length > 3, stderr);
      for (const l of records) assert.equal(l.match(/"component":/g)?.length, 1, l);
      const components = new Set(records.map((l) => JSON.parse(l).component));
      assert.ok(components.has("coordinator") && components.has("agent"), [...components].join(", "));
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
