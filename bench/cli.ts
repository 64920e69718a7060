// CLI start-up benchmark: wall time of `beamflow --version` and `beamflow --help`, each
// a fresh process, and of `beamflow status` against a running coordinator (an operator's
// whole call: start, read and check the config, connect, ask, print), for
//  - compiled: the launcher running dist/ as in a release (this tree built into a temp dir
//    by scripts/release.ts, next to a link to this checkout's node_modules)
//  - source: the launcher running the TypeScript through tsx (a checkout without dist/)
//  - node: `node -e 0`, what any Node.js program pays before its first line
// Median, p90, min and mean in milliseconds over `runs` runs after one warm-up run.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "../scripts/release";
import { Cluster } from "../test/support/cluster";

const ROOT = path.join(__dirname, "..");

function timeRuns(argv: string[], runs: number, env: NodeJS.ProcessEnv) {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(argv[0], argv.slice(1), { env, stdio: ["ignore", "pipe", "pipe"] });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
    if (i > 0) times.push(ms); // the first run warms the page cache
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))];
  const round = (x: number) => Number(x.toFixed(1));
  return { medianMs: round(at(0.5)), p90Ms: round(at(0.9)), minMs: round(times[0]), meanMs: round(times.reduce((a, b) => a + b, 0) / times.length) };
}

export async function cliBenchmark(opts: { runs?: number } = {}) {
  const runs = opts.runs ?? 20;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-bench-cli-"));
  try {
    build(path.join(dir, "dist"));
    fs.mkdirSync(path.join(dir, "bin"));
    fs.copyFileSync(path.join(ROOT, "bin", "beamflow"), path.join(dir, "bin", "beamflow"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    const env = { ...process.env };
    delete env.BEAMFLOW_FROM_SOURCE;
    const node = process.execPath;
    const compiled = path.join(dir, "bin", "beamflow");
    const source = path.join(ROOT, "bin", "beamflow");
    const cluster = await Cluster.create({ logging: { level: "warn" } });
    let status: ReturnType<typeof timeRuns>;
    try {
      await cluster.startCoordinator();
      status = timeRuns([node, compiled, "--config", cluster.configPath, "status"], runs, env);
    } finally {
      await cluster.close();
    }
    return {
      runs,
      node: timeRuns([node, "-e", "0"], runs, env),
      compiled: {
        version: timeRuns([node, compiled, "--version"], runs, env),
        help: timeRuns([node, compiled, "--help"], runs, env),
        status,
      },
      source: {
        version: timeRuns([node, source, "--version"], Math.min(runs, 5), { ...env, BEAMFLOW_FROM_SOURCE: "1" }),
        help: timeRuns([node, source, "--help"], Math.min(runs, 5), { ...env, BEAMFLOW_FROM_SOURCE: "1" }),
      },
      loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
