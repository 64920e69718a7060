// Heavy output through real processes: a capped log on the coordinator with bounded
// memory, and a coordinator that goes away while a step prints — the agent spools on
// disk up to its bound, holds the step back (not counted as idle), and nothing is
// lost or doubled when the coordinator returns.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { call } from "../../cli/admin-client";
import { Cluster, waitFor } from "../support/cluster";

/** Peak resident memory of a process, in MiB (Linux). */
function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

function duBytes(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  return (fs.readdirSync(dir, { recursive: true }) as string[]).reduce((n, f) => {
    const st = fs.statSync(path.join(dir, f));
    return st.isFile() ? n + st.size : n;
  }, 0);
}

describe("heavy step output", function () {
  this.timeout(180_000);
  let cluster: Cluster;
  afterEach(async () => cluster?.close());

  it("caps a 300 MB log at its head and tail, and the coordinator's memory stays bounded", async () => {
    cluster = await Cluster.create({ coordinator: { log_max_bytes: "4MiB" } });
    await cluster.startCoordinator();
    await cluster.startAgent("node1");
    const rssBefore = peakRssMiB(cluster.coordinator!.child.pid!);
    const line = "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwx"; // 106 + \n
    const [job] = await cluster.submit(["sh", "-c", `echo FIRST-LINE; yes ${line} | head -n 2800000; echo LAST-LINE`]);
    const started = Date.now();
    const [done] = await cluster.waitForJobs((js) => js[0]?.status === "processed" || js[0]?.status === "terminal_failure", "the 300 MB step", 150_000);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(done.status, "processed", done.details);
    const rssAfter = peakRssMiB(cluster.coordinator!.child.pid!);

    const a = cluster.admin();
    const attempt = (await call(a, a.client.getJob, { id: job })).attempts[0];
    const logsDir = path.join(cluster.dataDir, "logs");
    const stored = fs.readdirSync(logsDir).filter((f) => f.startsWith(`attempt-${attempt.id}.`) && !f.endsWith(".idx"));
    const storedBytes = stored.reduce((n, f) => n + fs.statSync(path.join(logsDir, f)).size, 0);
    assert.ok(storedBytes <= 4 * 2 ** 20, `${storedBytes} bytes stored`);

    const out = cluster.cli(["logs", String(job)]);
    assert.equal(out.status, 0, out.stderr);
    const lines = out.stdout.split(/\r?\n/);
    assert.equal(lines[0], "FIRST-LINE");
    assert.equal(lines.filter((l) => l === "LAST-LINE").length, 1);
    assert.match(out.stdout, /\[beamflow: \d+(\.\d+)? MiB of output cut here \(log capped at 4(\.0)? MiB: head and tail kept\)\]/);
    // Head (half the cap) plus a tail of one to two quarter-cap segments, depending on where the
    // last rotation fell, less the pty's carriage returns that `logs` drops: 2.9 to 4.2 MiB.
    assert.ok(out.stdout.length > 2.9 * 2 ** 20 && out.stdout.length < 4.2 * 2 ** 20, `${out.stdout.length} bytes shown`);
    // Memory: the coordinator streamed 300 MB to disk without holding it.
    assert.ok(
      rssAfter - rssBefore < 120,
      `coordinator peak RSS grew from ${rssBefore.toFixed(0)} to ${rssAfter.toFixed(0)} MiB (${seconds.toFixed(1)} s for 300 MB)`,
    );
  });

  it("spools on the agent's disk while the coordinator is away, holds the step back when full, and loses nothing", async () => {
    cluster = await Cluster.create({ jobs: { lease_s: 60 } });
    await cluster.startCoordinator();
    const scratch = path.join(cluster.dir, "scratch");
    await cluster.startAgent("node1", { scratch_dir: scratch, log_spool_bytes: "4MiB", reconnect_max_s: 1 });
    const spool = path.join(scratch, "beamflow-spool", "node1");
    const total = 400_000; // ~7 MB: more than the spool takes
    const a = cluster.admin();
    const [job] = (
      await call(a, a.client.submitCommandJob, {
        force: false,
        name: "printer",
        cores: 1,
        memory: 0,
        shm: 0,
        count: 1,
        steps: [{ name: "command", argv: ["sh", "-c", `seq -f 'line %.0f' 1 ${total}`], timeoutS: 0, idleTimeoutS: 3 }],
      })
    ).jobIds;
    await cluster.waitForJobs((js) => js[0]?.status === "submitted", "the job to start");
    await Cluster.kill(cluster.coordinator, "SIGKILL");
    await waitFor("the spool to fill to its bound", () => duBytes(spool) >= 4 * 2 ** 20, 60_000, 100);
    // Held back for longer than the idle timeout: must not count as "no output".
    await new Promise((r) => setTimeout(r, 4000));
    assert.ok(duBytes(spool) < 4 * 2 ** 20 + (8 << 20), "the spool stays near its bound while the step is held back");
    await cluster.startCoordinator();
    const [done] = await cluster.waitForJobs((js) => ["processed", "terminal_failure", "retrying"].includes(js[0]?.status), "the job to end", 120_000);
    const again = cluster.admin(); // the restarted coordinator's
    const detail = await call(again, again.client.getJob, { id: job });
    assert.equal(done.status, "processed", detail.attempts.map((x) => `${x.errorClass}: ${x.details}`).join("\n"));
    assert.equal(detail.attempts.length, 1);
    const out = cluster.cli(["logs", String(job)]);
    const got = out.stdout
      .split(/\r?\n/)
      .filter((l) => l.startsWith("line "))
      .map((l) => Number(l.slice(5)));
    assert.equal(got.length, total, "every line once");
    for (let i = 0; i < total; i++) if (got[i] !== i + 1) assert.fail(`line ${i + 1} is ${got[i]}`);
    await waitFor("the spool to empty", () => duBytes(spool) === 0, 10_000);
  });
});
