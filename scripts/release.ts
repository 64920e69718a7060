// `npm run build`: the runtime's TypeScript compiled into dist/, with the files it reads
// beside its code. `npm run package [-- --out DIR]`: a release that installs and runs with
// Node.js alone (no compiler, no npm, no network): beamflow-<version>-linux-<arch>.tar.gz.
//
// A release holds one directory, beamflow-<version>-linux-<arch>/:
//   bin/beamflow          the launcher (it runs dist/, there being no TypeScript)
//   dist/                 the compiled code, its data files (see copyAssets), package.json, BUILT
//   node_modules/         the production dependencies, copied from this checkout's node_modules
//                         with their native modules built (better-sqlite3, node-pty): so the
//                         release is for this checkout's platform and Node.js ABI (in RELEASE)
//   deploy/               the example config, the systemd units and the batch pilot scripts
//   package.json, package-lock.json, README.md, RELEASE (what was built, from what, for what)
// The dependencies are those package-lock.json installs without --omit=dev, less what only
// runs the TypeScript (tsx and what it alone needs) and type declarations.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
/** The directories tsconfig.build.json compiles; their non-TypeScript files are data the code reads. */
const SOURCE_DIRS = ["shared", "coordinator", "agent", "cli"];
/** Dependencies the release does not need: it runs compiled code. */
const DEV_ONLY_AT_RUNTIME = new Set(["tsx"]);

function sh(cmd: string, args: string[], cwd = ROOT): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Files under the source dirs that are not TypeScript (pfd_plot.py, ...): the code finds them beside itself. */
function copyAssets(dist: string): string[] {
  const copied: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (!/\.(ts|tsx|mts|cts)$/.test(e.name)) {
        fs.mkdirSync(path.dirname(path.join(dist, r)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, r), path.join(dist, r));
        copied.push(r);
      }
    }
  };
  for (const d of SOURCE_DIRS) walk(d);
  // `beamflow init` copies the example config (cli/main.ts reads ../deploy from its own dir).
  fs.mkdirSync(path.join(dist, "deploy"), { recursive: true });
  fs.copyFileSync(path.join(ROOT, "deploy", "beamflow.example.yaml"), path.join(dist, "deploy", "beamflow.example.yaml"));
  copied.push("deploy/beamflow.example.yaml");
  return copied;
}

/** Compiles into `dist` (removed first); dist/BUILT carries the time the build started. */
export function build(dist = path.join(ROOT, "dist")): void {
  const started = new Date();
  fs.rmSync(dist, { recursive: true, force: true });
  sh(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(ROOT, "tsconfig.build.json"), "--outDir", dist]);
  copyAssets(dist);
  // shared/version.ts reads ../package.json: from dist/shared/ that is this one.
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  fs.writeFileSync(path.join(dist, "package.json"), JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: "commonjs" }, null, 2) + "\n");
  // Written last, dated when the build began: a source saved meanwhile makes it stale (bin/beamflow).
  const stamp = path.join(dist, "BUILT");
  fs.writeFileSync(stamp, started.toISOString() + "\n");
  fs.utimesSync(stamp, started, started);
}

type LockEntry = {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};

/** The lockfile keys (node_modules/a, node_modules/a/node_modules/b) the runtime needs, resolved as Node does. */
export function runtimePackages(lock: { packages: Record<string, LockEntry> }, nodeModules: string): string[] {
  const pkgs = lock.packages;
  const resolve = (from: string, name: string): string | undefined => {
    let base = from;
    for (;;) {
      const key = `${base ? `${base}/` : ""}node_modules/${name}`;
      if (pkgs[key]) return key;
      if (!base) return undefined;
      const i = base.lastIndexOf("/node_modules/");
      base = i < 0 ? "" : base.slice(0, i);
    }
  };
  const onDisk = (key: string) => fs.existsSync(path.join(nodeModules, "..", key, "package.json"));
  const wanted = new Set<string>();
  const visit = (from: string, names: string[]): void => {
    for (const name of names) {
      if (name.startsWith("@types/") || (from === "" && DEV_ONLY_AT_RUNTIME.has(name))) continue;
      const key = resolve(from, name);
      // Optional dependencies for other platforms (fsevents, ...) are not installed.
      if (!key || wanted.has(key) || !onDisk(key)) continue;
      wanted.add(key);
      const e = pkgs[key];
      const peers = Object.keys(e.peerDependencies ?? {}).filter((p) => !e.peerDependenciesMeta?.[p]?.optional);
      visit(key, [...Object.keys(e.dependencies ?? {}), ...Object.keys(e.optionalDependencies ?? {}), ...peers]);
    }
  };
  visit("", Object.keys(pkgs[""].dependencies ?? {}));
  for (const key of wanted) if (pkgs[key].dev) throw new Error(`${key} is needed at runtime but package-lock.json has it as a dev dependency`);
  return [...wanted].sort();
}

/** What a built native module needs at runtime: its JavaScript and build/Release/*.node, not its C/C++ sources. */
function pruneNative(dir: string): void {
  for (const sub of ["deps", "src", "third_party", "prebuilds", "node-addon-api"]) fs.rmSync(path.join(dir, sub), { recursive: true, force: true });
  const build = path.join(dir, "build");
  if (!fs.existsSync(build)) return;
  const release = path.join(build, "Release");
  const addons = fs.existsSync(release) ? fs.readdirSync(release).filter((f) => f.endsWith(".node") && !f.startsWith("test_")) : [];
  if (!addons.length) throw new Error(`${dir}: no build/Release/*.node (was it built?)`);
  const keep = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-addon-"));
  for (const f of addons) fs.renameSync(path.join(release, f), path.join(keep, f));
  fs.rmSync(build, { recursive: true, force: true });
  fs.mkdirSync(release, { recursive: true });
  for (const f of addons) fs.renameSync(path.join(keep, f), path.join(release, f));
  fs.rmSync(keep, { recursive: true, force: true });
}

function copyDependencies(into: string): number {
  const nodeModules = path.join(ROOT, "node_modules");
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
  const keys = runtimePackages(lock, nodeModules);
  for (const key of keys) {
    const from = path.join(ROOT, key);
    const to = path.join(into, key);
    const nested = path.join(from, "node_modules");
    fs.cpSync(from, to, {
      recursive: true,
      dereference: true,
      // Nested node_modules are packages of their own (copied when needed); docs, maps and declarations are not run.
      filter: (f) => f !== nested && (!/\.(md|map|d\.ts|d\.cts|d\.mts)$/i.test(path.basename(f)) || /^licen[cs]e/i.test(path.basename(f))),
    });
    if (fs.existsSync(path.join(to, "binding.gyp"))) pruneNative(to);
  }
  return keys.length;
}

export function releaseName(): string {
  const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  return `beamflow-${version}-${process.platform}-${process.arch}`;
}

function gitDescription(): string | undefined {
  const head = spawnSync("git", ["rev-parse", "HEAD"], { cwd: ROOT, encoding: "utf8" });
  if (head.status !== 0) return undefined;
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no", "--", ...SOURCE_DIRS, "package.json", "package-lock.json"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  return head.stdout.trim() + (dirty.stdout.trim() ? " (with uncommitted changes)" : "");
}

/** Builds the release tarball into outDir; returns its path. */
export function packageRelease(outDir = ROOT): string {
  if (process.platform !== "linux") throw new Error(`releases are built on Linux (this is ${process.platform})`);
  const name = releaseName();
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-package-"));
  try {
    const top = path.join(stage, name);
    build(path.join(top, "dist"));
    fs.mkdirSync(path.join(top, "bin"));
    fs.copyFileSync(path.join(ROOT, "bin", "beamflow"), path.join(top, "bin", "beamflow"));
    fs.chmodSync(path.join(top, "bin", "beamflow"), 0o755);
    fs.cpSync(path.join(ROOT, "deploy"), path.join(top, "deploy"), { recursive: true });
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    delete pkg.scripts;
    delete pkg.devDependencies;
    fs.writeFileSync(path.join(top, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
    for (const f of ["package-lock.json", "README.md"]) fs.copyFileSync(path.join(ROOT, f), path.join(top, f));
    const packages = copyDependencies(top);
    // The native modules load from what is left of them.
    sh(process.execPath, ["-e", "new (require('better-sqlite3'))(':memory:').close(); require('node-pty')"], top);
    const release = {
      name,
      version: pkg.version,
      commit: gitDescription() ?? "unknown",
      platform: process.platform,
      arch: process.arch,
      // Native modules are built for this ABI: the release needs a Node.js of the same major version.
      node: process.version,
      nodeModuleAbi: process.versions.modules,
      packages,
      builtAt: new Date().toISOString(),
    };
    fs.writeFileSync(path.join(top, "RELEASE"), JSON.stringify(release, null, 2) + "\n");
    fs.mkdirSync(outDir, { recursive: true });
    const out = path.join(path.resolve(outDir), `${name}.tar.gz`);
    const tmp = `${out}.partial`;
    sh(
      "tar",
      ["--sort=name", "--owner=0", "--group=0", "--numeric-owner", "--mode=u+rwX,go+rX,go-w", "--use-compress-program=gzip -n", "-cf", tmp, "-C", stage, name],
      stage,
    );
    fs.renameSync(tmp, out);
    return out;
  } finally {
    fs.rmSync(stage, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const [what, ...rest] = process.argv.slice(2);
  const outAt = rest.indexOf("--out");
  try {
    if (what === "build") {
      build();
      console.log(`built ${path.join(ROOT, "dist")}`);
    } else if (what === "package") {
      const t0 = Date.now();
      const out = packageRelease(outAt >= 0 ? rest[outAt + 1] : ROOT);
      console.log(`${out} (${(fs.statSync(out).size / 2 ** 20).toFixed(1)} MiB, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    } else {
      throw new Error("usage: release.ts build | package [--out DIR]");
    }
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : err}\n`);
    process.exit(1);
  }
}
