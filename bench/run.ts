// `npm run bench`: runs the benchmarks and prints one JSON document.
// `npm run bench -- dispatch` runs only the named ones.
import { dispatchBenchmark } from "./dispatch";
import { searchBenchmark, searchStandinBenchmark } from "./search";
import { uploadBenchmark } from "./upload";
import { logsBenchmark } from "./logs";
import { downloadBenchmark, stageinBenchmark } from "./transfer";
import { cliBenchmark } from "./cli";
import { stepsBenchmark } from "./steps";
import { siftBenchmark, synthBenchmark } from "./pieces";
import { reattachBenchmark } from "./reattach";
import { jobsBenchmark } from "./jobs";
import { agentsBenchmark } from "./agents";

const BENCHMARKS: Record<string, () => Promise<unknown>> = {
  dispatch: () => dispatchBenchmark(),
  // what the agent adds to each step (start, reap, record), for `true` steps
  steps: () => stepsBenchmark(),
  // the real PRESTO under /opt/presto when installed (else the stand-ins, saying so)
  search: () => searchBenchmark(),
  // the stand-in toolchain idling for the real programs' times: the agent's own cost
  "search-standin": () => searchStandinBenchmark(),
  upload: () => uploadBenchmark(),
  logs: () => logsBenchmark(),
  // a 1 GiB file staged into /dev/shm with its SHA-256, against cp and sha256sum
  stagein: () => stageinBenchmark(),
  // the same file over HTTP on loopback from the reference archive, against curl | sha256sum
  download: () => downloadBenchmark(),
  // `beamflow --version` and `--help`, fresh processes: compiled (as in a release) against the TypeScript through tsx
  cli: () => cliBenchmark(),
  // sifting the fixture beam's 307 ACCEL files; writing a 128-channel, 20 s synthetic beam
  // agents back after a coordinator restart (SIGKILL, 20 s away): target within 2 s
  reattach: () => reattachBenchmark(),
  // `jobs` listings over a tracker of 1,000,000 jobs: target < 100 ms each
  jobs: () => jobsBenchmark(),
  // 5,000 simulated agents heartbeating (BENCH_AGENTS, BENCH_AGENTS_DURATION_S, ...): coordinator < 25 % of a core, < 500 MB
  agents: () => agentsBenchmark(),
  sift: () => siftBenchmark(),
  synth: () => synthBenchmark(),
};

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  const names = wanted.length ? wanted : Object.keys(BENCHMARKS);
  const unknown = names.filter((n) => !BENCHMARKS[n]);
  if (unknown.length) throw new Error(`unknown benchmark ${unknown.join(", ")} (known: ${Object.keys(BENCHMARKS).join(", ")})`);
  const results: Record<string, unknown> = {};
  for (const n of names) results[n] = await BENCHMARKS[n]();
  process.stdout.write(JSON.stringify({ machine: { cpus: (await import("node:os")).availableParallelism(), node: process.version }, results }, null, 2) + "\n");
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : err}\n`);
  process.exit(1);
});
