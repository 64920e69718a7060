// The socket directories of agents killed outright are removed by the next agent to start its
// spawner, and nothing else is: a live agent's, a young one, the caller's own, another
// user's file. A dead agent is made the real way: a process listening, then SIGKILLed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { SOCKET_DIR_PREFIX, SOCKET_NAME, SWEEP_MIN_AGE_MS, makeSocketDir, sweepDeadSocketDirs } from "../../../agent/runner/spawner-socket-dirs";

/** A socket directory whose listener was killed with SIGKILL: its socket file stays, nobody listens. */
async function deadAgentDir(tmp: string): Promise<string> {
  const dir = makeSocketDir(tmp);
  const sock = path.join(dir, SOCKET_NAME);
  const child = spawn(process.execPath, ["-e", "require('net').createServer().listen(process.argv[1], () => console.log('up'))", sock], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
  assert.ok(fs.existsSync(sock), "a killed listener leaves its socket file");
  return dir;
}

function age(dir: string, ms: number): void {
  const t = new Date(Date.now() - ms);
  fs.utimesSync(dir, t, t);
}

describe("spawner socket directories", () => {
  let tmp: string;
  let server: net.Server | undefined;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-sweep-"));
  });
  afterEach(() => {
    server?.close();
    server = undefined;
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("removes a dead agent's directory, and keeps a live agent's, a young one, its own and what is not a directory", async () => {
    const dead = await deadAgentDir(tmp);
    age(dead, SWEEP_MIN_AGE_MS + 5_000);
    const young = await deadAgentDir(tmp);
    const own = await deadAgentDir(tmp);
    age(own, SWEEP_MIN_AGE_MS + 5_000);
    const live = makeSocketDir(tmp);
    const s = net.createServer((c) => c.destroy());
    server = s;
    await new Promise<void>((r) => s.listen(path.join(live, SOCKET_NAME), r));
    age(live, SWEEP_MIN_AGE_MS + 5_000);
    const file = path.join(tmp, `${SOCKET_DIR_PREFIX}notadir`);
    fs.writeFileSync(file, "x");
    age(file, SWEEP_MIN_AGE_MS + 5_000);

    assert.equal(await sweepDeadSocketDirs(own, tmp), 1);
    assert.equal(fs.existsSync(dead), false, "the dead agent's directory is gone");
    for (const kept of [young, own, live, file]) assert.ok(fs.existsSync(kept), `${path.basename(kept)} is kept`);
    // The live agent's server still takes connections: the probe only connected and left.
    await new Promise<void>((resolve, reject) => net.connect(path.join(live, SOCKET_NAME)).once("connect", resolve).once("error", reject));
  });

  it("removes an old directory left without a socket (an agent killed before it listened)", async () => {
    const empty = makeSocketDir(tmp);
    age(empty, SWEEP_MIN_AGE_MS + 5_000);
    assert.equal(await sweepDeadSocketDirs(undefined, tmp), 1);
    assert.equal(fs.existsSync(empty), false);
  });
});
