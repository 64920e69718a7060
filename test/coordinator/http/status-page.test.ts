// The operators' HTTP side over real processes: an in-process coordinator with
// startHttp, one real agent process running a job that fails and one that prints
// slowly; /metrics through the token check, the log SSE, and the status page in
// real headless Chromium (playwright-core), including a live log followed.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { chromium, type Browser } from "playwright-core";
import { Coordinator, ensureAdminToken } from "../../../coordinator/server";
import { createTracker } from "../../../coordinator/tracker/open";
import { startHttp, type HttpServer } from "../../../coordinator/http/server";
import type { Snapshot } from "../../../coordinator/http/snapshot";
import { defaultConfig } from "../../../shared/config/load";
import { silentLogger } from "../../../shared/logging/logger";
import { BIN, freePort, waitFor } from "../../support/cluster";
import { SearchPhase } from "../../../shared/gen/agent";

const CHROMIUM = "/usr/bin/chromium";
const EVIL_BEAM = `<img src=x onerror="window.__pwned=1">p2030.beam`;

/** Reads SSE events from a fetch body until `until` says stop (or the stream ends). */
async function readSse(
  res: Response,
  until: (ev: { event: string; data: string }[]) => boolean,
  timeoutMs = 10_000,
): Promise<{ event: string; data: string }[]> {
  const events: { event: string; data: string }[] = [];
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  const timer = setTimeout(() => void reader.cancel(), timeoutMs);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = block
          .split("\n")
          .filter((l) => l.startsWith("data: "))
          .map((l) => l.slice(6))
          .join("\n");
        if (event) events.push({ event, data });
      }
      if (until(events)) break;
    }
  } finally {
    clearTimeout(timer);
    await reader.cancel().catch(() => {});
  }
  return events;
}

describe("status page and metrics (real coordinator, agent and browser)", function () {
  this.timeout(40_000);
  let dir: string;
  let coordinator: Coordinator;
  let web: HttpServer;
  let token: string;
  let agent: ChildProcess | undefined;
  let agentErr = "";
  let failedJob: number;
  let slowJob: number;

  before(async function () {
    this.timeout(30_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-http-"));
    const cfg = defaultConfig(path.join(dir, "coordinator"), {
      coordinator: { listen: `127.0.0.1:${await freePort()}`, http_listen: "" },
      jobs: { type: "commands", max_attempts: 1 },
      logging: { level: "silent" },
    });
    createTracker(cfg.coordinator.db);
    coordinator = await Coordinator.start(cfg, { log: silentLogger() });
    token = ensureAdminToken(cfg);
    web = await startHttp(coordinator.core, { listen: "127.0.0.1:0", token, log: silentLogger(), snapshotEveryMs: 30_000 }); // so /events updates below come from job changes

    const core = coordinator.core;
    const agentToken = core.tracker.registerAgent("node1", false);
    fs.writeFileSync(path.join(dir, "node1.token"), agentToken + "\n", { mode: 0o600 });
    const agentCfg = path.join(dir, "node1.yaml");
    fs.writeFileSync(
      agentCfg,
      YAML.stringify({
        data_dir: path.join(dir, "node1"),
        logging: { level: "warn" },
        agent: {
          id: "node1",
          coordinator: coordinator.agentAddress,
          token_file: path.join(dir, "node1.token"),
          work_base: path.join(dir, "node1-work"),
          heartbeat_s: 0.5,
          reconnect_initial_s: 0.1,
          reconnect_max_s: 1,
          kill_grace_s: 1,
          cores: 4,
        },
      }),
    );
    agent = spawn(process.execPath, [BIN, "--config", agentCfg, "agent"], { stdio: ["ignore", "ignore", "pipe"] });
    agent.stderr!.on("data", (d) => (agentErr += d));
    await waitFor(
      "the agent to connect",
      () => {
        if (agent!.exitCode !== null) throw new Error(`agent exited: ${agentErr}`);
        const a = core.registry.find("node1");
        return a?.connected && a.resources ? a : undefined;
      },
      20_000,
    );

    const command = (beam: string, script: string) =>
      core.tracker.createJob({
        beam,
        jobType: "commands",
        spec: { commands: [{ name: "command", argv: ["sh", "-c", script], timeout_s: 0, idle_timeout_s: 0 }] },
        reservation: { cores: 1, memory: 0, shm: 0 },
      });
    failedJob = command(EVIL_BEAM, "echo first-line; echo oops-log-line; echo 'disk full <b>here</b>' >&2; exit 3");
    // Long enough to outlive the test; it is killed with the agent.
    slowJob = command("p2030.slow.beam", 'i=0; while [ $i -lt 200 ]; do i=$((i+1)); echo "slow-line-$i"; sleep 0.2; done');
    core.dispatcher.schedule();
    await waitFor(
      "the failing job to fail and the slow one to print",
      () => {
        const f = core.tracker.job(failedJob);
        const s = core.tracker.job(slowJob);
        const running = s?.current_attempt_id ? core.tracker.attempt(s.current_attempt_id) : undefined;
        return f?.status === "terminal_failure" && running?.status === "running" && core.logs.size(running.id) > 0;
      },
      20_000,
      50,
    );
  });

  after(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once("exit", r));
      agent.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (agent.exitCode === null) agent.kill("SIGKILL");
    }
    await web?.close();
    await coordinator?.stop();
    if (!process.env.BEAMFLOW_KEEP_TEST_DIRS) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses to listen on a non-loopback address, pointing at the missing TLS", async () => {
    await assert.rejects(startHttp(coordinator.core, { listen: "0.0.0.0:0", token, log: silentLogger() }), /non-loopback.*TLS/s);
    await assert.rejects(startHttp(coordinator.core, { listen: "10.1.2.3:7051", token, log: silentLogger() }), /non-loopback/);
  });

  it("/metrics: 401 without the token; with it, job and attempt states, agents, dispatch and log bytes", async () => {
    const none = await fetch(`${web.url}/metrics`);
    assert.equal(none.status, 401);
    assert.match(await none.text(), /admin token required/);
    assert.equal((await fetch(`${web.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status, 401);
    assert.equal((await fetch(`${web.url}/metrics?token=wrong`, { redirect: "manual" })).status, 401);

    const res = await fetch(`${web.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
    const body = await res.text();
    const value = (series: string) => {
      const line = body.split("\n").find((l) => l.startsWith(series + " "));
      assert.ok(
        line,
        `no series ${series} in:\n${body
          .split("\n")
          .filter((l) => l.startsWith("beamflow_"))
          .join("\n")}`,
      );
      return Number(line.slice(series.length + 1));
    };
    assert.equal(value('beamflow_jobs{state="terminal_failure"}'), 1);
    assert.equal(value('beamflow_jobs{state="submitted"}'), 1);
    assert.equal(value('beamflow_jobs{state="new"}'), 0);
    assert.equal(value('beamflow_jobs{state="processed"}'), 0);
    assert.equal(value('beamflow_attempts{state="processing_failed"}'), 1);
    assert.equal(value('beamflow_attempts{state="running"}'), 1);
    assert.equal(value("beamflow_agents_connected"), 1);
    assert.equal(value("beamflow_agents_registered"), 1);
    assert.equal(value('beamflow_agent_cores{agent="node1"}'), 4);
    assert.equal(value('beamflow_agent_cores_reserved{agent="node1"}'), 1);
    assert.ok(Date.now() / 1000 - value('beamflow_agent_last_heartbeat_timestamp_seconds{agent="node1"}') < 5);
    assert.equal(value("beamflow_dispatch_latency_seconds_count"), 2);
    assert.ok(value("beamflow_dispatch_latency_seconds_sum") < 5);
    assert.ok(value("beamflow_log_bytes_stored_total") >= "first-line\noops-log-line\n".length);
    assert.match(body, /^process_resident_memory_bytes \d+/m);
    assert.equal(value('beamflow_jobs{state="upload_failed"}'), 0);
    assert.equal(value("beamflow_stage_in_bytes_total"), 0, "command jobs stage nothing");
    assert.match(body, /^# TYPE beamflow_upload_duration_seconds histogram$/m);
  });

  it("?token= sets an HttpOnly SameSite=Strict cookie and redirects without it; the cookie then works", async () => {
    // A running search's progress as its agent would report it, shown with the running job.
    const slowAttempt = coordinator.core.tracker.job(slowJob)!.current_attempt_id!;
    coordinator.core.progress.report({
      attemptId: slowAttempt,
      phase: SearchPhase.SEARCH_PHASE_SEARCHING,
      pass: 2,
      passes: 6,
      dmTrialsDone: 30,
      dmTrials: 156,
      startedAt: Date.now() / 1000 - 60,
    });
    const r = await fetch(`${web.url}/api/snapshot?token=${encodeURIComponent(token)}&x=1`, { redirect: "manual" });
    assert.equal(r.status, 303);
    assert.equal(r.headers.get("location"), "/api/snapshot?x=1");
    const cookie = r.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const snap = await fetch(`${web.url}/api/snapshot`, { headers: { cookie: cookie.split(";")[0] } });
    assert.equal(snap.status, 200);
    const s = (await snap.json()) as Snapshot;
    assert.equal(s.jobs.terminal_failure, 1);
    const f = s.failed.find((x) => x.id === failedJob)!;
    assert.equal(f.beam, EVIL_BEAM);
    assert.deepEqual(
      f.logTail.filter((l) => /line/.test(l)),
      ["first-line", "oops-log-line"],
    );
    const slow = s.running.find((x) => x.id === slowJob && x.agentId === "node1")!;
    assert.deepEqual([slow.progress?.phase, slow.progress?.pass, slow.progress?.dmTrialsDone], ["searching", 2, 30]);
    assert.ok(Math.abs(slow.progress!.etaS! - (60 * 126) / 30) < 5, "ETA from the share of DM trials searched");
    coordinator.core.progress.forget(slowAttempt);
  });

  it("streams a finished attempt's log as SSE and ends it with the attempt's status", async () => {
    const attempt = coordinator.core.tracker.job(failedJob)!.current_attempt_id!;
    const res = await fetch(`${web.url}/logs/${attempt}/events?offset=0`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const events = await readSse(res, (evs) => evs.some((e) => e.event === "end"));
    const text = Buffer.concat(events.filter((e) => e.event === "chunk").map((e) => Buffer.from(JSON.parse(e.data).b64, "base64"))).toString();
    assert.match(text, /first-line\r?\noops-log-line\r?\n/);
    assert.equal(JSON.parse(events.at(-1)!.data).status, "processing_failed");
    assert.equal((await fetch(`${web.url}/logs/99999/events`, { headers: { authorization: `Bearer ${token}` } })).status, 404);
  });

  it("shows the page in headless Chromium: failed job's error and log, and a running job's live log", async function () {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI) assert.fail(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`);
      this.skip(); // no browser here: `apt-get install -y chromium` to run this test
    }
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
        ],
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      const pageErrors: string[] = [];
      page.on("pageerror", (e) => pageErrors.push(e.message));
      page.on("console", (m) => {
        if (m.type() === "error") pageErrors.push(m.text());
      });
      await page.goto(`${web.url}/?token=${encodeURIComponent(token)}`);
      assert.equal(new URL(page.url()).search, "", "the token left the address bar");

      const failedRow = page.locator(`#failed tr[data-job="${failedJob}"]`);
      await failedRow.waitFor();
      const failedText = await failedRow.innerText();
      assert.ok(failedText.includes(EVIL_BEAM), `beam name shown as text: ${failedText}`);
      assert.match(failedText, /exited with code 3/);
      assert.match(failedText, /oops-log-line/);
      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
      assert.equal(await page.locator("#failed img").count(), 0);
      assert.equal((await page.locator('#jobs [data-state="terminal_failure"] .n').innerText()).trim(), "1");
      assert.equal((await page.locator('#jobs [data-state="submitted"] .n').innerText()).trim(), "1");
      await page.locator('#agents tr[data-agent="node1"]').waitFor();
      assert.match(await page.locator('#agents tr[data-agent="node1"]').innerText(), /connected[\s\S]*1 \/ 4/);

      // The live log: lines printed after the page loaded must appear.
      const core = coordinator.core;
      const attempt = core.tracker.job(slowJob)!.current_attempt_id!;
      const lastLine = () =>
        Math.max(
          0,
          ...[
            ...core.logs
              .read(attempt)
              .toString()
              .matchAll(/slow-line-(\d+)/g),
          ].map((m) => Number(m[1])),
        );
      await page.locator(`#running tr[data-job="${slowJob}"]`).click();
      const afterClick = lastLine();
      await page.waitForFunction((n) => (document.getElementById("log")!.textContent ?? "").includes(`slow-line-${n}\n`), afterClick + 3, { timeout: 10_000 });
      const shown = await page.locator("#log").innerText();
      assert.match(shown, /^slow-line-1\n/);
      assert.match(await page.locator("#logState").innerText(), /following/);

      await page.screenshot({ path: "/tmp/beamflow-status-page.png", fullPage: true });
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser?.close();
    }
  });

  it("/events pushes a new snapshot soon after a job changes", async () => {
    const res = await fetch(`${web.url}/events`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const core = coordinator.core;
    let created = 0;
    const started = Date.now();
    const events = await readSse(
      res,
      (evs) => {
        if (evs.length === 1 && !created) {
          assert.equal((JSON.parse(evs[0].data) as Snapshot).jobs.terminal_failure, 1);
          created = core.tracker.createJob({
            beam: "quick-fail",
            jobType: "commands",
            spec: { commands: [{ name: "c", argv: ["false"] }] },
            reservation: { cores: 1, memory: 0, shm: 0 },
          });
          core.dispatcher.schedule();
        }
        return evs.some((e) => (JSON.parse(e.data) as Snapshot).jobs.terminal_failure === 2);
      },
      8000,
    );
    const last = JSON.parse(events.at(-1)!.data) as Snapshot;
    assert.equal(last.jobs.terminal_failure, 2, "no snapshot with the second failure arrived");
    assert.ok(last.failed.some((f) => f.id === created));
    assert.ok(Date.now() - started < 8000);
  });

  it("on a cluster of hundreds of agents, builds the snapshot a page of agents at a time and reuses a young one", async () => {
    const core = coordinator.core;
    for (let i = 0; i < 450; i++) core.tracker.registerAgent(`many${String(i).padStart(3, "0")}`, false);
    const pages: number[] = [];
    const original = core.tracker.agentsPage.bind(core.tracker);
    core.tracker.agentsPage = (after, limit, ids) => {
      const rows = original(after, limit, ids);
      pages.push(rows.length);
      return rows;
    };
    try {
      const get = async () => {
        const r = await fetch(`${web.url}/api/snapshot`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(r.status, 200);
        return (await r.json()) as Snapshot;
      };
      // Wait until the last snapshot (of fewer agents) is too old to be reused.
      await new Promise((r) => setTimeout(r, 1500));
      const first = await get();
      assert.equal(first.agents.length, 451, "every agent");
      assert.deepEqual(
        first.agents.map((a) => a.id),
        first.agents.map((a) => a.id).sort(),
        "in id order",
      );
      assert.ok(pages.length >= 3 && pages.every((n) => n <= 200), `read in pages of at most 200: ${pages.join(",")}`);
      const reads = pages.length;
      const again = await get();
      assert.equal(again.at, first.at, "a snapshot asked for right after is the same one");
      assert.equal(pages.length, reads, "and was not built again");
    } finally {
      core.tracker.agentsPage = original;
    }
  });
});
