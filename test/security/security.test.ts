// Security on real processes: under mutual TLS a certificate must name the agent it
// authenticates; an agent refused at the TLS handshake says why and exits; one coordinator
// per tracker file whatever path names it; command-template values never reach a shell as
// code; the status page's cookie is a session of its own. (The agent's read-only metrics
// token: test/http/agent-metrics.test.ts.)
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { BIN, Cluster, freePort } from "../support/cluster";
import { exitStatus } from "../support/exit-status";

function runToExit(args: string[], timeoutMs = 30_000): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${args.join(" ")} did not exit within ${timeoutMs} ms: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    void exitStatus(child).then((status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    });
  });
}

/** A CA and certificates signed by it, made with openssl. */
class Pki {
  constructor(
    readonly dir: string,
    readonly name: string,
  ) {
    fs.mkdirSync(dir, { recursive: true });
    this.openssl([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      this.file("ca.key"),
      "-out",
      this.file("ca.pem"),
      "-subj",
      `/CN=${name}`,
      "-days",
      "2",
    ]);
  }
  file(f: string): string {
    return path.join(this.dir, `${this.name}-${f}`);
  }
  private openssl(args: string[]): void {
    execFileSync("openssl", args, { stdio: "ignore" });
  }
  /** A certificate for `cn` (with these subjectAltNames), valid for `days` (negative: expired). */
  issue(cn: string, days = 2, san = ""): { cert: string; key: string } {
    const key = this.file(`${cn}.key`);
    const csr = this.file(`${cn}.csr`);
    const cert = this.file(`${cn}.pem`);
    this.openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", `/CN=${cn}`]);
    const ext = this.file(`${cn}.ext`);
    fs.writeFileSync(ext, san ? `subjectAltName=${san}\n` : "basicConstraints=CA:FALSE\n");
    this.openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      this.file("ca.pem"),
      "-CAkey",
      this.file("ca.key"),
      "-CAcreateserial",
      "-out",
      cert,
      "-days",
      String(days),
      "-extfile",
      ext,
    ]);
    return { cert, key };
  }
}

describe("security: mutual TLS", function () {
  this.timeout(120_000);
  let cluster: Cluster;
  let pki: Pki;
  let other: Pki;
  let pkiDir: string;
  let tlsFor: (cn: string, o?: { days?: number; other?: Pki }) => { ca: string; cert: string; key: string; server_name: string };

  before(async () => {
    pkiDir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-pki-"));
    pki = new Pki(pkiDir, "survey-ca");
    other = new Pki(pkiDir, "other-ca");
    const server = pki.issue("localhost", 2, "DNS:localhost,IP:127.0.0.1");
    tlsFor = (cn, o = {}) => ({ ca: pki.file("ca.pem"), ...(o.other ?? pki).issue(cn, o.days ?? 2), server_name: "localhost" });
    cluster = await Cluster.create({ coordinator: { tls: { ca: pki.file("ca.pem"), ...server } } });
    await cluster.startCoordinator();
  });
  after(async () => {
    await cluster?.close();
    fs.rmSync(pkiDir, { recursive: true, force: true });
  });

  /** Registers `id` and runs its agent with these TLS files (none: plain gRPC) until it exits. */
  async function refusedAgent(id: string, tls: ReturnType<typeof tlsFor> | undefined): Promise<string> {
    const file = cluster.registerAgent(id, tls ? { tls } : {});
    const r = await runToExit(["--config", file, "agent"]);
    assert.equal(r.status, 2, `the agent exits at once instead of retrying: ${r.stderr.slice(-1500)}`);
    const said = r.stderr.split("\n").find((l) => l.startsWith("beamflow: "));
    assert.ok(said, `one line saying why: ${r.stderr.slice(-1500)}`);
    return said;
  }

  it("an agent whose certificate names it connects", async () => {
    await cluster.startAgent("node1", { tls: tlsFor("node1") });
  });

  it("node1's certificate with node2's id and token is refused as node2", async () => {
    const node1 = cluster.registerAgent("node1x", { tls: tlsFor("node1x") });
    const tls = YAML.parse(fs.readFileSync(node1, "utf8")).agent.tls;
    const line = await refusedAgent("node2", tls);
    assert.match(line, /agent 'node2': its TLS client certificate names 'node1x', not 'node2'/);
  });

  it("a certificate of another CA: the agent says the coordinator does not trust it, and exits", async () => {
    const line = await refusedAgent("node3", tlsFor("node3", { other }));
    assert.match(
      line,
      /refused this agent's certificate .*node3\.pem \(CN=node3, issued by CN=other-ca\): it closed the connection after the handshake, so it does not trust the CA that signed it/,
    );
  });

  it("an expired certificate: the agent says so, and exits", async () => {
    const line = await refusedAgent("node4", tlsFor("node4", { days: -1 }));
    assert.match(line, /this agent's certificate .*node4\.pem \(CN=node4, issued by CN=survey-ca\) expired on /);
  });

  it("no certificate at all: the agent says the coordinator requires one, and exits", async () => {
    const line = await refusedAgent("node5", undefined);
    assert.match(line, /requires TLS with a client certificate, and this agent has no certificate/);
  });
});

describe("security: the tracker, command templates, the status page", function () {
  this.timeout(120_000);
  let cluster: Cluster;

  before(async () => {
    cluster = await Cluster.create({
      jobs: {
        type: "commands",
        commands: [
          { name: "shell", argv: ["sh", "-c", "echo beam={beam}; ls; for f in {files}; do echo file=$f; done"] },
          { name: "plain", argv: ["printf", "plain=%s\\n", "{beam}"] },
        ],
      },
    });
    await cluster.startCoordinator();
  });
  after(async () => cluster?.close());

  it("a symbolic link to a live tracker does not start a second coordinator on it", async () => {
    const link = path.join(cluster.dir, "tracker-link.db");
    fs.symlinkSync(path.join(cluster.dataDir, "tracker.db"), link);
    const second = path.join(cluster.dir, "second.yaml");
    fs.writeFileSync(
      second,
      YAML.stringify({
        data_dir: path.join(cluster.dir, "second"),
        coordinator: { db: link, listen: `127.0.0.1:${await freePort()}`, http_listen: "" },
      }),
    );
    const r = await runToExit(["--config", second, "coordinator"], 20_000);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /tracker-link\.db is in use by another coordinator \(pid \d+/);
  });

  it("a raw file named obs$(touch pwned).fits runs nothing, even through sh -c", async () => {
    await cluster.startAgent("node1");
    const evil = path.join(cluster.dir, "obs$(touch pwned).fits");
    fs.writeFileSync(evil, "not a beam, a name\n");
    const r = cluster.cli(["add-files", evil]);
    assert.equal(r.status, 0, r.stderr);
    const [job] = await cluster.waitForJobs((js) => js[0]?.status === "processed", "the job to run", 60_000);
    const log = cluster.cli(["logs", String(job.id)]).stdout;
    assert.match(log, /beam=obs\$\(touch pwned\)\r?\n/, log);
    assert.match(log, /file=.*\/obs\$\(touch pwned\)\.fits\r?\n/, log);
    assert.match(log, /plain=obs\$\(touch pwned\)\r?\n/, log);
    assert.doesNotMatch(log, /^pwned\r?$/m, "ls shows no file made by the name");
  });

  it("the status page's cookie is a session of its own, not the admin token, and does not outlive its coordinator", async () => {
    const url = () => {
      const line = cluster.coordinator!.stderr.find((l) => l.includes("status page and metrics listening"))!;
      return JSON.parse(line).url as string;
    };
    const token = fs.readFileSync(path.join(cluster.dataDir, "admin.token"), "utf8").trim();
    const r = await fetch(`${url()}/api/snapshot?token=${encodeURIComponent(token)}`, { redirect: "manual" });
    assert.equal(r.status, 303);
    const setCookie = r.headers.get("set-cookie") ?? "";
    const cookie = setCookie.split(";")[0];
    assert.match(setCookie, /^beamflow_session=[A-Za-z0-9_-]{40,}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=\d+/);
    assert.ok(!setCookie.includes(token) && !setCookie.includes(encodeURIComponent(token)), "the token is not in the cookie");
    assert.equal((await fetch(`${url()}/api/snapshot`, { headers: { cookie } })).status, 200);
    for (const forged of [`beamflow_session=${token}`, `beamflow_admin=${token}`, "beamflow_session=made-up"])
      assert.equal((await fetch(`${url()}/api/snapshot`, { headers: { cookie: forged } })).status, 401, forged);
    await Cluster.kill(cluster.coordinator, "SIGTERM");
    await cluster.startCoordinator();
    assert.equal((await fetch(`${url()}/api/snapshot`, { headers: { cookie } })).status, 401, "sessions are the coordinator's, in its memory");
  });
});
