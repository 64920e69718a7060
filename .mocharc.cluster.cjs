// `npm run test:cluster`: the test files that start real coordinator/agent processes
// (they use test/support/cluster.ts or spawn bin/beamflow), run the real PRESTO
// (test/support/presto.ts) or need PostgreSQL (test/support/postgres.ts).
// Every other test file is a unit test (.mocharc.unit.cjs), so a new file runs in one of the two.
const base = require("./.mocharc.json");

const cluster = [
  "test/coordinator/canary/canary.test.ts",
  "test/shared/config/config.test.ts",
  "test/deploy/deploy.test.ts",
  "test/deploy/slurm-pilot.test.ts",
  "test/coordinator/downloader/coordinator-restart.test.ts",
  "test/agent/metrics/agent-metrics.test.ts",
  "test/coordinator/http/promtool.test.ts",
  "test/coordinator/http/status-page.test.ts",
  "test/logs/heavy-output.test.ts",
  "test/logs/logs-follow.test.ts",
  "test/coordinator/notify/cluster-notices.test.ts",
  "test/agent/search/plots/pfd-plot.test.ts",
  "test/protocol/wire-contract.test.ts",
  "test/release/release.test.ts",
  "test/coordinator/results/push-results.test.ts",
  "test/search-job/*.test.ts",
  "test/security/*.test.ts",
  "test/faults/short.test.ts",
  "test/spine/*.test.ts",
  "test/shared/synth/cli.test.ts",
  "test/shared/synth/presto.test.ts",
  "test/toolchain/*.test.ts",
  "test/coordinator/uploader/job-uploader.test.ts",
];

module.exports = { ...base, spec: cluster };
