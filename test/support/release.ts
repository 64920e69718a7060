// The release tarball (`npm run package`), built once per test process from this tree
// into a temp dir, and the bare environment a compute node gives it: Node.js and a
// shell with coreutils on PATH, no compiler, no npm, no Python.
//
//   releaseTarball(): Promise<string>        the tarball's path (BEAMFLOW_TEST_RELEASE: use that one)
//   unpackRelease(tarball, into): string     unpacks it; returns the release's top directory
//   barePath(dir): string                    a PATH of symlinks to node, sh, bash and coreutils only
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runAsync } from "./run-async";

const ROOT = path.join(__dirname, "..", "..");

let building: Promise<string> | undefined;
let buildDir: string | undefined;

export function releaseTarball(): Promise<string> {
  if (process.env.BEAMFLOW_TEST_RELEASE) return Promise.resolve(path.resolve(process.env.BEAMFLOW_TEST_RELEASE));
  building ??= (async () => {
    buildDir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-release-"));
    const r = await runAsync(
      process.execPath,
      [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(ROOT, "scripts", "release.ts"), "package", "--out", buildDir],
      { cwd: ROOT },
    );
    const tarball = fs.existsSync(buildDir) ? fs.readdirSync(buildDir).find((f) => f.endsWith(".tar.gz")) : undefined;
    if (r.status !== 0 || !tarball) throw new Error(`npm run package failed (${r.status}):\n${r.out}`);
    return path.join(buildDir, tarball);
  })();
  return building;
}

process.on("exit", () => {
  if (buildDir && !process.env.BEAMFLOW_KEEP_TEST_DIRS) fs.rmSync(buildDir, { recursive: true, force: true });
});

export function unpackRelease(tarball: string, into: string): string {
  const r = spawnSync("tar", ["-xzf", tarball, "-C", into], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tar -xzf ${tarball}: ${r.stderr}`);
  return path.join(into, path.basename(tarball, ".tar.gz"));
}

const BASIC_TOOLS = [
  "sh",
  "bash",
  "env",
  "cat",
  "echo",
  "sleep",
  "ls",
  "mkdir",
  "rm",
  "mv",
  "cp",
  "ln",
  "chmod",
  "touch",
  "date",
  "id",
  "uname",
  "head",
  "tail",
  "wc",
  "tr",
  "cut",
  "sort",
  "df",
  "nproc",
  "true",
  "false",
];

/** Makes `dir` a PATH directory holding node and basic tools only; returns it. */
export function barePath(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(dir, "node"));
  for (const tool of BASIC_TOOLS) {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (found.startsWith("/")) fs.symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}
