// A palfa-search job through a real coordinator and agent, with the stand-in
// toolchain (test/toolchain/bin: PRESTO's names and argument checks, real
// fixture outputs). The fixture beam's search used DDplan.py's plan for DM
// 0-155 (6 passes of 26 DMs), which is given here as an explicit plan.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { call } from "../../cli/admin-client";
import { attemptDirs, Cluster, waitFor } from "../support/cluster";
import { requirePostgres } from "../support/postgres";
import { verifyManifest, type Manifest } from "../../shared/results/manifest";
import type { UploadListing } from "../../coordinator/uploader";
import type { ProgressView } from "../../shared/gen/admin";
import { progressLine } from "../../cli/admin-commands";

const TOOLCHAIN = path.join(__dirname, "..", "toolchain", "bin");
const FIXTURES = path.join(__dirname, "..", "fixtures");
const COMBINED = path.join(FIXTURES, "psrfits", "p2030.20230225.G037.00-00.10.C.b0g0_0001.fits");
const ACCELCANDS = path.join(FIXTURES, "presto", "beam_J1903", "beam_J1903.accelcands");
const ZAPLIST = path.join(FIXTURES, "presto", "beam_J1903", "beam_J1903.zaplist");

// DDplan.py's plan for the fixture beam (nsub 32 of its 128 channels); the test file has 66 channels, so 33.
const FIXTURE_PLAN = [{ lodm: 0, dmstep: 1, dms_per_call: 26, calls: 6, nsub: 33, downsamp: 8 }];

/** The 18 diagnostics PALFA's uploader stored (names exactly as PALFA spelt them). */
const PALFA_DIAGNOSTICS = [
  "RFI mask percentage",
  "RFIfind png",
  "Periodicty summary plot",
  "Rejected cands plot",
  "Sifting summary",
  "Sifting report",
  "Accelcands list",
  "Num cands folded",
  "Num cands produced",
  "Min sigma folded",
  "Num cands above threshold",
  "Zaplist used",
  "Search parameters",
  "Sigma threshold",
  "Max cands allowed to fold",
  "Percent zapped total",
  "Percent zapped below 10 Hz",
  "Percent zapped below 1 Hz",
];

function invocations(log: string): string[][] {
  // Calls without arguments are the agent reading each program's usage (its flags); `python -c` is its check
  // that the plotting python imports PRESTO's package.
  return fs
    .readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as string[])
    .filter((c) => c.length > 1 && !(path.basename(c[0]) === "python" && c[1] === "-c"));
}

describe("palfa-search job with the stand-in toolchain", function () {
  this.timeout(420_000);
  let cluster: Cluster;
  let standinLog: string;
  let zapdir: string;

  beforeEach(async () => {
    cluster = await Cluster.create({
      jobs: { type: "palfa-search" },
      dispatch: { cores_per_beam: 2, memory_per_beam: 0 },
      search: {
        ddplan_source: "explicit",
        ddplan: FIXTURE_PLAN,
        use_subbands: false,
        low_T_to_search: 0.5,
        // The fixture's sifting (sift_cands.py) used a low-DM cutoff of 1.0; two folds as in the fixture.
        low_DM_cutoff: 1.0,
        to_prepfold_sigma: 12,
        sifting_sigma_threshold: 5.0,
      },
      zaplists: {},
    });
    zapdir = path.join(cluster.dir, "zaplists");
    fs.mkdirSync(zapdir);
    fs.copyFileSync(ZAPLIST, path.join(zapdir, "default.zaplist"));
    const cfg = fs.readFileSync(cluster.configPath, "utf8");
    fs.writeFileSync(cluster.configPath, cfg.replace(/zaplists: \{\}/, `zaplists:\n  source: ${zapdir}`));
    standinLog = path.join(cluster.dir, "standin.log");
    process.env.BEAMFLOW_STANDIN_LOG = standinLog;
    await cluster.startCoordinator();
  });

  afterEach(async () => {
    delete process.env.BEAMFLOW_STANDIN_LOG;
    await cluster?.close();
  });

  async function startAgent(extra: Record<string, unknown> = {}) {
    await cluster.startAgent("node1", {
      cores: 2,
      work_base: `/dev/shm/beamflow-test-${process.pid}`,
      scratch_dir: path.join(cluster.dir, "scratch"),
      toolchain: { path: [TOOLCHAIN] },
      ...extra,
    });
  }

  function addBeam(name = "beam_J1903.fits", source = COMBINED): string {
    const file = path.join(cluster.dir, name);
    fs.copyFileSync(source, file);
    const r = cluster.cli(["add-files", file]);
    assert.equal(r.status, 0, r.stderr);
    return file;
  }

  it("runs PALFA's steps with PALFA's flags, sifts like PRESTO, folds, reports all 18 diagnostics, returns and uploads the results, and leaves /dev/shm empty", async function () {
    await startAgent();
    addBeam();
    // Live progress, as `beamflow job 1` shows it while the search runs.
    const seen: ProgressView[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const adm = cluster.admin();
        const d = await call(adm, adm.client.getJob, { id: 1 }).catch(() => undefined);
        if (d?.progress) seen.push(d.progress);
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    const [job] = await cluster.waitForJobs(
      (js) => js.length === 1 && ["uploaded", "upload_failed", "terminal_failure"].includes(js[0].status),
      "the search and its upload to end",
      360_000,
    );
    polling = false;
    await poller;
    const a = cluster.admin();
    const detail = await call(a, a.client.getJob, { id: job.id });
    const searching = seen.filter((x) => x.phase === "searching" && x.dmTrialsDone > 0);
    assert.ok(searching.length >= 3, `progress seen while searching: ${JSON.stringify(seen.slice(0, 3))}`);
    assert.ok(searching.every((x) => x.passes === 6 && x.dmTrials === 156 && x.pass >= 1 && x.pass <= 6));
    assert.ok(
      searching.some((x) => x.etaS !== undefined && x.etaS > 0 && x.etaS < 600),
      "an estimate of the time left",
    );
    for (let i = 1; i < searching.length; i++)
      assert.ok(searching[i].dmTrialsDone >= searching[i - 1].dmTrialsDone && searching[i].pass >= searching[i - 1].pass, "progress only moves forward");
    assert.equal(detail.progress, undefined, "no progress once the attempt is over");
    const shown = progressLine(searching[searching.length - 1]);
    assert.match(shown, /^now: searching, DM pass \d\/6, \d+\/156 DM trials searched, running \S+(, about \S+ left)?$/);
    assert.equal(job.status, "uploaded", `${job.details}\n${detail.attempts.map((x) => `${x.errorClass}: ${x.details}`).join("\n")}`);
    const attempt = detail.attempts[0];
    if (process.env.BEAMFLOW_TEST_TIMING) {
      const wall = attempt.finishedAt - attempt.startedAt;
      const byName = new Map<string, number>();
      for (const st of attempt.steps) {
        const k = st.name.split(" ")[0];
        byName.set(k, (byName.get(k) ?? 0) + st.wallS);
      }
      console.log({ wall, steps: attempt.steps.length, byName });
    }

    // The command lines, in order.
    const calls = invocations(standinLog);
    const names = calls.map((c) => path.basename(c[0]));
    assert.equal(names[0], "rfifind");
    assert.deepEqual(
      calls[0].slice(1, -1),
      ["-psrfits", "-ncpus", "2", "-time", "2.097152", "-o", "beam_J1903"],
      "PALFA's flags, plus -ncpus for the reserved cores",
    );
    assert.equal(path.basename(calls[0][calls[0].length - 1]), "beam_J1903.fits");
    assert.equal(names.filter((n) => n === "prepsubband").length, 6);
    assert.equal(names.filter((n) => n === "realfft").length, 156);
    assert.equal(names.filter((n) => n === "accelsearch").length, 156 * 2 - 26, "no high-z search in the zero-DM pass");
    const accel = calls.filter((c) => path.basename(c[0]) === "accelsearch" && c[c.length - 1].endsWith("_DM57.00.fft"));
    assert.deepEqual(
      accel.map((c) => c.slice(1, -1)),
      [
        ["-numharm", "16", "-sigma", "2.0", "-zmax", "0", "-flo", "2.0"],
        ["-numharm", "8", "-sigma", "3.0", "-zmax", "50", "-flo", "1.0"],
      ],
      "PALFA's flags; v6.0.1 polishes harmonics by default, so no -harmpolish",
    );
    const zap = calls.find((c) => path.basename(c[0]) === "zapbirds")!;
    assert.deepEqual(zap.slice(1, 6), ["-zap", "-zapfile", zap[3], "-baryv", "-6.82723e-05"]);
    assert.equal(names.filter((n) => n === "single_pulse_search.py").length >= 6, true);
    assert.equal(names.filter((n) => n === "prepfold").length, 2);
    // Each fold's plot is drawn from its .pfd (pfd_plot.py); gs renders only the rfifind and single-pulse pages.
    const plots = calls.filter((c) => path.basename(c[0]) === "python");
    assert.deepEqual(
      plots.map((c) => [path.basename(c[1]), path.basename(c[2]), c[3], path.basename(c[4])]).sort(),
      [1, 5].map((n) => ["pfd_plot.py", `beam_J1903_DM57.00_Z0_ACCEL_Cand_${n}.pfd`, "-o", `beam_J1903_DM57.00_Z0_ACCEL_Cand_${n}.pfd.png`]),
    );
    assert.ok(calls.filter((c) => path.basename(c[0]) === "gs").every((c) => !c[c.length - 1].endsWith(".pfd.ps")));
    // Each DM trial's chain runs in order: realfft before zapbirds before rednoise before accelsearch.
    const order = (dm: string) =>
      calls
        .map((c, i) => [i, path.basename(c[0]), c[c.length - 1]] as const)
        .filter(([, , f]) => f.includes(`_DM${dm}.`))
        .map(([, n]) => n);
    assert.deepEqual(order("57.00").slice(0, 5), ["realfft", "zapbirds", "rednoise", "accelsearch", "accelsearch"]);

    // The results came back to the coordinator, verified, into PALFA's layout (the copy is named beam_J1903.fits
    // and its header has no IBEAM, so the beam is unknown); the agent's copy is gone.
    const results = attempt.resultsDir;
    assert.match(
      results,
      new RegExp(`^${cluster.dataDir}/results/60000/beam_J1903/beam-unknown/${attempt.id}$`),
      `results/<MJD>/<obs>/<beam>/<attempt>: ${results}`,
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(results, "manifest.json"), "utf8")) as Manifest;
    assert.ok(manifest.files.length > 20);
    assert.deepEqual(await verifyManifest(results, manifest), [], "every file as its SHA-256 says");
    await waitFor("the agent's copy to go", () => !fs.existsSync(path.join(cluster.dir, "scratch", "beamflow-results", "node1", String(attempt.id))));

    // The sifted list equals PRESTO's own sifting of the same ACCEL files.
    assert.equal(fs.readFileSync(path.join(results, "beam_J1903.accelcands"), "utf8"), fs.readFileSync(ACCELCANDS, "utf8"));

    // The folds and their plots.
    const files = fs.readdirSync(results);
    assert.ok(files.includes("beam_J1903_pfd.tgz"), files.join(" "));
    assert.equal(files.filter((f) => f.endsWith(".pfd.png")).length, 2);

    // All 18 diagnostics, streamed to the coordinator.
    const diagnostics = new Map(detail.diagnostics.map((d) => [d.name, d]));
    for (const name of PALFA_DIAGNOSTICS) assert.ok(diagnostics.has(name), `diagnostic '${name}'`);
    assert.equal(diagnostics.get("RFI mask percentage")!.value, 0.74);
    assert.equal(diagnostics.get("Num cands folded")!.value, 2);
    assert.equal(diagnostics.get("Num cands produced")!.value, 32);

    // Uploaded to the embedded results DB, and by hand (upload-dir) to a PostgreSQL common DB: the same candidates.
    assert.equal(detail.uploads.length, 1);
    assert.equal(detail.uploads[0].status, "uploaded");
    const listed = cluster.cli(["results", "--job", String(job.id), "--json"]);
    assert.equal(listed.status, 0, listed.stderr);
    const [inSqlite] = JSON.parse(listed.stdout) as UploadListing[];
    assert.equal(inSqlite.obsName, "beam_J1903");
    assert.equal(inSqlite.candidates.length, 2);
    assert.equal(inSqlite.diagnostics["RFI mask percentage"], 0.74);
    const pg = await requirePostgres(this);
    try {
      const pgConfig = path.join(cluster.dir, "pg.yaml");
      fs.writeFileSync(pgConfig, `data_dir: ${cluster.dataDir}\nresults:\n  db: "${await pg.createDatabase("common")}"\n`);
      const up = cluster.cli(["upload-dir", results, "--json"], pgConfig);
      assert.equal(up.status, 0, up.stderr);
      assert.equal(JSON.parse(up.stdout).status, "uploaded");
      const again = cluster.cli(["upload-dir", results, "--json"], pgConfig);
      assert.equal(JSON.parse(again.stdout).status, "already_uploaded", "uploading again changes nothing");
      const [inPg] = JSON.parse(cluster.cli(["results", "--json"], pgConfig).stdout) as UploadListing[];
      const comparable = (u: UploadListing) => ({ ...u, uploadId: 0, uploadedAt: "", candidates: u.candidates.map((c) => ({ ...c, uploadId: 0 })) });
      assert.deepEqual(comparable(inPg), comparable(inSqlite));
    } finally {
      await pg.destroy();
    }

    // Steps recorded with timings; /dev/shm cleaned.
    assert.ok(attempt.steps.length > 500);
    assert.ok(attempt.steps.every((s) => s.exitCode === 0));
    await waitFor("the work dir to go", () => !fs.existsSync(path.join(`/dev/shm/beamflow-test-${process.pid}`, String(attempt.id))));
    assert.deepEqual(attemptDirs(`/dev/shm/beamflow-test-${process.pid}`), []);
  });

  it("refuses a truncated beam at add-files with a named reason", async () => {
    // The search would fail on it as bad_input; add-files reads the same header first.
    const truncated = path.join(cluster.dir, "beam_trunc.fits");
    fs.writeFileSync(truncated, fs.readFileSync(COMBINED).subarray(0, 200_000));
    const r = cluster.cli(["add-files", truncated]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /beam_trunc\.fits: truncated: .*nothing was registered/);
    assert.deepEqual(await cluster.jobs(), []);
  });

  it("fails with shm_full when the work dir's tmpfs fills up mid-run, and cleans it", async function () {
    // A 2 MB tmpfs: room for the beam's reservation (0.6 MB x shm_factor 3), not for its search.
    const small = path.join(cluster.dir, "small-shm");
    fs.mkdirSync(small);
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", small]);
    if (mounted.status !== 0) this.skip(); // needs root (CI runs as root)
    try {
      await startAgent({ work_base: small });
      addBeam();
      // The first attempt's failure is enough (the second would fail the same way).
      const [job] = await cluster.waitForJobs(
        (js) => js[0]?.failures >= 1 || ["uploaded", "processed"].includes(js[0]?.status),
        "the first attempt to fail",
        60_000,
      );
      const a = cluster.admin();
      const detail = await call(a, a.client.getJob, { id: job.id });
      assert.equal(job.failures, 1, job.status);
      // No second attempt: drain the node and stop one that may have started already.
      await call(a, a.client.setDrain, { agentId: "node1", drained: true, reason: "" });
      await call(a, a.client.stopJobs, { ids: [job.id], fail: false });
      assert.equal(detail.attempts[0].errorClass, "shm_full");
      assert.match(detail.attempts[0].details, /filled up/);
      await waitFor("the work dir to be cleaned", () => attemptDirs(small).length === 0);
    } finally {
      await Cluster.kill(cluster.agents.get("node1")!, "SIGTERM");
      spawnSync("umount", [small]);
    }
  });

  it("add-files refuses a beam shorter than low_T_to_search, with the reason", async () => {
    // 1 s of data against PALFA's 20 s minimum: refused before any attempt is spent on it.
    const f = path.join(cluster.dir, "beam_short.fits");
    fs.copyFileSync(COMBINED, f);
    const r = cluster.cli(["add-files", "--param", "low_T_to_search=20", f]);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /beam_short\.fits: too short to search: the observation is 1\.07 s long, shorter than low_T_to_search = 20 s; nothing was registered/,
    );
    assert.deepEqual(await cluster.jobs(), []);
  });

  it("a beam spoilt after add-files fails for good at its first attempt, with the reason", async () => {
    // Spoilt before any agent can stage it.
    const file = addBeam("beam_cut.fits");
    fs.truncateSync(file, 100_000);
    await startAgent();
    const [job] = await cluster.waitForJobs((js) => js[0]?.status === "terminal_failure", "the spoilt beam to fail", 180_000);
    assert.equal(job.attempts, 1, "no second attempt burnt on it");
    assert.equal(job.failures, 1);
    assert.match(job.details, /\(checksum, not retried: trying again cannot help\): beam_cut\.fits: staged 100000 bytes, expected \d+/);
  });
});
