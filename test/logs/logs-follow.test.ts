// `beamflow logs -f` over real processes: the backlog, live output, a step
// filter, and a coordinator killed and restarted in the middle of the output.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { call } from "../../cli/admin-client";
import { EXIT } from "../../cli/exit-codes";
import { BIN, Cluster, waitFor } from "../support/cluster";
import { exitStatus } from "../support/exit-status";

function follow(cluster: Cluster, args: string[]): { child: ChildProcess; done: Promise<{ status: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [BIN, "--config", cluster.configPath, "logs", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const done = exitStatus(child).then((status) => ({ status, out, err }));
  return { child, done };
}

function numbered(out: string): number[] {
  return out
    .split("\n")
    .filter((l) => /^line \d+$/.test(l))
    .map((l) => Number(l.slice(5)));
}

describe("beamflow logs", function () {
  this.timeout(120_000);
  let cluster: Cluster;
  afterEach(async () => cluster?.close());

  it("prints a finished job's log, and only one step's output with --step", async () => {
    cluster = await Cluster.create();
    await cluster.startCoordinator();
    await cluster.startAgent("node1");
    const a = cluster.admin();
    const r = await call(a, a.client.submitCommandJob, {
      force: false,
      name: "two-steps",
      cores: 1,
      memory: 0,
      shm: 0,
      count: 1,
      steps: [
        { name: "first", argv: ["sh", "-c", "echo one; echo two"], timeoutS: 0, idleTimeoutS: 0 },
        { name: "second", argv: ["echo", "three"], timeoutS: 0, idleTimeoutS: 0 },
      ],
    });
    await cluster.waitForJobs((js) => js[0]?.status === "processed", "the job to finish");
    const all = cluster.cli(["logs", String(r.jobIds[0])]);
    assert.equal(all.status, 0, all.stderr);
    assert.equal(all.stdout, "one\ntwo\nthree\n");
    const second = cluster.cli(["logs", String(r.jobIds[0]), "--step", "second"]);
    assert.equal(second.stdout, "three\n");
    const missing = cluster.cli(["logs", "99"]);
    assert.equal(missing.status, EXIT.notFound);
    assert.equal(missing.stderr, "beamflow: no job 99\n");
  });

  it("follows 200,000 lines through a coordinator kill -9 and restart: each line once, in order", async () => {
    cluster = await Cluster.create({ jobs: { lease_s: 30 } });
    await cluster.startCoordinator();
    await cluster.startAgent("node1");
    const total = 200_000;
    const [job] = await cluster.submit([
      "sh",
      "-c",
      `i=1; while [ $i -le ${total} ]; do echo "line $i"; if [ $((i % 20000)) -eq 0 ]; then sleep 0.3; fi; i=$((i+1)); done`,
    ]);
    await cluster.waitForJobs((js) => js[0]?.status === "submitted", "the job to start");
    const f = follow(cluster, [String(job), "-f"]);
    let seen = 0;
    f.child.stdout!.on("data", (d: Buffer) => {
      seen += d.toString().split("\n").length - 1;
    });
    await waitFor("some output", () => seen > 20_000, 60_000);
    await Cluster.kill(cluster.coordinator, "SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    await cluster.startCoordinator();
    const res = await f.done;
    assert.equal(res.status, 0, res.err);
    const lines = numbered(res.out);
    if (lines.length !== total) {
      const miss = [];
      let j = 0;
      for (let i = 1; i <= total && miss.length < 5; i++) {
        if (lines[j] === i) j++;
        else miss.push(i);
      }
      assert.fail(`got ${lines.length} lines; missing ${miss.join(",")}`);
    }
    for (let i = 0; i < total; i++) if (lines[i] !== i + 1) assert.fail(`line ${i + 1} is '${lines[i]}'`);
  });

  it("gives a follower stopped for a while, and one reading all along, every byte of 39 MB in order", async () => {
    // The coordinator reads a follower's output into Buffers the followers share, and uses
    // each again once gRPC has taken its message: a stopped reader's messages queue up
    // meanwhile, and must not be overwritten by the running reader's.
    cluster = await Cluster.create();
    await cluster.startCoordinator();
    await cluster.startAgent("node1");
    const total = 5_000_000;
    const [job] = await cluster.submit(["seq", "1", String(total)]);
    await cluster.waitForJobs((js) => js[0]?.status !== "new", "the job to start");
    const running = follow(cluster, [String(job), "-f"]);
    const stopped = follow(cluster, [String(job), "-f"]);
    let stoppedSaw = 0;
    stopped.child.stdout!.on("data", (d: Buffer) => (stoppedSaw += d.length));
    await waitFor("the second follower's first output", () => stoppedSaw > 0, 60_000);
    stopped.child.kill("SIGSTOP");
    const first = await running.done;
    await cluster.waitForJobs((js) => js[0]?.status === "processed", "the job to finish");
    assert.ok(stoppedSaw < 20_000_000, `the stopped follower had ${stoppedSaw} bytes before it was stopped: too late to test`);
    stopped.child.kill("SIGCONT");
    const second = await stopped.done;
    let expected = "";
    for (let i = 1; i <= total; i++) expected += `${i}\n`;
    for (const [who, res] of [
      ["the follower reading all along", first],
      ["the stopped follower", second],
    ] as const) {
      assert.equal(res.status, 0, res.err);
      if (res.out !== expected) {
        let at = 0;
        while (at < expected.length && res.out[at] === expected[at]) at++;
        assert.fail(`${who}: ${res.out.length} bytes of ${expected.length}, first difference at byte ${at}: '${res.out.slice(at, at + 40)}'`);
      }
    }
  });
});
