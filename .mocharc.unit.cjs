// `npm run test:unit`: every test file that .mocharc.cluster.cjs does not list; no real
// coordinator/agent processes, no PRESTO, so they run in parallel workers.
const base = require("./.mocharc.json");
const { spec: cluster } = require("./.mocharc.cluster.cjs");

module.exports = { ...base, spec: ["test/**/*.test.ts"], ignore: cluster, parallel: true };
