// Black-hole protection with real processes: a coordinator, agents whose
// toolchain is missing, appears, vanishes or fails, and palfa-search beams run
// with the stand-in toolchain (test/toolchain/bin) on a small DM plan. Nodes
// that cannot search get no beams; failures that are the node's fault are not
// counted against the beam; a node that fails beam after beam is drained, with
// its reason, a notice, and `undrain` to bring it back.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { call } from "../../cli/admin-client";
import type { AgentView, JobDetail } from "../../shared/gen/admin";
import type { Snapshot } from "../../coordinator/http/snapshot";
import type { ConfigInput } from "../../shared/config/schema";
import { attemptDirs, Cluster, waitFor } from "../support/cluster";
import { parseMail, startSmtp, type Smtp, mailTo } from "../coordinator/notify/helpers";
import { JobType } from "../../shared/gen/common";

const TOOLCHAIN = path.join(__dirname, "..", "toolchain", "bin");
const FIXTURES = path.join(__dirname, "..", "fixtures");
const BEAM = path.join(FIXTURES, "psrfits", "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits");
const ZAPLIST = path.join(FIXTURES, "presto", "beam_J1903", "beam_J1903.zaplist");
/** Three DM trials around the fixture pulsar's DM (57): a quick search that still folds. */
const SMALL_PLAN = [{ lodm: 56, dmstep: 1, dms_per_call: 3, calls: 1, nsub: 33, downsamp: 8 }];
/** The test's PATH without a real PRESTO, so an agent finds only what its config names. */
const PATH_WITHOUT_PRESTO = (process.env.PATH ?? "")
  .split(":")
  .filter((d) => d && !d.startsWith("/opt/presto"))
  .join(":");

const FINISHED = ["uploaded", "upload_failed", "terminal_failure"];

describe("nodes that cannot search get no beams", function () {
  this.timeout(240_000);
  let cluster: Cluster;
  let smtp: Smtp | undefined;
  let shm: string;

  async function createCluster(over: ConfigInput = {}): Promise<void> {
    cluster = await Cluster.create({
      ...over,
      jobs: { type: "palfa-search", ...over.jobs },
      dispatch: { cores_per_beam: 2, memory_per_beam: 0, ...over.dispatch },
      search: {
        ddplan_source: "explicit",
        ddplan: SMALL_PLAN,
        use_subbands: false,
        low_T_to_search: 0.5,
        low_DM_cutoff: 1.0,
        to_prepfold_sigma: 12,
        sifting_sigma_threshold: 5.0,
      },
      zaplists: {},
    });
    const zapdir = path.join(cluster.dir, "zaplists");
    fs.mkdirSync(zapdir);
    fs.copyFileSync(ZAPLIST, path.join(zapdir, "default.zaplist"));
    fs.writeFileSync(cluster.configPath, fs.readFileSync(cluster.configPath, "utf8").replace(/zaplists: \{\}/, `zaplists:\n  source: ${zapdir}`));
    await cluster.startCoordinator();
  }

  beforeEach(() => {
    shm = `/dev/shm/beamflow-unfit-${process.pid}`;
  });

  afterEach(async () => {
    await cluster?.close();
    await smtp?.close();
    smtp = undefined;
    fs.rmSync(shm, { recursive: true, force: true });
  });

  /** An agent with its own work dir under /dev/shm and the given toolchain dirs; PATH has no real PRESTO. */
  function startAgent(id: string, toolchainPath: string[], extra: Record<string, unknown> = {}) {
    return cluster.startAgent(
      id,
      {
        cores: 2,
        work_base: path.join(shm, id),
        scratch_dir: path.join(cluster.dir, `${id}-scratch`),
        toolchain: { path: toolchainPath },
        ...extra,
      },
      { PATH: PATH_WITHOUT_PRESTO, PRESTO: undefined },
    );
  }

  /** A toolchain dir of symlinks to the stand-ins, without the programs named. */
  function toolchainWithout(name: string, ...missing: string[]): string {
    const dir = path.join(cluster.dir, name);
    fs.mkdirSync(dir);
    for (const p of fs.readdirSync(TOOLCHAIN)) if (!missing.includes(p)) fs.symlinkSync(path.join(TOOLCHAIN, p), path.join(dir, p));
    return dir;
  }

  function addBeams(...names: string[]): void {
    const files = names.map((n) => {
      const f = path.join(cluster.dir, `${n}.fits`);
      fs.copyFileSync(BEAM, f);
      return f;
    });
    const r = cluster.cli(["add-files", ...files]);
    assert.equal(r.status, 0, r.stderr);
  }

  async function agents(): Promise<AgentView[]> {
    const r = cluster.cli(["agents", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as AgentView[];
  }

  async function detail(id: number): Promise<JobDetail> {
    const a = cluster.admin();
    return call(a, a.client.getJob, { id });
  }

  /** The status page's data, as the browser gets it. */
  async function snapshot(): Promise<Snapshot> {
    const line = cluster.coordinator!.stderr.find((l) => l.includes("coordinator listening"))!;
    const url = (JSON.parse(line) as { http: string }).http;
    const token = fs.readFileSync(path.join(cluster.dataDir, "admin.token"), "utf8").trim();
    const res = await fetch(`${url}/api/snapshot`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    return (await res.json()) as Snapshot;
  }

  it("an agent without PRESTO gets no beams and says why, in `agents` and on the status page; a working agent searches them all; command jobs still run on the unfit one", async () => {
    await createCluster();
    const empty = path.join(cluster.dir, "empty-toolchain");
    fs.mkdirSync(empty);
    await startAgent("broken", [empty], { cores: 8 }); // the most free cores: it would be chosen first if it were fit
    await startAgent("working", [TOOLCHAIN]);
    addBeams("beam_a", "beam_b", "beam_c");

    const jobs = await cluster.waitForJobs(
      (js) => js.length === 3 && js.every((j) => FINISHED.includes(j.status)),
      "every beam to be searched and uploaded",
      180_000,
    );
    for (const j of jobs) {
      const d = await detail(j.id);
      assert.equal(j.status, "uploaded", `job ${j.id}: ${j.details}`);
      assert.equal(j.failures, 0);
      assert.deepEqual(
        d.attempts.map((a) => [a.agentId, a.status]),
        [["working", "processed"]],
        `job ${j.id} ran once, on the working agent`,
      );
    }

    const broken = (await agents()).find((x) => x.id === "broken")!;
    const search = broken.capabilities!.jobTypes.find((f) => f.jobType === JobType.JOB_TYPE_PALFA_SEARCH)!;
    assert.equal(search.fit, false);
    assert.match(search.reason, /^combine_mocks, .*accelsearch, .* not found \(toolchain\.path: \S*empty-toolchain; prefix: none; PATH=/);
    assert.ok(!search.reason.includes("/opt/presto"), search.reason);
    assert.deepEqual(
      broken.capabilities!.jobTypes.find((f) => f.jobType === JobType.JOB_TYPE_COMMANDS),
      { jobType: JobType.JOB_TYPE_COMMANDS, fit: true, reason: "" },
    );
    assert.equal(broken.noBeamsReason, `cannot run palfa-search: ${search.reason}`);
    const working = (await agents()).find((x) => x.id === "working")!;
    assert.equal(working.noBeamsReason, "");
    const table = cluster.cli(["agents"]);
    assert.match(table.stdout, /broken: no beams: cannot run palfa-search: combine_mocks, .*accelsearch, .* not found/);
    assert.doesNotMatch(table.stdout, /working: no beams/);

    const page = (await snapshot()).agents.find((x) => x.id === "broken")!;
    assert.deepEqual(page.unfit, [{ jobType: "palfa-search", reason: search.reason }]);
    assert.equal(page.noBeamsReason, broken.noBeamsReason);

    // Command jobs still run on it: with the working agent drained, they have nowhere else to go.
    const drained = cluster.cli(["drain", "working", "--reason", "kernel update"]);
    assert.equal(drained.status, 0, drained.stderr);
    assert.equal((await agents()).find((x) => x.id === "working")!.noBeamsReason, "drained (operator): kernel update");
    const [cmd] = await cluster.submit(["sh", "-c", "echo on $(hostname)"]);
    await cluster.waitForJobs((js) => js.find((j) => j.id === cmd)?.status === "processed", "the command job to run on the unfit agent");
    assert.equal((await detail(cmd)).attempts[0].agentId, "broken");
  });

  it("an agent whose toolchain appears while it runs becomes fit without a restart and searches the waiting beam", async () => {
    await createCluster();
    const partial = toolchainWithout("partial-toolchain", "accelsearch");
    await startAgent("node1", [partial], { fitness_check_s: 0.3 });
    addBeams("beam_a");
    const unfit = await waitFor("the agent to report why it cannot search", async () =>
      (await agents()).find((x) => x.id === "node1" && x.noBeamsReason.startsWith("cannot run")),
    );
    assert.match(unfit.noBeamsReason, /^cannot run palfa-search: accelsearch not found \(toolchain\.path: \S+partial-toolchain; prefix: none; PATH=/);
    await new Promise((r) => setTimeout(r, 1500));
    const [waiting] = await cluster.jobs();
    assert.equal(waiting.status, "new", "the beam waits: no attempt on an agent that cannot search");
    assert.equal(waiting.attempts, 0);

    fs.symlinkSync(path.join(TOOLCHAIN, "accelsearch"), path.join(partial, "accelsearch"));
    const [job] = await cluster.waitForJobs((js) => FINISHED.includes(js[0]?.status), "the beam to be searched once accelsearch is there", 120_000);
    assert.equal(job.status, "uploaded", job.details);
    assert.deepEqual([job.failures, job.attempts], [0, 1]);
    assert.equal((await agents()).find((x) => x.id === "node1")!.noBeamsReason, "");
  });

  it("a program gone after the check fails the attempt as missing_program, not counted (max_attempts 1): the node says it is unfit and the beam is searched on another", async () => {
    await createCluster({ jobs: { max_attempts: 1 } });
    const vanishing = toolchainWithout("vanishing-toolchain");
    // No periodic look: only the failed attempt makes the agent check again.
    await startAgent("node-a", [vanishing], { fitness_check_s: 3600 });
    fs.rmSync(path.join(vanishing, "accelsearch"));
    addBeams("beam_a");
    const requeued = await cluster.waitForJobs((js) => js[0]?.attempts >= 1 && js[0].status === "retrying", "the first attempt to fail", 60_000);
    assert.equal(requeued[0].failures, 0, "not counted");
    const first = (await detail(requeued[0].id)).attempts[0];
    assert.deepEqual([first.agentId, first.status, first.errorClass, first.counted], ["node-a", "node_failed", "missing_program", false]);
    assert.match(first.details, /^accelsearch not found/);
    assert.match((await agents()).find((x) => x.id === "node-a")!.noBeamsReason, /^cannot run palfa-search: accelsearch not found/);
    assert.deepEqual(attemptDirs(path.join(shm, "node-a")), [], "the work dir is cleaned");

    await startAgent("node-b", [TOOLCHAIN]);
    const [job] = await cluster.waitForJobs((js) => FINISHED.includes(js[0]?.status), "the beam to be searched on node-b", 120_000);
    assert.equal(job.status, "uploaded", job.details);
    assert.equal(job.failures, 0);
    assert.deepEqual(
      (await detail(job.id)).attempts.map((a) => [a.agentId, a.status]),
      [
        ["node-a", "node_failed"],
        ["node-b", "processed"],
      ],
    );
  });

  it("an agent that fails beam after beam is drained automatically with the failures as its reason and a notice; the beams go elsewhere; undrain restores it", async () => {
    smtp = await startSmtp();
    await createCluster({
      jobs: { max_attempts: 5 },
      dispatch: { drain_after_failures: 3 },
      notify: { email: mailTo(smtp) },
    });
    // rfifind prints its usage (so the agent sees a PRESTO) but fails every real run.
    const failing = toolchainWithout("failing-toolchain", "rfifind");
    fs.writeFileSync(
      path.join(failing, "rfifind"),
      `#!/bin/sh\n[ $# -eq 0 ] && exec ${path.join(TOOLCHAIN, "rfifind")}\necho "rfifind: cannot allocate the FFT plan" >&2\nexit 1\n`,
      { mode: 0o755 },
    );
    await startAgent("bad", [failing], { cores: 6 });
    addBeams("beam_a", "beam_b", "beam_c");

    const bad = await waitFor("the agent to be drained", async () => (await agents()).find((x) => x.id === "bad" && x.drained), 90_000);
    assert.equal(bad.drainedBy, "auto");
    assert.match(bad.drainReason, /^\d+ failed attempts in a row on 3 beams: (.*; )?job \d+ \(attempt \d+\) exit_code: .*rfifind/);
    for (const id of [1, 2, 3]) assert.match(bad.drainReason, new RegExp(`job ${id} \\(attempt \\d+\\) exit_code`));
    assert.equal(bad.noBeamsReason, `drained (auto): ${bad.drainReason}`);
    assert.match(cluster.cli(["agents"]).stdout, /bad: no beams: drained \(auto\): \d+ failed attempts in a row on 3 beams/);
    const page = (await snapshot()).agents.find((x) => x.id === "bad")!;
    assert.deepEqual([page.drained, page.drainedBy, page.noBeamsReason], [true, "auto", bad.noBeamsReason]);

    const mail = await waitFor(
      "the drain notice",
      () => smtp!.mails.map((m) => parseMail(m.raw)).find((m) => /agent drained automatically/.test(m.subject)),
      20_000,
    );
    assert.match(mail.subject, /agent drained automatically, it gets no new beams — agent bad/);
    assert.match(mail.text, /failed attempts in a row on 3 beams/);
    assert.match(mail.text, /beamflow undrain bad/);

    // No beam is lost with it: they wait, and a working agent searches them.
    assert.ok(
      (await cluster.jobs()).every((j) => j.status === "retrying" || j.status === "submitted"),
      "nothing failed for good",
    );
    await startAgent("good", [TOOLCHAIN], { cores: 6 });
    const jobs = await cluster.waitForJobs(
      (js) => js.length === 3 && js.every((j) => FINISHED.includes(j.status)),
      "the beams to be searched on the good agent",
      180_000,
    );
    for (const j of jobs) assert.equal(j.status, "uploaded", `job ${j.id}: ${j.details}`);
    assert.equal(smtp.mails.filter((m) => /agent drained/.test(parseMail(m.raw).subject)).length, 1, "one notice");

    const undrained = cluster.cli(["undrain", "bad"]);
    assert.equal(undrained.status, 0, undrained.stderr);
    const back = (await agents()).find((x) => x.id === "bad")!;
    assert.deepEqual([back.drained, back.drainedBy, back.drainReason, back.failureStreak, back.noBeamsReason], [false, "", "", 0, ""]);
  });
});
