// Config: every problem reported at once with its key path; the example file
// documents every setting with its real default.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import YAML from "yaml";
import { ConfigError, defaultConfig, loadConfig } from "../../../shared/config/load";
import { configSchema } from "../../../shared/config/schema";
import { parseSize } from "../../../shared/config/sizes";
import { BIN } from "../../support/cluster";
import { EXIT } from "../../../cli/exit-codes";

const EXAMPLE = path.join(__dirname, "..", "..", "..", "deploy", "beamflow.example.yaml");

function keysOf(value: unknown, prefix = ""): string[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => keysOf(v, prefix ? `${prefix}.${k}` : k));
}

describe("config", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-config-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (text: string) => {
    const f = path.join(dir, "beamflow.yaml");
    fs.writeFileSync(f, text);
    return f;
  };

  it("reports every bad key at once, each with its path and what is wrong", () => {
    const f = write(
      [
        "jobs:",
        "  max_attempts: 0",
        "  lease_s: soon",
        "  colour: red",
        "dispatch:",
        "  memory_per_beam: lots",
        "agent:",
        "  id: 'bad id!'",
        "  coordinator: nowhere",
        "unknown_section: 1",
      ].join("\n"),
    );
    assert.throws(
      () => loadConfig(f),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.problems.join("\n");
        assert.match(text, /^jobs\.max_attempts: /m);
        assert.match(text, /^jobs\.lease_s: /m);
        assert.match(text, /^jobs: unknown key 'colour'/m);
        assert.match(text, /^dispatch\.memory_per_beam: not a size: "lots"/m);
        assert.match(text, /^agent\.id: /m);
        assert.match(text, /^agent\.coordinator: expected HOST:PORT/m);
        assert.match(text, /^\(top level\): unknown key 'unknown_section'/m);
        assert.equal(err.problems.length, 7);
        assert.ok(err.message.startsWith(`${f}: 7 problems`));
        return true;
      },
    );
  });

  it("names YAML syntax errors with their line, and a missing file", () => {
    assert.throws(() => loadConfig(write("jobs:\n  max_attempts: [1,\n")), /YAML syntax: .*line/);
    assert.throws(() => loadConfig(write("jobs:\n  lease_s: 1\njobs:\n  lease_s: 2\n")), /YAML syntax/);
    assert.throws(() => loadConfig(path.join(dir, "absent.yaml")), /cannot read the config file: ENOENT/);
  });

  it("resolves relative paths against the config file's directory and derives the rest from data_dir", () => {
    const cfg = loadConfig(write("data_dir: data\nagent:\n  work_base: shm/work\n"));
    assert.equal(cfg.data_dir, path.join(dir, "data"));
    assert.equal(cfg.coordinator.db, path.join(dir, "data", "tracker.db"));
    assert.equal(cfg.coordinator.admin_socket, path.join(dir, "data", "admin.sock"));
    assert.equal(cfg.agent.work_base, path.join(dir, "shm", "work"));
  });

  it("reads sizes for people", () => {
    assert.equal(parseSize("2GiB"), 2 * 2 ** 30);
    assert.equal(parseSize("1.5 GB"), 1.5e9);
    assert.equal(parseSize(4096), 4096);
    assert.equal(parseSize("12 parsecs"), undefined);
    assert.equal(loadConfig(write("dispatch:\n  memory_per_beam: 512MiB\n")).dispatch.memory_per_beam, 512 * 2 ** 20);
  });

  it("the example config documents every setting, with the schema's defaults", () => {
    const example = loadConfig(EXAMPLE);
    const defaults = defaultConfig(path.dirname(EXAMPLE) + "/beamflow-data");
    const exampleRaw = YAML.parse(fs.readFileSync(EXAMPLE, "utf8"));
    const documented = new Set(keysOf(exampleRaw));
    const text = fs.readFileSync(EXAMPLE, "utf8");
    for (const key of keysOf(configSchema.parse({}))) {
      const leaf = key.split(".").pop()!;
      assert.ok(documented.has(key) || new RegExp(`^\\s*#?\\s*${leaf}:`, "m").test(text), `${key} is documented in the example`);
    }
    assert.deepEqual(example, defaults);
  });

  it("`beamflow check-config` says OK or lists the problems and exits 78 (EX_CONFIG)", () => {
    const ok = spawnSync(process.execPath, [BIN, "check-config", EXAMPLE], { encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /OK/);
    const bad = spawnSync(process.execPath, [BIN, "check-config", write("jobs:\n  max_attempts: -1\n")], { encoding: "utf8" });
    assert.equal(bad.status, EXIT.config);
    assert.match(bad.stderr, /jobs\.max_attempts/);
    assert.equal(bad.stdout, "");
  });
});
