// `npm run test:unit`: every test file that .mocharc.cluster.cjs and .mocharc.release.cjs do not list: no real
// coordinator/agent processes, no PRESTO, no PostgreSQL.
// Not --parallel: on the 2-core machines it saved nothing measurable (84 s against 87 s for
// these files) and a second worker beside them makes the runner's timing bounds fail
// (test/agent/runner/overhead.test.ts, test/agent/runner/stopping.test.ts).
const base = require("./.mocharc.json");
const { spec: cluster } = require("./.mocharc.cluster.cjs");
const { spec: release } = require("./.mocharc.release.cjs");

module.exports = { ...base, spec: ["test/**/*.test.ts"], ignore: [...cluster, ...release] };
