// Deployment files: the systemd units, the Slurm/PBS pilot scripts and the
// Ansible roles. Tools that are missing make a test fail in CI (CI=true) and
// skip it elsewhere, with the reason in the test's title. The tests install
// nothing; CI needs: apt-get install -y --no-install-recommends ansible-core ansible-lint
// (systemd-analyze and bash are there already; shellcheck is used when present).
import { type RunResult, runAsync } from "../support/run-async";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { call, connectAdmin } from "../../cli/admin-client";
import { loadConfig } from "../../shared/config/load";
import { configSchema } from "../../shared/config/schema";
import { BIN, Cluster, freePort, waitFor } from "../support/cluster";
import { releaseTarball, unpackRelease } from "../support/release";
import { findAgent, listAgents } from "../../cli/agent-listing";
import { exitStatus } from "../support/exit-status";

const ROOT = path.join(__dirname, "..", "..");
const ANSIBLE = path.join(ROOT, "ansible");
const UNITS = ["beamflow-coordinator", "beamflow-agent"];
const PILOTS = [path.join(ROOT, "deploy", "slurm", "beamflow-pilot.sbatch"), path.join(ROOT, "deploy", "pbs", "beamflow-pilot.pbs")];
const APT_HINT = "apt-get install -y --no-install-recommends ansible-core ansible-lint";

function which(tool: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Fails in CI, skips elsewhere (saying why in the title), when `missing` names something absent. */
function needs(ctx: Mocha.Context, missing: string | undefined): void {
  if (!missing) return;
  if (process.env.CI) assert.fail(`${missing} (CI must provide it: ${APT_HINT})`);
  ctx.test!.title += ` [skipped: ${missing}]`;
  ctx.skip();
}
const needTools = (ctx: Mocha.Context, ...tools: string[]) => {
  const absent = tools.filter((t) => !which(t));
  needs(ctx, absent.length ? `not installed: ${absent.join(", ")}` : undefined);
};

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeout ?? 120_000 });
  if (r.error) throw r.error;
  return r;
}
const tail = (s: string, n = 60) => s.split("\n").slice(-n).join("\n");

type Result = RunResult;

const ansibleEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ANSIBLE_NOCOLOR: "1", ANSIBLE_FORCE_COLOR: "0", ANSIBLE_RETRY_FILES_ENABLED: "0", PY_COLORS: "0" };
  delete env.BEAMFLOW_CONFIG;
  return env;
};

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Directive lines of a unit file: what systemd reads, comments and blank lines left out. */
const directives = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

const syntaxCheck = () =>
  runAsync("ansible-playbook", ["--syntax-check", "-i", "inventory.example", "site.yml", "upgrade.yml"], { cwd: ANSIBLE, env: ansibleEnv() });
const lint = () => runAsync("ansible-lint", ["--offline", "--profile", "production", "--nocolor"], { cwd: ANSIBLE, env: ansibleEnv() });

/** The roles' unit templates rendered with the roles' defaults. */
async function renderUnits(): Promise<Result & { rendered: Record<string, string> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-render-"));
  try {
    const defaults = ["beamflow_common", "beamflow_coordinator", "beamflow_agent"].map((r) => path.join(ANSIBLE, "roles", r, "defaults", "main.yml"));
    const play = [
      {
        name: "Render the unit templates",
        hosts: "localhost",
        gather_facts: false,
        vars_files: defaults,
        tasks: UNITS.map((u) => ({
          name: `Render ${u}`,
          "ansible.builtin.template": {
            src: path.join(ANSIBLE, "roles", u.replace("-", "_"), "templates", `${u}.service.j2`),
            dest: path.join(dir, `${u}.service`),
            mode: "0644",
          },
        })),
      },
    ];
    fs.writeFileSync(path.join(dir, "render.yml"), YAML.stringify(play));
    const r = await runAsync("ansible-playbook", ["-i", "localhost,", "-c", "local", path.join(dir, "render.yml")], { cwd: ANSIBLE, env: ansibleEnv() });
    const rendered: Record<string, string> = {};
    for (const u of UNITS) if (r.status === 0) rendered[u] = fs.readFileSync(path.join(dir, `${u}.service`), "utf8");
    return { ...r, rendered };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The slow checks that need no state start together at the beginning (when
// their tools are there), so that they run while the real run waits on ansible.
const started = new Map<string, Promise<unknown>>();
function background<T>(name: string, job: () => Promise<T>): Promise<T> {
  if (!started.has(name)) {
    const p = job();
    p.catch(() => undefined); // reported by the test that awaits it
    started.set(name, p);
  }
  return started.get(name) as Promise<T>;
}

describe("deploy", () => {
  before(() => {
    if (which("ansible-playbook")) {
      void background("syntax", syntaxCheck);
      void background("render", renderUnits);
    }
    if (which("ansible-lint")) void background("lint", lint);
  });

  // A real run of site.yml on this machine (connection local, as root), into a
  // temporary prefix, with a throwaway service user, installing the release tarball
  // (`npm run package`, built from this tree). Where systemd is not PID 1
  // (containers) the roles write the units but start nothing, so the test starts
  // the coordinator and the agent itself, as the service user, with the config
  // and token the roles wrote; then upgrade.yml replaces the release under them.
  describe("ansible: a real run into a temporary prefix", function () {
    // A ceiling per test, for busy machines: each ansible task costs seconds there
    // (the second run took 290 s with a load average of 14 on 2 cores).
    this.timeout(480_000);
    const user = `bft${process.pid}${crypto.randomBytes(2).toString("hex")}`;
    const missing = () =>
      [!which("ansible-playbook") && "not installed: ansible-playbook", process.getuid?.() !== 0 && "needs root (it creates a user)"]
        .filter(Boolean)
        .join("; ") || undefined;
    let prefix = "";
    let inventory = "";
    let release = "";
    let port = 0;
    let uid = -1;
    let gid = -1;
    const procs: { child: ChildProcess; log: () => string }[] = [];
    let coordinator: (typeof procs)[number] | undefined;
    let agent: (typeof procs)[number] | undefined;

    const p = (rel: string) => path.join(prefix, rel);
    const x = {
      get install() {
        return p("opt/beamflow");
      },
      // The agent's own: on a site it is another host.
      get agentInstall() {
        return p("agent/opt/beamflow");
      },
      get config() {
        return p("etc/beamflow");
      },
      get home() {
        return p("var/lib/beamflow");
      },
      get units() {
        return p("etc/systemd/system");
      },
      get coordinatorData() {
        return p("var/lib/beamflow/coordinator");
      },
      get scratch() {
        return p("scratch");
      },
      workBase: `/dev/shm/beamflow-${user}`,
    };

    before(async () => {
      if (missing()) return;
      prefix = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-ansible-"));
      fs.chmodSync(prefix, 0o755);
      fs.mkdirSync(p("bin")); // where the operators' `beamflow` wrapper goes
      port = await freePort();
      release = await releaseTarball();
      inventory = p("inventory.yml");
      fs.writeFileSync(
        inventory,
        JSON.stringify(
          {
            all: {
              vars: {
                ansible_connection: "local",
                ansible_become_method: "su", // root already; su (unlike sudo) is always installed
                ansible_become_flags: "-s /bin/sh", // the service user's shell is nologin
                beamflow_user: user,
                beamflow_group: user,
                beamflow_home: x.home,
                beamflow_install_dir: x.install,
                beamflow_config_dir: x.config,
                beamflow_systemd_unit_dir: x.units,
                beamflow_release: release,
                beamflow_node_bin: process.execPath,
                beamflow_upgrade_poll_s: 1,
                beamflow_coordinator_listen: `127.0.0.1:${port}`,
                beamflow_agent_work_base: x.workBase,
                beamflow_agent_scratch_dir: x.scratch,
                beamflow_agent_labels: { deploy_test: "yes" },
              },
              children: {
                beamflow_coordinator: { hosts: { "bf-coord": { ansible_host: "127.0.0.1", beamflow_cli_wrapper: p("bin/beamflow") } } },
                beamflow_agents: { hosts: { "bf-agent": { beamflow_cli_wrapper: "", beamflow_install_dir: x.agentInstall } } },
              },
            },
          },
          null,
          2,
        ),
      );
    });

    after(async function () {
      this.timeout(60_000);
      for (const { child } of procs) {
        if (child.exitCode !== null || child.signalCode !== null) continue;
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      }
      if (prefix && spawnSync("id", ["-u", user]).status === 0) {
        spawnSync("userdel", [user]);
        spawnSync("groupdel", [user]);
      }
      if (uid > 0) fs.rmSync(path.join(os.tmpdir(), `tsx-${uid}`), { recursive: true, force: true });
      fs.rmSync(x.workBase, { recursive: true, force: true });
      if (prefix && !process.env.BEAMFLOW_KEEP_TEST_DIRS) fs.rmSync(prefix, { recursive: true, force: true });
    });

    async function playbook(args: string[], book = "site.yml"): Promise<Map<string, { changed: number; failed: number }>> {
      const r = await runAsync("ansible-playbook", ["-i", inventory, book, ...args], { cwd: ANSIBLE, env: ansibleEnv() });
      if (process.env.BEAMFLOW_TEST_LOGS) process.stderr.write(r.out);
      assert.equal(r.status, 0, `ansible-playbook ${args.join(" ")} failed:\n${tail(r.out, 80)}`);
      const recap = new Map<string, { changed: number; failed: number }>();
      for (const m of r.out.matchAll(/^(\S+)\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
        recap.set(m[1], { changed: Number(m[2]), failed: Number(m[3]) + Number(m[4]) });
      }
      return recap;
    }

    /** A long-running process of the service user, from the installed code (as systemd would start it). */
    function startAs(args: string[], install = x.install): (typeof procs)[number] {
      const child = spawn(process.execPath, [path.join(install, "current", "bin", "beamflow"), ...args], {
        uid,
        gid,
        cwd: x.home,
        env: { PATH: process.env.PATH, HOME: x.home },
        stdio: ["ignore", "ignore", "pipe"],
      });
      let log = "";
      child.stderr!.on("data", (d) => {
        log = (log + d).slice(-4000);
      });
      const proc = { child, log: () => log };
      procs.push(proc);
      return proc;
    }

    it("installs the coordinator: service user, release, validated config, job tracker, unit", async function () {
      needs(this, missing());
      const recap = await playbook(["--limit", "bf-coord"]);
      assert.ok(recap.get("bf-coord")!.changed > 0);
      const current = fs.readlinkSync(path.join(x.install, "current"));
      assert.match(current, new RegExp(`^releases/${esc(path.basename(release, ".tar.gz"))}-[0-9a-f]{12}$`));
      assert.ok(fs.existsSync(path.join(x.install, current, "dist", "cli", "main.js")), "the release is unpacked");
      assert.ok(!fs.existsSync(path.join(x.install, current, "cli", "main.ts")), "no TypeScript, no tsx: nothing is built on the host");
      uid = Number(spawnSync("id", ["-u", user], { encoding: "utf8" }).stdout);
      gid = Number(spawnSync("id", ["-g", user], { encoding: "utf8" }).stdout);
      assert.ok(uid > 0 && gid > 0, `user ${user} was created`);
      const cfgFile = path.join(x.config, "coordinator.yaml");
      const st = fs.statSync(cfgFile);
      assert.deepEqual([st.mode & 0o777, st.uid, st.gid], [0o640, 0, gid]);
      assert.equal(loadConfig(cfgFile).data_dir, x.coordinatorData);
      const data = fs.statSync(x.coordinatorData);
      assert.deepEqual([data.mode & 0o777, data.uid], [0o700, uid]);
      assert.equal(fs.statSync(path.join(x.coordinatorData, "tracker.db")).uid, uid, "beamflow init ran as the service user");
      const unit = fs.readFileSync(path.join(x.units, "beamflow-coordinator.service"), "utf8");
      assert.match(unit, new RegExp(`^User=${user}$`, "m"));
      assert.match(unit, new RegExp(`^Environment=BEAMFLOW_CONFIG=${esc(cfgFile)}$`, "m"));
      assert.match(fs.readFileSync(p("bin/beamflow"), "utf8"), new RegExp(`BEAMFLOW_CONFIG:=${esc(cfgFile)}`));
      if (which("systemd-analyze")) {
        const v = run("systemd-analyze", ["verify", path.join(x.units, "beamflow-coordinator.service")]);
        assert.equal(v.status, 0, v.stderr);
      }
    });

    it("registers the agent through the running coordinator, installs its token and config; the coordinator is unchanged", async function () {
      needs(this, missing());
      assert.ok(uid > 0, "needs the coordinator installed by the test before");
      // No systemd here: start the coordinator as its unit would, then let the roles talk to it.
      coordinator = startAs(["--config", path.join(x.config, "coordinator.yaml"), "coordinator"]);
      await waitFor(
        "the coordinator's admin socket",
        () => {
          if (coordinator!.child.exitCode !== null) throw new Error(`coordinator exited: ${coordinator!.log()}`);
          return fs.existsSync(path.join(x.coordinatorData, "admin.sock"));
        },
        30_000,
        100,
      );

      const recap = await playbook(["-e", "beamflow_coordinator_health_check=true"]);
      assert.equal(recap.get("bf-coord")!.changed, 0, "the second run changed something on the coordinator");
      assert.ok(recap.get("bf-agent")!.changed > 0);

      const token = path.join(x.config, "agent.token");
      const st = fs.statSync(token);
      assert.deepEqual([st.mode & 0o777, st.uid], [0o600, uid]);
      assert.equal(fs.readFileSync(token, "utf8"), fs.readFileSync(path.join(x.coordinatorData, "agent-tokens", "bf-agent.token"), "utf8"));
      const cfg = loadConfig(path.join(x.config, "agent.yaml"));
      assert.equal(cfg.agent.id, "bf-agent");
      assert.equal(cfg.agent.coordinator, `127.0.0.1:${port}`);
      assert.equal(cfg.agent.token_file, token);
      assert.equal(cfg.agent.work_base, x.workBase);
      assert.deepEqual(cfg.agent.labels, { deploy_test: "yes" });
      assert.equal(cfg.agent.stop_timeout_s, 120, "beams may finish for TimeoutStopSec (180) minus 60 s");
      const unit = fs.readFileSync(path.join(x.units, "beamflow-agent.service"), "utf8");
      assert.match(unit, /^KillMode=mixed$/m);
      // The prefix is under /tmp, and so is the scratch dir: the agent shares /tmp.
      assert.match(unit, /^PrivateTmp=no$/m);
      assert.match(unit, new RegExp(`^ReadWritePaths=${esc(x.home)}/agent /tmp /var/tmp -${esc(x.workBase)}$`, "m"));
    });

    it("the agent connects with what the roles installed, and a further run changes nothing", async function () {
      needs(this, missing());
      assert.ok(coordinator, "needs the coordinator started by the test before");
      agent = startAs(["--config", path.join(x.config, "agent.yaml"), "agent"], x.agentInstall);
      const admin = connectAdmin(loadConfig(path.join(x.config, "coordinator.yaml")));
      try {
        await waitFor(
          "bf-agent to connect",
          async () => {
            if (agent!.child.exitCode !== null) throw new Error(`agent exited: ${agent!.log()}`);
            const agents = await listAgents(admin);
            return agents.some((a) => a.id === "bf-agent" && a.state === "connected");
          },
          30_000,
          200,
        );
      } finally {
        admin.client.close();
      }
      const recap = await playbook(["--limit", "bf-agent", "-e", "beamflow_agent_health_check=true"]);
      assert.equal(recap.get("bf-agent")!.changed, 0, "the second run changed something on the agent");
    });

    it("upgrade.yml: drains the agent, waits for its running job to finish, switches the release, undrains it", async function () {
      needs(this, missing());
      assert.ok(agent, "needs the agent started by the test before");
      // A second release: the first with one more file, so another checksum and directory.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-release2-"));
      try {
        const top = unpackRelease(release, dir);
        fs.writeFileSync(path.join(top, "UPGRADE-TEST"), "second release\n");
        const next = path.join(dir, "next", path.basename(release));
        fs.mkdirSync(path.dirname(next));
        assert.equal(run("tar", ["-czf", next, "-C", dir, path.basename(top)]).status, 0);
        const before = fs.readlinkSync(path.join(x.agentInstall, "current"));

        const admin = connectAdmin(loadConfig(path.join(x.config, "coordinator.yaml")));
        try {
          const sleep = 6;
          const [jobId] = (
            await call(admin, admin.client.submitCommandJob, {
              force: false,
              name: "upgrade-test",
              steps: [{ name: "command", argv: ["sh", "-c", `sleep ${sleep}; echo survived`], timeoutS: 0, idleTimeoutS: 0 }],
              cores: 1,
              memory: 0,
              shm: 0,
              count: 1,
            })
          ).jobIds;
          await waitFor("the job to run on bf-agent", async () => (await findAgent(admin, "bf-agent"))?.attempts.length, 30_000, 100);
          const recap = await playbook(["-e", `beamflow_release=${next}`, "-e", "beamflow_coordinator_health_check=true"], "upgrade.yml");
          assert.equal(recap.get("bf-agent")!.failed, 0);

          const job = await call(admin, admin.client.getJob, { id: jobId });
          assert.equal(job.job!.status, "processed", JSON.stringify(job.job));
          assert.equal(job.attempts.length, 1, "the job ran once: its attempt was not stopped and retried");
          const switched = fs.lstatSync(path.join(x.agentInstall, "current")).mtimeMs / 1000;
          assert.ok(job.attempts[0].finishedAt <= switched, "the agent's release was switched only after its job had finished");
          const after = fs.readlinkSync(path.join(x.agentInstall, "current"));
          assert.notEqual(after, before);
          assert.ok(fs.existsSync(path.join(x.agentInstall, after, "UPGRADE-TEST")), "current is the new release");
          assert.ok(fs.existsSync(path.join(x.agentInstall, before, "RELEASE")), "the old release stays (beamflow_releases_kept)");
          assert.ok(fs.existsSync(path.join(x.install, after, "UPGRADE-TEST")), "the coordinator host was upgraded too");
          const me = (await findAgent(admin, "bf-agent"))!;
          assert.equal(me.drained, false, "undrained after the upgrade");
        } finally {
          admin.client.close();
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("the agent stops cleanly on SIGTERM (what systemd sends it with KillMode=mixed)", async function () {
      needs(this, missing());
      assert.ok(agent, "needs the agent started by the test before");
      const exited = new Promise<number | null>((r) => agent!.child.once("exit", (code) => r(code)));
      agent!.child.kill("SIGTERM");
      assert.equal(await exited, 0, agent!.log());
    });
  });

  describe("systemd units", () => {
    it("pass systemd-analyze verify without a warning", function () {
      needTools(this, "systemd-analyze");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-units-"));
      try {
        for (const unit of UNITS) {
          // verify checks that ExecStart's program exists: use this node if /usr/bin/node is not one.
          let text = fs.readFileSync(path.join(ROOT, "deploy", "systemd", `${unit}.service`), "utf8");
          if (!fs.existsSync("/usr/bin/node")) text = text.replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `);
          const file = path.join(dir, `${unit}.service`);
          fs.writeFileSync(file, text);
          const r = run("systemd-analyze", ["verify", file]);
          assert.equal(r.status, 0, `${unit}: ${r.stderr}`);
          assert.equal(r.stderr.trim(), "", `${unit}: systemd-analyze warned`);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("stop the agent the way it needs: SIGTERM to the main process, time to reap its steps", () => {
      const agent = directives(fs.readFileSync(path.join(ROOT, "deploy", "systemd", "beamflow-agent.service"), "utf8"));
      for (const d of ["KillMode=mixed", "KillSignal=SIGTERM", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=no"]) {
        assert.ok(agent.includes(d), `agent unit lacks ${d}`);
      }
      // Room for the graceful stop with the defaults: beams finish for stop_timeout_s, then the rest is handed back.
      const defaults = configSchema.parse({}).agent;
      assert.ok(Number(agent.find((d) => d.startsWith("TimeoutStopSec="))!.split("=")[1]) >= defaults.stop_timeout_s + defaults.kill_grace_s + 30);
      assert.match(agent.find((d) => d.startsWith("ReadWritePaths="))!, /\/tmp .*-\/dev\/shm\/beamflow$/);
      assert.ok(agent.includes("Environment=BEAMFLOW_CONFIG=/etc/beamflow/agent.yaml"));
    });

    it("are what the Ansible roles install with their default settings", async function () {
      this.timeout(60_000);
      needTools(this, "ansible-playbook");
      const r = await background("render", renderUnits);
      assert.equal(r.status, 0, tail(r.out));
      for (const u of UNITS) {
        assert.deepEqual(
          directives(r.rendered[u]),
          directives(fs.readFileSync(path.join(ROOT, "deploy", "systemd", `${u}.service`), "utf8")),
          `${u}: deploy/systemd and the role's template differ`,
        );
      }
    });
  });

  describe("pilot scripts", () => {
    it("parse (bash -n) and pass shellcheck when it is installed", function () {
      const shellcheck = which("shellcheck");
      if (!shellcheck) this.test!.title += " [shellcheck not installed: bash -n only]";
      for (const script of PILOTS) {
        const r = run("bash", ["-n", script]);
        assert.equal(r.status, 0, `${script}: ${r.stderr}`);
        if (shellcheck) {
          const s = run(shellcheck, ["--shell=bash", script]);
          assert.equal(s.status, 0, `${script}:\n${s.stdout}${s.stderr}`);
        }
      }
    });

    describe("against a real coordinator", function () {
      this.timeout(90_000);
      let cluster: Cluster;
      let scratch: string;
      before(async () => {
        cluster = await Cluster.create();
        await cluster.startCoordinator();
        scratch = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-pilot-"));
      });
      after(async () => {
        await cluster?.close();
        if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
      });

      const pilotEnv = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          BEAMFLOW_COORDINATOR: `127.0.0.1:${cluster.port}`,
          BEAMFLOW_HOME: ROOT,
          BEAMFLOW_NODE: process.execPath,
          BEAMFLOW_REGISTER: `${process.execPath} ${BIN} --config ${cluster.configPath} register-agent --rotate`,
          BEAMFLOW_SCRATCH: scratch,
          BEAMFLOW_LABELS: "site=test",
          ...extra,
        };
        delete env.BEAMFLOW_CONFIG;
        return env;
      };
      type Pilot = { child: ChildProcess; out: string; exit: Promise<number | null> };
      // Its own process group, so that a failed test can take the agent down with the script.
      const startPilot = (script: string, env: NodeJS.ProcessEnv): Pilot => {
        const child = spawn("bash", [script], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
        const p: Pilot = { child, out: "", exit: exitStatus(child) };
        child.stdout!.on("data", (d) => {
          p.out += d;
        });
        child.stderr!.on("data", (d) => {
          p.out += d;
        });
        return p;
      };
      const killGroup = (p: Pilot) => {
        try {
          process.kill(-p.child.pid!, "SIGKILL");
        } catch {
          /* gone already */
        }
      };
      const connected = async (id: string) => {
        const a = cluster.admin();
        const agent = await findAgent(a, id);
        return agent?.state === "connected" ? agent : undefined;
      };

      /** An ephemeral enrolment token for pilots, as an operator makes it: `token create --ephemeral`. */
      const enrolToken = (uses: number): string => {
        const file = path.join(scratch, `enrol-${crypto.randomBytes(4).toString("hex")}.token`);
        const r = cluster.cli(["token", "create", "--ttl", "15m", "--uses", String(uses), "--ephemeral", "--label", "pilots", "--token-file", file]);
        assert.equal(r.status, 0, r.stderr);
        return file;
      };
      const registered = async (id: string) => {
        const a = cluster.admin();
        return await findAgent(a, id);
      };

      it("Slurm: enrols a pilot agent with an enrolment token, runs it, stops it cleanly on SIGTERM (--signal=B:TERM) and leaves no agent registered", async () => {
        const job = String(70000 + (process.pid % 10000));
        const id = `pilot-${job}-${os
          .hostname()
          .split(".")[0]
          .replace(/[^A-Za-z0-9._-]/g, "-")}`;
        const enrol = enrolToken(1);
        // No ssh and no register command: the enrolment token is all the pilot has.
        const p = startPilot(PILOTS[0], pilotEnv({ SLURM_JOB_ID: job, SLURM_CPUS_ON_NODE: "3", BEAMFLOW_REGISTER: "false", BEAMFLOW_ENROL_TOKEN_FILE: enrol }));
        try {
          const agent = await waitFor(
            `pilot ${id} to connect`,
            async () => {
              if (p.child.exitCode !== null) throw new Error(`pilot exited ${p.child.exitCode}:\n${p.out}`);
              return connected(id);
            },
            30_000,
            200,
          );
          assert.equal(agent.cores, 3);
          assert.equal(agent.ephemeral, true, "enrolled as an ephemeral agent");
          assert.deepEqual(agent.labels, { slurm_job: job, site: "test" });
          assert.ok(fs.existsSync(`/dev/shm/beamflow-${job}`), "the agent's work base is per job");
          const token = path.join(scratch, `beamflow-${job}`, "pilot", "agent.token");
          assert.equal(fs.statSync(token).mode & 0o777, 0o600);
          p.child.kill("SIGTERM");
          assert.equal(await p.exit, 0, p.out);
        } finally {
          killGroup(p);
        }
        assert.match(p.out, /SIGTERM: stopping the agent/);
        assert.match(p.out, /agent exited with status 0/);
        assert.ok(!fs.existsSync(`/dev/shm/beamflow-${job}`), "work dirs removed");
        assert.ok(!fs.existsSync(path.join(scratch, `beamflow-${job}`)), "scratch removed");
        await waitFor(`pilot ${id} to be removed`, async () => (await registered(id)) === undefined);
        // Its one use spent: a second pilot with the same token is refused, says why and exits 2.
        const again = startPilot(PILOTS[0], pilotEnv({ SLURM_JOB_ID: String(Number(job) + 1), BEAMFLOW_REGISTER: "false", BEAMFLOW_ENROL_TOKEN_FILE: enrol }));
        try {
          assert.equal(await again.exit, 2, again.out);
        } finally {
          killGroup(again);
        }
        assert.match(again.out, /beamflow: the coordinator refused the enrolment of agent 'pilot-\d+-[^']+': enrolment token \d+ is used up \(1 use\)/);
        assert.match(again.out, /agent exited with status 2/);
      });

      it("Slurm: an unreadable BEAMFLOW_ENROL_TOKEN_FILE stops the pilot before it starts an agent", async () => {
        const p = startPilot(PILOTS[0], pilotEnv({ SLURM_JOB_ID: "69999", BEAMFLOW_ENROL_TOKEN_FILE: path.join(scratch, "no-such.token") }));
        try {
          assert.equal(await p.exit, 1, p.out);
        } finally {
          killGroup(p);
        }
        assert.match(p.out, /cannot read the enrolment token .*no-such\.token \(BEAMFLOW_ENROL_TOKEN_FILE\)/);
        assert.doesNotMatch(p.out, /starting on/);
      });

      it("PBS: stops its agent by itself BEAMFLOW_DRAIN_S before the walltime ends", async () => {
        const job = String(80000 + (process.pid % 10000));
        // 5:08 of walltime minus the default 300 s drain: the agent is stopped 8 s after the start.
        const p = startPilot(PILOTS[1], pilotEnv({ PBS_JOBID: `${job}[2].pbs01`, NCPUS: "2", BEAMFLOW_WALLTIME: "5:08" }));
        const id = `pilot-${job}-2-${os
          .hostname()
          .split(".")[0]
          .replace(/[^A-Za-z0-9._-]/g, "-")}`;
        try {
          assert.equal(await Promise.race([p.exit, new Promise((r) => setTimeout(() => r("still running"), 40_000))]), 0, p.out);
        } finally {
          killGroup(p);
        }
        assert.match(p.out, /walltime 5:08: the agent is stopped 300 s before it ends/);
        if (p.out.includes("starting on")) {
          assert.match(p.out, /walltime ends in 300 s: stopping the agent/);
          assert.match(p.out, /agent exited with status 0/);
        } else {
          // A machine so busy that registering took 8 s: the pilot must then not start at all.
          assert.match(p.out, /not starting the agent/);
        }
        const a = cluster.admin();
        assert.ok(
          (await listAgents(a)).some((x) => x.id === id),
          `${id} was registered`,
        );
        assert.ok(!fs.existsSync(`/dev/shm/beamflow-${job}-2`), "work dirs removed");
      });
    });
  });

  describe("ansible checks", function () {
    this.timeout(60_000);

    it("site.yml passes ansible-playbook --syntax-check with the example inventory", async function () {
      needTools(this, "ansible-playbook");
      const r = await background("syntax", syntaxCheck);
      assert.equal(r.status, 0, r.out);
    });

    it("passes ansible-lint --offline with the production profile", async function () {
      needTools(this, "ansible-lint");
      const r = await background("lint", lint);
      assert.equal(r.status, 0, tail(r.out));
      assert.match(r.out, /Passed with production profile/);
    });
  });
});
