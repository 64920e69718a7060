// The release tarball (`npm run package`) on a node that has Node.js and nothing else:
// unpacked into an empty dir and run with a PATH of node, a shell and coreutils (no
// compiler, no npm, no Python), its coordinator and agent complete a command job. Its CLI
// answers --version without loading what commands need.
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { freePort, waitFor } from "../support/cluster";
import { barePath, releaseTarball, unpackRelease } from "../support/release";

const ROOT = path.join(__dirname, "..", "..");

describe("release tarball", function () {
  this.timeout(180_000);
  let dir = "";
  let top = "";
  let env: NodeJS.ProcessEnv = {};
  const procs: ChildProcess[] = [];

  const cli = (args: string[]) => {
    const r = spawnSync(path.join(top, "bin", "beamflow"), args, { cwd: dir, env, encoding: "utf8", timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (args: string[]) => {
    const r = cli(args);
    assert.equal(r.status, 0, `beamflow ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  const start = (args: string[]) => {
    const child = spawn(path.join(top, "bin", "beamflow"), args, { cwd: dir, env, stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr!.on("data", (d) => {
      log = (log + d).slice(-4000);
    });
    procs.push(child);
    return { child, log: () => log };
  };

  before(async () => {
    const tarball = await releaseTarball();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-release-run-"));
    top = unpackRelease(tarball, dir);
    env = { PATH: barePath(path.join(dir, "path")), HOME: dir, LANG: "C.UTF-8" };
  });

  after(async () => {
    for (const child of procs) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    if (dir && !process.env.BEAMFLOW_KEEP_TEST_DIRS) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("holds compiled code, built native modules and no TypeScript, for this platform", () => {
    const release = JSON.parse(fs.readFileSync(path.join(top, "RELEASE"), "utf8"));
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    assert.equal(path.basename(top), `beamflow-${version}-linux-${process.arch}`);
    assert.equal(release.nodeModuleAbi, process.versions.modules);
    assert.ok(fs.existsSync(path.join(top, "dist", "cli", "main.js")));
    assert.ok(fs.existsSync(path.join(top, "dist", "shared", "gen", "admin.js")), "the generated protocol code");
    assert.ok(fs.existsSync(path.join(top, "dist", "agent", "search", "plots", "pfd_plot.py")), "the plot script beside its module");
    assert.ok(fs.existsSync(path.join(top, "dist", "deploy", "beamflow.example.yaml")), "what `beamflow init` copies");
    for (const m of ["better-sqlite3/build/Release/better_sqlite3.node", "node-pty/build/Release/pty.node"]) {
      assert.ok(fs.existsSync(path.join(top, "node_modules", m)), m);
    }
    for (const absent of ["cli/main.ts", "node_modules/tsx", "node_modules/typescript", "node_modules/mocha", "node_modules/better-sqlite3/deps"]) {
      assert.ok(!fs.existsSync(path.join(top, absent)), `${absent} is in the release`);
    }
  });

  it("runs with a PATH that has node but no compiler, npm or Python; --version loads no command's modules", () => {
    for (const tool of ["cc", "gcc", "make", "npm", "python3"]) {
      assert.notEqual(spawnSync("sh", ["-c", `command -v ${tool}`], { env }).status, 0, `${tool} is on the bare PATH`);
    }
    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    assert.equal(ok(["--version"]).trim(), version);
    assert.match(ok(["--help"]), /submit/);
    // What --version loaded: a probe preloaded into the launcher's process lists the modules.
    const probe = path.join(dir, "probe.js");
    fs.writeFileSync(
      probe,
      `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(path.join(dir, "loaded.json"))}, JSON.stringify(Object.keys(require.cache))));\n`,
    );
    const r = spawnSync(process.execPath, ["-r", probe, path.join(top, "bin", "beamflow"), "--version"], { env, encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const loaded: string[] = JSON.parse(fs.readFileSync(path.join(dir, "loaded.json"), "utf8"));
    for (const heavy of ["@grpc/grpc-js", "zod", "yaml", "better-sqlite3", "dist/coordinator/server.js", "dist/agent/start.js"]) {
      assert.ok(!loaded.some((f) => f.includes(`/${heavy}`)), `--version loaded ${heavy}`);
    }
  });

  it("a coordinator and an agent from the release complete a submitted command job", async () => {
    const port = await freePort();
    const coordCfg = path.join(dir, "coordinator.yaml");
    fs.writeFileSync(
      coordCfg,
      YAML.stringify({ data_dir: path.join(dir, "coordinator"), coordinator: { listen: `127.0.0.1:${port}`, http_listen: "127.0.0.1:0" } }),
    );
    ok(["--config", coordCfg, "init"]);
    const coordinator = start(["--config", coordCfg, "coordinator"]);
    await waitFor(
      "the coordinator to answer",
      () => {
        if (coordinator.child.exitCode !== null) throw new Error(`coordinator exited: ${coordinator.log()}`);
        return cli(["--config", coordCfg, "status", "--json"]).status === 0;
      },
      30_000,
      200,
    );
    const token = path.join(dir, "a1.token");
    ok(["--config", coordCfg, "register-agent", "a1", "--token-file", token]);
    const agentCfg = path.join(dir, "a1.yaml");
    fs.writeFileSync(
      agentCfg,
      YAML.stringify({
        data_dir: path.join(dir, "a1"),
        agent: { id: "a1", coordinator: `127.0.0.1:${port}`, token_file: token, work_base: path.join(dir, "a1-work"), heartbeat_s: 0.5, cores: 2 },
      }),
    );
    const agent = start(["--config", agentCfg, "agent"]);
    await waitFor(
      "a1 to connect",
      () => {
        if (agent.child.exitCode !== null) throw new Error(`agent exited: ${agent.log()}`);
        const agents = JSON.parse(ok(["--config", coordCfg, "agents", "--json"]) || "[]");
        return agents.some((a: { id: string; state: string }) => a.id === "a1" && a.state === "connected");
      },
      30_000,
      300,
    );
    const submitted = JSON.parse(ok(["--config", coordCfg, "submit", "--json", "--", "sh", "-c", "echo hello from the release"]));
    const id = String(submitted.jobIds[0]);
    await waitFor(
      `job ${id} to be processed`,
      () => {
        const job = JSON.parse(ok(["--config", coordCfg, "job", id, "--json"]));
        const status = job.job?.status ?? job.status;
        if (status === "terminal_failure") throw new Error(`job ${id} failed: ${JSON.stringify(job)}`);
        return status === "processed";
      },
      60_000,
      300,
    );
    assert.match(ok(["--config", coordCfg, "logs", id]), /hello from the release/);
  });
});
