// `npm run test:release`: the slow checks of how beamflow is installed, apart from
// `npm test`: `npm ci --omit=dev` in a copy of the tree (minutes: npm builds the native
// modules). The release tarball itself is tested in the cluster suite (test/release/release.test.ts).
const base = require("./.mocharc.json");

module.exports = { ...base, spec: ["test/release/npm-ci.test.ts"] };
