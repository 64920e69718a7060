// Every command-line argument is checked before anything is sent: a bad one is named
// in one line on stderr, the command exits with the status of its kind (cli/exit-codes.ts)
// and nothing is created. One real coordinator serves the whole table; the CLI runs as
// a real process, a few at a time.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import YAML from "yaml";
import { EXIT } from "../../cli/exit-codes";
import { writeSynthBeam } from "../../shared/synth";
import { BIN, Cluster } from "../support/cluster";
import { exitStatus } from "../support/exit-status";

interface Case {
  args: string[];
  exit: number;
  stderr: RegExp;
  /** lines on stderr (default 1; check-config says "FILE: 1 problem:" and then the problem) */
  lines?: number;
  /** a config other than the cluster's */
  config?: string;
  env?: NodeJS.ProcessEnv;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 90_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`beamflow ${args.join(" ")} did not exit within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    void exitStatus(child).then((status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

async function inBatches<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]);
      }
    }),
  );
  return out;
}

describe("CLI arguments: refused before anything is sent, with the right exit status", function () {
  this.timeout(600_000); // about 40 CLI processes: half a minute on two idle cores
  let cluster: Cluster;
  before(async () => {
    // Short synthetic beams are searchable here (add-files refuses what could not be searched).
    cluster = await Cluster.create({ search: { low_T_to_search: 0 } });
    await cluster.startCoordinator();
  });
  after(async () => cluster?.close());

  it("a table of bad inputs: one line naming the problem, the exit status of its kind, nothing created", async () => {
    const d = cluster.dir;
    const yaml = (name: string, cfg: unknown) => {
      const f = path.join(d, name);
      fs.writeFileSync(f, YAML.stringify(cfg));
      return f;
    };
    // No coordinator behind this one.
    const nowhere = yaml("nowhere.yaml", { data_dir: path.join(d, "nowhere") });
    fs.mkdirSync(path.join(d, "nowhere"));
    fs.writeFileSync(path.join(d, "nowhere", "admin.token"), "x\n");
    // The real socket, the wrong token.
    const wrongToken = yaml("wrong-token.yaml", { data_dir: path.join(d, "wrong"), coordinator: { admin_socket: path.join(cluster.dataDir, "admin.sock") } });
    fs.mkdirSync(path.join(d, "wrong"));
    fs.writeFileSync(path.join(d, "wrong", "admin.token"), "not-the-admin-token\n");
    const openHttp = yaml("open-http.yaml", { coordinator: { http_listen: "0.0.0.0:7051" } });
    const fine = yaml("fine.yaml", {});

    const cases: Case[] = [
      // submit
      { args: ["submit", "--", ""], exit: EXIT.usage, stderr: /^beamflow: empty command: give the program to run after '--'/ },
      { args: ["submit"], exit: EXIT.usage, stderr: /missing required argument 'argv'/ },
      { args: ["submit", "--count", "0", "--", "true"], exit: EXIT.usage, stderr: /--count <n>' argument '0' is invalid\. '0' is too small \(at least 1\)/ },
      { args: ["submit", "--count", "1.5", "--", "true"], exit: EXIT.usage, stderr: /--count .*not a whole number: '1\.5'/ },
      { args: ["submit", "--cores", "0", "--", "true"], exit: EXIT.usage, stderr: /--cores <n>' argument '0' is invalid/ },
      { args: ["submit", "--timeout", "soon", "--", "true"], exit: EXIT.usage, stderr: /--timeout <s>' argument 'soon' is invalid/ },
      { args: ["submit", "--name", "two\nlines", "--", "true"], exit: EXIT.usage, stderr: /--name .*line break/ },
      // ids
      {
        args: ["job", "99999999999999999999"],
        exit: EXIT.usage,
        stderr: /^beamflow: not a job id: '99999999999999999999' \('99999999999999999999' is too large/,
      },
      { args: ["job", "0"], exit: EXIT.usage, stderr: /not a job id: '0'/ },
      { args: ["job", "-1"], exit: EXIT.usage, stderr: /^beamflow: not a job id: '-1' \(a positive whole number\)$/ },
      { args: ["job", "4242"], exit: EXIT.notFound, stderr: /^beamflow: no job 4242$/ },
      { args: ["kill", "1", "x"], exit: EXIT.usage, stderr: /not a job id: 'x'/ },
      { args: ["stop", "4242"], exit: EXIT.notFound, stderr: /^job 4242: no job 4242\nbeamflow: 1 of 1 job not stopped$/, lines: 2 },
      // logs
      { args: ["logs", "a0"], exit: EXIT.usage, stderr: /^beamflow: not an attempt id: '0' \('0' is too small \(at least 1\)\)$/ },
      { args: ["logs", "4242"], exit: EXIT.notFound, stderr: /^beamflow: no job 4242$/ },
      { args: ["logs", "-f", "4242"], exit: EXIT.notFound, stderr: /^beamflow: no job 4242$/ },
      { args: ["logs", "-f", "a4242"], exit: EXIT.notFound, stderr: /^beamflow: no attempt 4242$/ },
      { args: ["logs", "--step", "", "1"], exit: EXIT.usage, stderr: /--step is empty/ },
      // listings
      { args: ["jobs", "--limit", "0"], exit: EXIT.usage, stderr: /--limit <n>' argument '0' is invalid/ },
      { args: ["jobs", "--status", "flying"], exit: EXIT.usage, stderr: /unknown job status 'flying' \(one of: new, submitted/ },
      { args: ["jobs", "--bogus"], exit: EXIT.usage, stderr: /^beamflow: unknown option '--bogus'/ },
      { args: ["frobnicate"], exit: EXIT.usage, stderr: /^beamflow: unknown command 'frobnicate'/ },
      // agents
      { args: ["drain", "bad id!"], exit: EXIT.usage, stderr: /not an agent id: "bad id!"/ },
      { args: ["drain", "ghost"], exit: EXIT.notFound, stderr: /^beamflow: no agent ghost$/ },
      { args: ["register-agent", "../x"], exit: EXIT.usage, stderr: /not an agent id: "\.\.\/x"/ },
      // add-files
      { args: ["add-files"], exit: EXIT.usage, stderr: /no files given/ },
      { args: ["add-files", path.join(d, "absent.fits")], exit: EXIT.notFound, stderr: /^beamflow: no such file: .*absent\.fits; nothing was registered$/ },
      { args: ["add-files", path.join(d, "new\nline.fits")], exit: EXIT.usage, stderr: /file name holds a line break or NUL: ".*new\\nline\.fits"/ },
      { args: ["add-files", "--param", "novalue", fine], exit: EXIT.usage, stderr: /--param wants key=value, got 'novalue'/ },
      { args: ["add-files", d], exit: EXIT.refused, stderr: /is a directory/ },
      // completion
      { args: ["completion", "fish"], exit: EXIT.usage, stderr: /no completion for shell 'fish' \(bash or zsh\)/ },
      // coordinator not there, or the token wrong
      { config: nowhere, args: ["jobs"], exit: EXIT.unavailable, stderr: /no coordinator is listening at/ },
      { config: wrongToken, args: ["jobs"], exit: EXIT.permission, stderr: /admin call refused: missing or wrong admin token/ },
      // check-config refuses what the coordinator and agent would refuse at start (every rule: test/shared/config/)
      { args: ["check-config", openHttp], exit: EXIT.config, stderr: /coordinator\.http_listen: refusing to listen on a non-loopback address/, lines: 2 },
      {
        args: ["check-config", fine],
        env: { BEAMFLOW_JOBS__LEASE_S: "soon" },
        exit: EXIT.config,
        stderr: /jobs\.lease_s: .*\(set by BEAMFLOW_JOBS__LEASE_S\)/,
        lines: 2,
      },
    ];
    const results = await inBatches(cases, 4, (c) => cli(["--config", c.config ?? cluster.configPath, ...c.args], c.env));
    const wrong: string[] = [];
    cases.forEach((c, i) => {
      const r = results[i];
      const stderr = r.stderr.trimEnd();
      const ok = r.status === c.exit && c.stderr.test(stderr) && stderr.split("\n").length === (c.lines ?? 1) && r.stdout === "";
      if (!ok) wrong.push(`beamflow ${JSON.stringify(c.args)}: exit ${r.status} (want ${c.exit}), stdout ${JSON.stringify(r.stdout)}, stderr:\n${r.stderr}`);
    });
    assert.deepEqual(wrong, []);

    // Nothing was created by any of them.
    assert.deepEqual(JSON.parse(cluster.cli(["jobs", "--json"]).stdout), []);
    assert.deepEqual(JSON.parse(cluster.cli(["agents", "--json"]).stdout), []);
    const ok = await cli(["check-config", fine]);
    assert.equal(ok.status, EXIT.ok, ok.stderr);
  });

  it("add-files exits non-zero (refused) when the coordinator rejected a file, after saying which", async () => {
    const a = path.join(cluster.dir, "a");
    const b = path.join(cluster.dir, "b");
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    writeSynthBeam({ nchan: 16, lengthS: 0.5, tsampS: 64e-6, seed: 1 }, path.join(a, "same.fits"));
    writeSynthBeam({ nchan: 16, lengthS: 0.5, tsampS: 64e-6, seed: 2 }, path.join(b, "same.fits"));
    const first = await cli(["--config", cluster.configPath, "add-files", path.join(a, "same.fits")]);
    assert.equal(first.status, EXIT.ok, first.stderr);
    const second = await cli(["--config", cluster.configPath, "add-files", path.join(b, "same.fits")]);
    assert.equal(second.status, EXIT.refused, second.stderr);
    assert.match(second.stdout, /^rejected .*b\/same\.fits: a file of the same name is tracked already/m);
    assert.equal(second.stderr, "beamflow: 1 file rejected\n");
    const json = await cli(["--config", cluster.configPath, "add-files", "--json", path.join(b, "same.fits")]);
    assert.equal(json.status, EXIT.refused);
    assert.equal(JSON.parse(json.stdout).rejected.length, 1);
  });
});
