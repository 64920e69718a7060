// BEAMFLOW_* variables override config keys through the same schema, and the schema
// refuses what the coordinator and the agent refuse at start (so check-config does).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startProblems } from "../../../shared/config/checks";
import { applyEnv } from "../../../shared/config/env";
import { ConfigError, resolveConfig } from "../../../shared/config/load";

const resolve = (raw: unknown, env: NodeJS.ProcessEnv = {}) => resolveConfig(raw, "test.yaml", "/base", env);

function problems(raw: unknown, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    resolve(raw, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  return [];
}

describe("config: BEAMFLOW_* environment overrides", () => {
  it("map SECTION__KEY to section.key, over the file's value, typed as the key wants", () => {
    const cfg = resolve(
      { jobs: { lease_s: 600 }, agent: { labels: { site: "ao" } } },
      {
        BEAMFLOW_JOBS__LEASE_S: "30",
        BEAMFLOW_SEARCH__LOW_DM_CUTOFF: "1.5",
        BEAMFLOW_AGENT__ID: "007",
        BEAMFLOW_AGENT__LABELS__RACK: "r1",
        BEAMFLOW_AGENT__TOOLCHAIN__WRAPPER: "[apptainer, exec, presto.sif]",
        BEAMFLOW_COORDINATOR__HTTP_LISTEN: "",
        BEAMFLOW_DISPATCH__MEMORY_PER_BEAM: "1GiB",
        BEAMFLOW_JOBS__DELETE_RAWDATA: "true",
        BEAMFLOW_DATA_DIR: "/scratch/bf",
      },
    );
    assert.equal(cfg.jobs.lease_s, 30);
    assert.equal(cfg.search.low_DM_cutoff, 1.5, "mixed-case keys match regardless of case");
    assert.equal(cfg.agent.id, "007", "text keys take the value verbatim, not as a YAML number");
    assert.deepEqual(cfg.agent.labels, { site: "ao", rack: "r1" });
    assert.deepEqual(cfg.agent.toolchain.wrapper, ["apptainer", "exec", "presto.sif"]);
    assert.equal(cfg.coordinator.http_listen, "", "an empty value is an empty string: the status page off");
    assert.equal(cfg.dispatch.memory_per_beam, 2 ** 30);
    assert.equal(cfg.jobs.delete_rawdata, true);
    assert.equal(cfg.data_dir, "/scratch/bf");
    assert.equal(cfg.coordinator.db, "/scratch/bf/tracker.db", "paths derived from data_dir follow it");
  });

  it("leave other BEAMFLOW_* variables alone (the pilot scripts' BEAMFLOW_AGENT_ID, BEAMFLOW_CONFIG, …)", () => {
    const r = applyEnv({}, { BEAMFLOW_CONFIG: "x.yaml", BEAMFLOW_AGENT_ID: "n1", BEAMFLOW_TOKEN_FILE: "t", BEAMFLOW_LOG_FORMAT: "json", PATH: "/bin" });
    assert.deepEqual(r.raw, {});
    assert.deepEqual(r.problems, []);
  });

  it("name the variable when its key does not exist or its value is bad", () => {
    const p = problems(
      {},
      { BEAMFLOW_JOBS__LEASE_S: "soon", BEAMFLOW_JOBS__COLOUR: "red", BEAMFLOW_JOBS__LEASE_S__X: "1", BEAMFLOW_NOPE__X: "1", BEAMFLOW_JOBS____X: "1" },
    );
    assert.deepEqual(p.slice(0, 4), [
      "BEAMFLOW_JOBS__COLOUR: no config key jobs.colour",
      "BEAMFLOW_JOBS__LEASE_S__X: jobs.lease_s has no sub-keys",
      "BEAMFLOW_JOBS____X: an empty level in the name",
      "BEAMFLOW_NOPE__X: no config key nope",
    ]);
    assert.match(p[4], /^jobs\.lease_s: .*\(set by BEAMFLOW_JOBS__LEASE_S\)$/);
    assert.equal(p.length, 5);
  });
});

describe("config: the checks the coordinator and the agent make at start", () => {
  it("HTTP listeners only on loopback, ports in range, plain gRPC only locally, no '..' agent id", () => {
    assert.deepEqual(problems({}), []);
    const p = problems({
      coordinator: { http_listen: "0.0.0.0:7051", listen: "127.0.0.1:99999" },
      agent: { metrics_listen: "10.1.2.3:9100", id: "..", coordinator: "node:70000" },
    });
    assert.deepEqual(
      p.map((x) => x.replace(/: .*/, "")),
      ["coordinator.listen", "coordinator.http_listen", "agent.id", "agent.coordinator", "agent.metrics_listen"],
    );
    assert.match(p.join("\n"), /^coordinator\.http_listen: refusing to listen on a non-loopback address/m);
    assert.match(p.join("\n"), /^coordinator\.listen: port out of range \(at most 65535\)$/m);
    assert.match(p.join("\n"), /^agent\.metrics_listen: refusing to listen on a non-loopback address/m);
    assert.deepEqual(problems({ coordinator: { listen: "10.0.0.1:7050" } }), [
      "coordinator.listen: refusing to listen on 10.0.0.1:7050 without TLS: set coordinator.tls (or coordinator.allow_insecure_remote for a trusted private network)",
    ]);
    assert.deepEqual(problems({ coordinator: { listen: "10.0.0.1:7050", allow_insecure_remote: true } }), []);
    assert.deepEqual(problems({ coordinator: { http_listen: "[::1]:7051", listen: "unix:/run/bf.sock" }, agent: { metrics_listen: "localhost:9100" } }), []);
  });

  it("files read at start (TLS, notify secrets) must be readable", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-checks-"));
    try {
      fs.writeFileSync(path.join(dir, "ca.pem"), "x");
      const cfg = resolveConfig({ agent: { tls: { ca: "ca.pem", cert: "cert.pem", key: "key.pem" } } }, "t.yaml", dir, {});
      assert.deepEqual(startProblems(cfg), [
        `agent.tls.cert: ${dir}/cert.pem: cannot read it (ENOENT)`,
        `agent.tls.key: ${dir}/key.pem: cannot read it (ENOENT)`,
      ]);
      assert.deepEqual(startProblems(resolveConfig({}, "t.yaml", dir, {})), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
