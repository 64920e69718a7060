// `npm ci --omit=dev` in a copy of this tree installs and runs: no install script needs a
// dev dependency (the generated protocol code is committed), and the launcher runs the
// TypeScript through tsx (a production dependency) when there is no dist/. Slow (npm
// builds better-sqlite3 and node-pty), so it runs by `npm run test:release`, which CI runs.
import { runAsync } from "../support/run-async";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.join(__dirname, "..", "..");

describe("npm ci --omit=dev", function () {
  this.timeout(900_000);
  let dir = "";

  after(() => {
    if (dir && !process.env.BEAMFLOW_KEEP_TEST_DIRS) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("installs a copy of the tree without dev dependencies, and beamflow runs from it", async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-npm-ci-"));
    // The files git tracks or would (not ignored), as they are in the work tree: what a clone has, edits included.
    const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
      .stdout.split("\0")
      .filter(Boolean);
    assert.ok(files.includes("package-lock.json") && files.includes("shared/gen/admin.ts"), "run from a git checkout");
    for (const f of files) {
      if (!fs.existsSync(path.join(ROOT, f))) continue; // deleted in the work tree
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(dir, f));
    }
    const npm = await runAsync("npm", ["ci", "--omit=dev", "--prefer-offline"], {
      cwd: dir,
      env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" },
    });
    assert.equal(npm.status, 0, `npm ci --omit=dev failed:\n${npm.out.split("\n").slice(-40).join("\n")}`);
    assert.ok(!fs.existsSync(path.join(dir, "node_modules", "typescript")), "dev dependencies were installed");
    assert.ok(!fs.existsSync(path.join(dir, "dist")), "no build ran");

    const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    const v = spawnSync(process.execPath, [path.join(dir, "bin", "beamflow"), "--version"], { cwd: dir, encoding: "utf8" });
    assert.equal(v.status, 0, v.stderr);
    assert.equal(v.stdout.trim(), version);
    // A command that loads the generated code, the config schema and the tracker.
    const init = spawnSync(process.execPath, [path.join(dir, "bin", "beamflow"), "init", "--data-dir", path.join(dir, "data")], { cwd: dir, encoding: "utf8" });
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stdout, /created job tracker/);
  });
});
