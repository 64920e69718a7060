// Enrolment and revocation on real processes: an agent started with an enrolment token
// enrols once and then uses its own credential; an expired or used-up token, or an id
// that is registered already, is refused and the agent exits saying why; a revoked agent
// is cut off within one heartbeat, its running beam requeued (not counted) and finished by
// another agent, and its credential refused on reconnect; `agents remove` is refused while
// the agent is connected and works after; an ephemeral agent is removed when it leaves
// cleanly, and when it is gone longer than coordinator.ephemeral_gone_s.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { call } from "../../cli/admin-client";
import type { AgentView } from "../../shared/gen/admin";
import { BIN, Cluster, waitFor } from "../support/cluster";
import { listAgents } from "../../cli/agent-listing";
import { exitStatus } from "../support/exit-status";

/** Runs `beamflow --config FILE agent` until it exits (it must, for a refused agent). */
function agentToExit(file: string, timeoutMs = 60_000): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "--config", file, "agent"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the agent did not exit within ${timeoutMs} ms: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    void exitStatus(child).then((status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

/** The one line the CLI prints when it gives up ("beamflow: …"). */
const said = (stderr: string) => stderr.split("\n").find((l) => l.startsWith("beamflow: ")) ?? `(no such line in: ${stderr.slice(-1500)})`;

describe("security: enrolment and revocation", function () {
  this.timeout(180_000);
  const GONE_S = 3;
  let cluster: Cluster;

  before(async () => {
    cluster = await Cluster.create({ coordinator: { ephemeral_gone_s: GONE_S } });
    await cluster.startCoordinator();
  });
  after(async () => {
    await cluster?.close();
  });

  const agents = async (): Promise<AgentView[]> => {
    const a = cluster.admin();
    return await listAgents(a);
  };
  const agent = async (id: string) => (await agents()).find((x) => x.id === id);

  /** `token create` through the CLI; the secret goes to a file, as an operator would hand it out. */
  function createToken(name: string, args: string[]): string {
    const file = path.join(cluster.dir, `${name}.enrol`);
    const r = cluster.cli(["token", "create", ...args, "--token-file", file]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    return file;
  }

  /** An agent config that has no credential yet, only an enrolment token (as a pilot's). */
  function enrollingAgent(id: string, enrolTokenFile: string, extra: Record<string, unknown> = {}): { config: string; tokenFile: string } {
    const tokenFile = path.join(cluster.dir, `${id}.token`);
    const config = path.join(cluster.dir, `${id}.yaml`);
    const cfg = {
      data_dir: path.join(cluster.dir, id),
      agent: {
        id,
        coordinator: `127.0.0.1:${cluster.port}`,
        token_file: tokenFile,
        enrol_token_file: enrolTokenFile,
        work_base: path.join(cluster.dir, `${id}-work`),
        heartbeat_s: 0.5,
        reconnect_initial_s: 0.1,
        reconnect_max_s: 1,
        kill_grace_s: 1,
        cores: 2,
        ...extra,
      },
    };
    fs.writeFileSync(config, YAML.stringify(cfg));
    return { config, tokenFile };
  }

  it("checks every argument before sending: one line naming it, exit 64", () => {
    const cases: [string[], RegExp][] = [
      [["token", "create"], /required option '--ttl/],
      [["token", "create", "--ttl", "15"], /not a duration: '15'/],
      [["token", "create", "--ttl", "15x"], /not a duration/],
      [["token", "create", "--ttl", "400d"], /too long \(at most 366d\)/],
      [["token", "create", "--ttl", "0s"], /too short/],
      [["token", "create", "--ttl", "15m", "--uses", "0"], /'0' is too small \(at least 1\)/],
      [["token", "create", "--ttl", "15m", "--uses", "2.5"], /not a whole number/],
      [["token", "create", "--ttl", "15m", "--label", ""], /--label is empty/],
      [["token", "revoke", "x"], /not an enrolment token id: 'x'/],
      [["token", "revoke", "0"], /not an enrolment token id/],
      [["agents", "revoke", "a b"], /not an agent id/],
      [["agents", "remove", "../x"], /not an agent id/],
      [["agents", "revoke"], /missing required argument 'agent'/],
    ];
    for (const [args, re] of cases) {
      const r = cluster.cli(args);
      assert.equal(r.status, 64, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
    }
    // What the coordinator cannot find or refuses: 66 and 65.
    assert.equal(cluster.cli(["token", "revoke", "9999"]).status, 66);
    assert.equal(cluster.cli(["agents", "revoke", "nobody"]).status, 66);
    assert.equal(cluster.cli(["agents", "remove", "nobody"]).status, 66);
  });

  it("an agent enrols once, keeps its own credential (0600) and restarts without enrolling again", async () => {
    const enrol = createToken("once", ["--ttl", "15m", "--uses", "1", "--label", "node07 by hand"]);
    const { tokenFile } = enrollingAgent("node07", enrol);
    const p = await cluster.startAgent("node07");
    const credential = fs.readFileSync(tokenFile, "utf8").trim();
    assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
    assert.notEqual(credential, fs.readFileSync(enrol, "utf8").trim(), "its own credential, not the enrolment token");
    assert.deepEqual(
      fs.readdirSync(cluster.dir).filter((f) => f.includes(".tmp")),
      [],
      "written atomically: no temporary left",
    );
    const list = JSON.parse(cluster.cli(["token", "list", "--json"]).stdout) as { label: string; usesLeft: number; state: string; id: number }[];
    const t = list.find((x) => x.label === "node07 by hand")!;
    assert.equal(t.usesLeft, 0);
    assert.equal(t.state, "used_up");
    assert.ok(!cluster.cli(["token", "list"]).stdout.includes(fs.readFileSync(enrol, "utf8").trim()), "no secret listed");
    assert.equal((await agent("node07"))!.enrolledBy, t.id);

    // The token is used up: a restart that enrolled again would be refused. It connects.
    await Cluster.kill(p, "SIGTERM");
    await cluster.startAgent("node07");
    assert.equal(fs.readFileSync(tokenFile, "utf8").trim(), credential, "the credential is kept");
  });

  it("a token used more times than --uses is refused; the agent exits 2 saying so", async () => {
    const enrol = createToken("twice", ["--ttl", "15m", "--uses", "2"]);
    for (const id of ["tw1", "tw2"]) {
      enrollingAgent(id, enrol);
      await cluster.startAgent(id);
    }
    const { config, tokenFile } = enrollingAgent("tw3", enrol);
    const r = await agentToExit(config);
    assert.equal(r.status, 2, r.stderr.slice(-1500));
    assert.match(said(r.stderr), /refused the enrolment of agent 'tw3': enrolment token \d+ is used up \(2 uses\)/);
    assert.ok(!fs.existsSync(tokenFile), "no credential written");
    assert.equal(await agent("tw3"), undefined, "nothing registered");
  });

  it("an expired token is refused; so is a revoked one, and one taking over a registered agent's id", async () => {
    const expired = createToken("short", ["--ttl", "1s"]);
    await new Promise((r) => setTimeout(r, 1500));
    const r1 = await agentToExit(enrollingAgent("late", expired).config);
    assert.equal(r1.status, 2, r1.stderr.slice(-1500));
    assert.match(said(r1.stderr), /enrolment token \d+ expired at \d{4}-\d\d-\d\dT/);

    const revoked = createToken("revoked", ["--ttl", "15m", "--uses", "5"]);
    const id = (JSON.parse(cluster.cli(["token", "list", "--json"]).stdout) as { id: number }[]).at(-1)!.id;
    const rv = cluster.cli(["token", "revoke", String(id)]);
    assert.equal(rv.status, 0, rv.stderr);
    assert.equal(cluster.cli(["token", "revoke", String(id)]).status, 65, "revoked already");
    const r2 = await agentToExit(enrollingAgent("rv1", revoked).config);
    assert.equal(r2.status, 2);
    assert.match(said(r2.stderr), /enrolment token \d+ was revoked at/);

    // A registered agent cannot be taken over by enrolling under its id.
    cluster.registerAgent("fixed01");
    const fresh = createToken("fresh", ["--ttl", "15m"]);
    // A node that has no copy of fixed01's credential, only the enrolment token.
    fs.rmSync(path.join(cluster.dir, "fixed01.yaml"));
    fs.rmSync(path.join(cluster.dir, "fixed01.token"));
    const r3 = await agentToExit(enrollingAgent("fixed01", fresh, {}).config);
    assert.equal(r3.status, 2);
    assert.match(said(r3.stderr), /agent 'fixed01' is registered already: enrolment cannot take over a registered agent/);
    const left = (JSON.parse(cluster.cli(["token", "list", "--json"]).stdout) as { usesLeft: number }[]).at(-1)!;
    assert.equal(left.usesLeft, 1, "a refused takeover spends no use");
  });

  it("a revoked agent is cut off within one heartbeat; its beam is requeued, not counted, and finished by another agent", async () => {
    const HEARTBEAT_S = 2;
    const victim = "victim01";
    // Only the victim takes beams meanwhile: the others are drained.
    for (const x of await agents()) if (x.state === "connected") assert.equal(cluster.cli(["drain", x.id]).status, 0);
    await cluster.startAgent(victim, { heartbeat_s: HEARTBEAT_S, cores: 1 });
    const victimProc = cluster.agents.get(victim)!;
    const exited = new Promise<number | null>((r) => victimProc.child.on("exit", (code) => r(code)));
    const [jobId] = await cluster.submit(["sh", "-c", "sleep 4; echo searched"]);
    await cluster.waitForJobs((js) => js.some((j) => j.id === jobId && j.status === "submitted" && j.agentId === victim), "the job to run on the victim");
    await waitFor("the attempt to run", async () => (await agent(victim))?.attempts.length === 1);

    const r = await cluster.cliAsync(["agents", "revoke", victim]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`agent ${victim}: revoked; its stream was closed; attempt \\d+ requeued \\(not counted\\)`));
    const v = (await agent(victim))!;
    assert.equal(v.state, "revoked");
    assert.match(v.noBeamsReason, /revoked/);
    // The agent hears it, says so and exits 2 (the wait is generous; the bound is below).
    await waitFor("the victim to say it was revoked", async () => victimProc.stderr.some((l) => l.includes("was revoked by an operator")), 30_000, 20);
    assert.equal(
      await Promise.race([exited, new Promise((res) => setTimeout(() => res("still running"), 60_000))]),
      2,
      victimProc.stderr.slice(-20).join("\n"),
    );
    assert.ok(
      victimProc.stderr.some((l) => /^beamflow: agent 'victim01' was revoked by an operator/.test(l)),
      "one clear line",
    );
    // Within one heartbeat (with slack for a busy machine): from the coordinator's revocation to
    // the agent's refusal, by the two processes' own log times (one host, one clock).
    const logTime = (lines: string[], re: RegExp) => {
      const line = lines.find((l) => l.startsWith("{") && re.test(l));
      assert.ok(line, `a log line matching ${re}`);
      return (JSON.parse(line) as { time: number }).time;
    };
    const revokedAt = logTime(cluster.coordinator!.stderr, /"msg":"agent revoked/);
    const refusedAt = logTime(victimProc.stderr, /"msg":"the coordinator refused this agent's credentials"/);
    const cutOffMs = refusedAt - revokedAt;
    assert.ok(cutOffMs >= 0 && cutOffMs <= HEARTBEAT_S * 1000 + 2000, `cut off ${cutOffMs} ms after the revocation (heartbeat ${HEARTBEAT_S} s)`);
    console.log(`      revoked → the agent refused: ${cutOffMs} ms (heartbeat ${HEARTBEAT_S} s)`);

    // The beam goes back to the queue, not counted, and another agent finishes it.
    const after = (await cluster.jobs()).find((j) => j.id === jobId)!;
    assert.ok(after.status === "retrying" || after.status === "new", after.status);
    await cluster.startAgent("rescuer01");
    await cluster.waitForJobs((js) => js.some((j) => j.id === jobId && j.status === "processed"), "the requeued job to finish elsewhere", 60_000);
    const a = cluster.admin();
    const job = await call(a, a.client.getJob, { id: jobId, summaryOnly: true });
    assert.equal(job.job!.failures, 0, "not counted against the beam");
    const mine = job.attempts.filter((x) => x.agentId === victim);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].status, "lost");
    assert.equal(mine[0].counted, false);
    assert.match(mine[0].details, /revoked/);
    assert.equal(job.attempts.at(-1)!.agentId, "rescuer01");
    assert.equal(job.attempts.at(-1)!.status, "processed");

    // Its credential stays refused: a restart exits 2 at once instead of retrying.
    const again = await agentToExit(path.join(cluster.dir, `${victim}.yaml`));
    assert.equal(again.status, 2);
    assert.match(said(again.stderr), /agent 'victim01' was revoked by an operator/);

    // Removed, its attempt's history still names it.
    const rm = cluster.cli(["agents", "remove", victim]);
    assert.equal(rm.status, 0, rm.stderr);
    assert.match(rm.stdout, /removed \(its attempts' history still names it\)/);
    assert.equal(await agent(victim), undefined, "gone from agents");
    const jobAfter = cluster.cli(["job", String(jobId)]);
    assert.equal(jobAfter.status, 0, jobAfter.stderr);
    assert.match(jobAfter.stdout, /victim01/);
    const gone = await agentToExit(path.join(cluster.dir, `${victim}.yaml`));
    assert.equal(gone.status, 2);
    assert.match(said(gone.stderr), /agent 'victim01' was removed/);
  });

  it("remove is refused while the agent is connected, and works once it is gone", async () => {
    const p = await cluster.startAgent("stayer01");
    const r1 = cluster.cli(["agents", "remove", "stayer01"]);
    assert.equal(r1.status, 65);
    assert.match(r1.stderr, /^beamflow: agent stayer01 is connected: stop it first, or revoke it/);
    await Cluster.kill(p, "SIGTERM");
    await waitFor("stayer01 to be disconnected", async () => (await agent("stayer01"))?.state === "disconnected");
    const r2 = cluster.cli(["agents", "remove", "stayer01"]);
    assert.equal(r2.status, 0, r2.stderr);
    assert.equal(r2.stdout.trim(), "agent stayer01: removed");
    assert.equal(await agent("stayer01"), undefined);
    assert.equal(cluster.cli(["agents", "remove", "stayer01"]).status, 66);
  });

  it("an ephemeral agent is removed when it stops cleanly, and when it is gone longer than ephemeral_gone_s", async () => {
    const enrol = createToken("pilots", ["--ttl", "15m", "--uses", "2", "--ephemeral", "--label", "pilots"]);
    enrollingAgent("eph01", enrol);
    const p = await cluster.startAgent("eph01");
    assert.equal((await agent("eph01"))!.ephemeral, true);
    assert.match(cluster.cli(["agents"]).stdout, /connected \(ephemeral\)/);
    await Cluster.kill(p, "SIGTERM");
    assert.equal(p.child.exitCode, 0);
    // Removed as it leaves: no wait for ephemeral_gone_s.
    await waitFor("eph01 to be removed", async () => (await agent("eph01")) === undefined, 10_000, 50);

    // One that dies without a word is removed once it has been gone GONE_S.
    enrollingAgent("eph02", enrol);
    const q = await cluster.startAgent("eph02");
    await Cluster.kill(q, "SIGKILL");
    await waitFor("eph02 to be disconnected", async () => (await agent("eph02"))?.state !== "connected", 30_000);
    assert.ok(await agent("eph02"), "still there just after it died");
    await waitFor("eph02 to be removed", async () => (await agent("eph02")) === undefined, (GONE_S * 3 + 30) * 1000, 200);
  });
});

describe("security: enrolment under mutual TLS, with the certificates docs/security.md makes", function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let pki: string;

  /** The doc's openssl commands, run as written (only the host and the agent id set for this test). */
  function docCertificates(dir: string, ids: string[]): void {
    const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "security.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Certificates with openssl"));
    const block = /```sh\n([\s\S]*?)```/.exec(section)![1];
    assert.match(block, /^host=coord\.example\.org$/m);
    assert.match(block, /^id=node01$/m);
    const [ca, rest] = [block.slice(0, block.indexOf("# The coordinator")), block.slice(block.indexOf("# The coordinator"))];
    const [coordinator, agent] = [rest.slice(0, rest.indexOf("# Each agent")), rest.slice(rest.indexOf("# Each agent"))];
    const script = [
      "set -euo pipefail",
      ca,
      coordinator.replace(/^host=coord\.example\.org$/m, "host=localhost"),
      ...ids.map((id) => agent.replace(/^id=node01$/m, `id=${id}`)),
    ].join("\n");
    const r = spawnSync("bash", ["-c", script], { cwd: dir, encoding: "utf8" });
    assert.equal(r.status, 0, `the doc's commands: ${r.stderr}`);
    for (const id of ids) assert.match(r.stdout, new RegExp(`${id}\\.pem: OK`));
  }

  before(async () => {
    pki = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-docpki-"));
    docCertificates(pki, ["tls01", "tls02"]);
    const f = (n: string) => path.join(pki, n);
    cluster = await Cluster.create({ coordinator: { tls: { ca: f("ca.pem"), cert: f("coordinator.pem"), key: f("coordinator.key") } } });
    await cluster.startCoordinator();
  });
  after(async () => {
    await cluster?.close();
    if (pki) fs.rmSync(pki, { recursive: true, force: true });
  });

  function tlsAgent(id: string, certOf: string, enrol: string): string {
    const config = path.join(cluster.dir, `${id}.yaml`);
    const f = (n: string) => path.join(pki, n);
    fs.writeFileSync(
      config,
      YAML.stringify({
        data_dir: path.join(cluster.dir, id),
        agent: {
          id,
          coordinator: `localhost:${cluster.port}`,
          token_file: path.join(cluster.dir, `${id}.token`),
          enrol_token_file: enrol,
          tls: { ca: f("ca.pem"), cert: f(`${certOf}.pem`), key: f(`${certOf}.key`) },
          work_base: path.join(cluster.dir, `${id}-work`),
          heartbeat_s: 0.5,
          reconnect_initial_s: 0.1,
          reconnect_max_s: 1,
          cores: 1,
        },
      }),
    );
    return config;
  }

  it("an agent whose certificate names it enrols and connects; one presenting another agent's certificate is refused", async () => {
    const enrol = path.join(cluster.dir, "tls.enrol");
    assert.equal(cluster.cli(["token", "create", "--ttl", "10m", "--uses", "3", "--token-file", enrol]).status, 0);
    tlsAgent("tls01", "tls01", enrol);
    await cluster.startAgent("tls01");
    // tls02's enrolment token is good, but the certificate it presents is tls01's.
    const r = await agentToExit(tlsAgent("tls02", "tls01", enrol));
    assert.equal(r.status, 2, r.stderr.slice(-1500));
    assert.match(said(r.stderr), /refused the enrolment of agent 'tls02': agent 'tls02': its TLS client certificate names 'tls01'/);
    const left = (JSON.parse(cluster.cli(["token", "list", "--json"]).stdout) as { usesLeft: number }[])[0];
    assert.equal(left.usesLeft, 2, "the refused enrolment spent no use");
  });
});
