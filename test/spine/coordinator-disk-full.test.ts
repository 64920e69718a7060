// The coordinator's disk fills up while a step prints (its data dir on a small tmpfs):
// new work is refused with a clear error, no log output it did not store is
// acknowledged, and once there is room again every line arrives once, in order.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { Cluster, waitFor } from "../support/cluster";

const LINES = 20_000;

describe("coordinator disk full (real processes, a tmpfs data dir)", function () {
  this.timeout(180_000);
  let c: Cluster | undefined;
  let mounted = "";

  before(function () {
    if (spawnSync("mount", ["--version"]).status !== 0 || process.getuid?.() !== 0) {
      console.warn("skipped: this test mounts a tmpfs, which needs root");
      this.skip();
    }
  });
  afterEach(async () => {
    await c?.close().catch(() => {});
    if (mounted) spawnSync("umount", ["-l", mounted]);
    mounted = "";
  });

  it("refuses new work while full, acknowledges nothing it did not store, and loses no line", async () => {
    c = await Cluster.create();
    // The data dir, as init made it, moved onto a 12 MiB tmpfs.
    const saved = `${c.dataDir}.saved`;
    fs.renameSync(c.dataDir, saved);
    fs.mkdirSync(c.dataDir);
    const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=12m", "tmpfs", c.dataDir], { encoding: "utf8" });
    assert.equal(m.status, 0, m.stderr);
    mounted = c.dataDir;
    spawnSync("cp", ["-a", `${saved}/.`, c.dataDir]);
    const coordinator = await c.startCoordinator();
    await c.startAgent("a1");

    // Leave about 1 MiB free; the step prints about 2.2 MiB.
    const filler = path.join(c.dataDir, "filler");
    const free = () => {
      const s = fs.statfsSync(c!.dataDir);
      return s.bavail * s.bsize;
    };
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - (1 << 20))));
    const [id] = await c.submit(["sh", "-c", `i=1; while [ $i -le ${LINES} ]; do printf 'line %06d %0100d\\n' $i 0; i=$((i+1)); done`]);

    await waitFor("the coordinator to find its disk full", async () => coordinator.stderr.some((l) => l.includes("disk is full")) || undefined, 60_000);
    const refused = c.cli(["submit", "--", "true"]);
    assert.notEqual(refused.status, 0, "new work is refused while the disk is full");
    assert.match(refused.stderr, /disk is full/);

    fs.rmSync(filler);
    await c.waitForJobs((jobs) => jobs.some((j) => j.id === id && j.status === "processed"), "the job processed", 90_000);
    const lines = await waitFor(
      "every line stored",
      async () => {
        const out = c!
          .cli(["logs", String(id)])
          .stdout.split("\n")
          .filter((l) => l.startsWith("line "));
        return out.length >= LINES ? out : undefined;
      },
      60_000,
    );
    const seen = new Map<string, number>();
    for (const l of lines) seen.set(l.slice(0, 11), (seen.get(l.slice(0, 11)) ?? 0) + 1);
    assert.deepEqual(
      [...seen].filter(([, n]) => n > 1),
      [],
      "no line doubled",
    );
    assert.equal(lines.length, LINES, "no line lost");
    lines.forEach((l, i) => assert.equal(l.slice(0, 11), `line ${String(i + 1).padStart(6, "0")}`, `line ${i + 1} in its place`));
    const spins = coordinator.stderr.filter((l) => l.includes("could not")).length;
    assert.ok(spins < 100, `no error loop: ${spins} error lines`);
    const ok = c.cli(["submit", "--", "true"]);
    assert.equal(ok.status, 0, `new work is taken again: ${ok.stderr}`);
  });
});
