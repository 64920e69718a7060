// Command-job placeholders fill arguments only: a shell script gets them as positional
// parameters, so a value is never code (a real sh runs each result here).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expandCommand, shellScriptIndex } from "../../../agent/runner/command-template";

describe("command templates", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-template-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const facts = () => ({
    workdir: dir,
    beam: "obs$(touch pwned)`touch pwned2`;touch pwned3",
    job: 7,
    attempt: 9,
    cores: 2,
    files: [path.join(dir, "a b.fits"), path.join(dir, "c'd.fits")],
  });
  const run = (argv: string[]) => execFileSync(argv[0], argv.slice(1), { cwd: dir, encoding: "utf8" });

  it("finds the script of sh -c, bash -ec, env sh -c; not of other programs", () => {
    assert.equal(shellScriptIndex(["sh", "-c", "x"]), 2);
    assert.equal(shellScriptIndex(["/bin/bash", "-ec", "x", "n"]), 2);
    assert.equal(shellScriptIndex(["env", "sh", "-o", "pipefail", "-c", "x"]), 5);
    assert.equal(shellScriptIndex(["sh", "script.sh"]), -1);
    assert.equal(shellScriptIndex(["python3", "-c", "x"]), -1);
  });

  it("values reach a sh -c script as data, each file one parameter, the step's own parameters kept first", () => {
    const out = run(expandCommand(["sh", "-c", 'printf "<%s>" {beam} {files} "$1"; echo " in {workdir} job {job}"', "name", "own"], facts()));
    const f = facts();
    assert.equal(out, `<${f.beam}><${f.files[0]}><${f.files[1]}><own> in ${dir} job 7\n`);
    assert.deepEqual(fs.readdirSync(dir), [], "nothing ran from a value");
  });

  it("plain argv: placeholders inside arguments, {files} as its own arguments", () => {
    assert.deepEqual(expandCommand(["prog", "--beam={beam}", "{files}", "x{attempt}"], facts()), ["prog", `--beam=${facts().beam}`, ...facts().files, "x9"]);
  });
});
