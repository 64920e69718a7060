// Canary runs: the verdict and the choice of pulsar on their own, then through a real
// coordinator and two real agents with the real PRESTO: one whose search works, one
// whose accelsearch runs (every step exits 0) but can find nothing.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { call } from "../../../cli/admin-client";
import { Cluster, waitFor } from "../../support/cluster";
import { PRESTO_BIN, PRESTO_PREFIX, requirePresto } from "../../support/presto";
import { parseMail, startSmtp, type Smtp, mailTo } from "../notify/helpers";
import { canaryExpectation, canaryPulsar, CANARY_DDPLAN } from "../../../coordinator/canary/canary-beam";
import { judgeCanary } from "../../../coordinator/canary/verdict";
import { readAccelcandsFile } from "../../../shared/presto";
import type { AgentView, CanaryRunView } from "../../../shared/gen/admin";

const FIXTURE_CANDS = path.join(__dirname, "..", "..", "fixtures", "presto", "beam_J1903", "beam_J1903.accelcands");

describe("canary runs: verdict and pulsar", () => {
  // The fixture beam's pulsar: P 89.3 ms (topocentric), DM 57; its sifted list has it on top.
  const cands = readAccelcandsFile(FIXTURE_CANDS);
  const want = { periodS: 0.0893, dm: 57, periodTolerance: 0.001, dmTolerance: 4 };

  it("passes when the top candidate has the pulsar's period and DM", () => {
    const v = judgeCanary(cands, want);
    assert.equal(v.passed, true, v.summary);
    assert.match(v.summary, /^found the pulsar: top candidate beam_J1903_DM57.00_ACCEL_0:1: P 89\.3035 ms, DM 57\.00/);
  });

  it("fails, saying what it found and what was put in, on a wrong period, a wrong DM or no candidate", () => {
    const period = judgeCanary(cands, { ...want, periodS: 0.0902 });
    assert.equal(period.passed, false);
    assert.match(period.summary, /period off by 0\.99\d %, allowed 0\.100 %/);
    const dm = judgeCanary(cands, { ...want, dm: 70 });
    assert.equal(dm.passed, false);
    assert.match(dm.summary, /DM off by 13\.00, allowed 4/);
    assert.match(judgeCanary([], want).summary, /^no candidate at all; the pulsar was P 89\.3000 ms, DM 57$/);
  });

  it("draws pulsars inside the canary plan, away from mains birdies, the same for the same seed", () => {
    const top = CANARY_DDPLAN[0].lodm + CANARY_DDPLAN[0].dmstep * CANARY_DDPLAN[0].dms_per_call * CANARY_DDPLAN[0].calls;
    for (let seed = 1; seed <= 500; seed++) {
      const p = canaryPulsar(seed, 25);
      assert.ok(p.periodS >= 0.03 && p.periodS <= 0.6, `P ${p.periodS}`);
      assert.ok(p.dm >= 10 && p.dm <= 50 && p.dm < top - 4, `DM ${p.dm}`);
      for (let h = 1; h <= 4; h++) {
        for (const mains of [50, 60]) {
          const f = h / p.periodS;
          assert.ok(Math.abs(f - Math.round(f / mains) * mains) >= 1.5 || Math.round(f / mains) === 0, `P ${p.periodS}: harmonic ${h} at ${f} Hz`);
        }
      }
    }
    assert.deepEqual(canaryPulsar(7, 25), canaryPulsar(7, 25));
    assert.notDeepEqual(canaryPulsar(7, 25), canaryPulsar(8, 25));
  });

  it("allows a slow pulsar's DM what its pulse width allows, a fast one's two DM steps", () => {
    const pulsar = (periodS: number, dm: number) => ({ periodS, dm, snr: 25, seed: 1 });
    const found = (periodS: number, dm: number) => [{ ...cands[0]!, periodMs: periodS * 1000, dm }];
    assert.equal(canaryExpectation(pulsar(0.03, 30)).dmTolerance, 2 * CANARY_DDPLAN[0].dmstep);
    // Two runs of the real search on a healthy node (P 547.8 and 540.8 ms, 5 % duty cycle): best
    // trial 6.5 and 6.8 DM off; a 27 ms pulse is swept across the 323 MHz band by 26 DM units.
    for (const [p, dm, best] of [
      [0.547793, 36.5, 30],
      [0.540822, 12.8, 6],
    ]) {
      const v = judgeCanary(found(p! * 1.00001, best!), canaryExpectation(pulsar(p!, dm!)));
      assert.equal(v.passed, true, v.summary);
    }
    assert.ok(Math.abs(canaryExpectation(pulsar(0.5478, 30)).dmTolerance - 25.9) < 0.2);
    // A fast pulsar 6.5 DM off is not found: its 2.5 ms pulse pins the DM down.
    const fast = judgeCanary(found(0.05, 36.5 - 6.5), canaryExpectation(pulsar(0.05, 36.5)));
    assert.equal(fast.passed, false);
    assert.match(fast.summary, /DM off by 6\.50, allowed 4/);
  });
});

describe("canary runs with the real PRESTO", function () {
  this.timeout(600_000);
  let cluster: Cluster | undefined;
  let smtp: Smtp | undefined;
  const shm = `/dev/shm/beamflow-canary-${process.pid}`;

  beforeEach(function () {
    requirePresto(this);
  });

  afterEach(async () => {
    await cluster?.close();
    await smtp?.close();
    cluster = undefined;
    smtp = undefined;
    fs.rmSync(shm, { recursive: true, force: true });
  });

  /** accelsearch that runs, exits 0 and writes its files, but with the highest sigma threshold it takes (30), which nothing here reaches. */
  function blindAccelsearch(dir: string): string {
    const bin = path.join(dir, "blind-toolchain");
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, "accelsearch"),
      `#!/bin/bash
args=(); next=0
for a in "$@"; do
  if [ "$next" = 1 ]; then args+=(30); next=0; else args+=("$a"); fi
  [ "$a" = -sigma ] && next=1
done
exec ${path.join(PRESTO_BIN, "accelsearch")} "\${args[@]}"
`,
      { mode: 0o755 },
    );
    return bin;
  }

  it("passes on a working node, drains a node whose search runs but finds nothing (with the reason and a notice); nothing is uploaded or counted as a beam", async () => {
    smtp = await startSmtp();
    cluster = await Cluster.create({
      jobs: { type: "palfa-search" },
      dispatch: { cores_per_beam: 1, memory_per_beam: 0 },
      notify: { email: mailTo(smtp) },
    });
    await cluster.startCoordinator();
    const common = { cores: 1, scratch_dir: path.join(cluster.dir, "scratch") };
    await cluster.startAgent("good", { ...common, work_base: path.join(shm, "good"), toolchain: { prefix: PRESTO_PREFIX } });
    await cluster.startAgent("blind", {
      ...common,
      work_base: path.join(shm, "blind"),
      toolchain: { path: [blindAccelsearch(cluster.dir)], prefix: PRESTO_PREFIX },
    });

    const r = await cluster.cliAsync(["canary", "good", "blind", "--wait", "--json"], 540_000);
    assert.equal(r.status, 1, `a failed run fails the command: ${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr, /1 of 2 canary runs failed: blind drained/);
    const runs = JSON.parse(r.stdout) as CanaryRunView[];
    const byAgent = new Map(runs.map((x) => [x.agentId, x]));
    assert.equal(byAgent.get("good")!.status, "passed", byAgent.get("good")!.summary);
    assert.match(byAgent.get("good")!.summary, /^found the pulsar: top candidate /);
    assert.equal(byAgent.get("blind")!.status, "failed");
    assert.match(byAgent.get("blind")!.summary, /^no candidate at all; the pulsar was P /);

    // The blind node is drained with the reason, and says so; the good one is not.
    const agents = JSON.parse(cluster.cli(["agents", "--json"]).stdout) as AgentView[];
    const good = agents.find((a) => a.id === "good")!;
    const blind = agents.find((a) => a.id === "blind")!;
    assert.equal(good.drained, false);
    assert.equal(good.lastCanary?.status, "passed");
    assert.equal(blind.drained, true);
    assert.equal(blind.drainedBy, "auto");
    assert.match(blind.drainReason, /^canary run \d+ failed \(pulsar P [0-9.]+ ms, DM [0-9.]+\): no candidate at all/);
    assert.match(blind.noBeamsReason, /^drained \(auto\): canary run/);
    const table = cluster.cli(["agents"]).stdout;
    assert.match(table, /blind: canary run \d+ failed: no candidate at all/);
    const mail = await waitFor(
      "the drain notice",
      () => smtp!.mails.map((m) => parseMail(m.raw)).find((m) => /agent drained automatically/.test(m.subject)),
      20_000,
    );
    assert.match(mail.subject, /agent blind/);
    assert.match(mail.text, /canary run \d+ failed/);

    // Kept apart: results under results/canary/, nothing in the results DB, no survey beam counted.
    const a = cluster.admin();
    const detail = await call(a, a.client.getJob, { id: byAgent.get("good")!.jobId });
    assert.equal(detail.job!.jobType, "canary");
    assert.equal(detail.job!.status, "processed");
    assert.match(detail.attempts[0].resultsDir, new RegExp(`^${cluster.dataDir}/results/canary/`));
    assert.deepEqual(JSON.parse(cluster.cli(["results", "--json"]).stdout), []);
    const status = await call(a, a.client.status, {});
    assert.equal(status.beamsTotal, 0);
    // The beams themselves are gone once judged.
    assert.deepEqual(fs.readdirSync(path.join(cluster.dataDir, "canary")), []);
  });
});
