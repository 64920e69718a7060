// The notify config section and the notices' texts: pure, no servers.
import assert from "node:assert/strict";
import { notifySchema } from "../../../shared/config/notify-schema";
import { buildNotice } from "../../../coordinator/notify/notice";
import { agentDrained, agentLost, BEAM, crashed, forGood, precheck, uploadFailed, willRetry } from "./fixtures";

describe("notify: config section", () => {
  it("parses {} to both channels off, with every default", () => {
    const sw = {
      on_failure_retry: true,
      on_terminal_failure: true,
      on_crash: true,
      on_agent_lost: true,
      on_agent_drained: true,
      on_precheck_failure: true,
      on_upload_failure: true,
    };
    assert.deepEqual(notifySchema.parse({}), {
      email: { enabled: false, smtp: { host: "", port: 25, secure: false, ignore_tls: false }, from: "", to: [], subject_prefix: "beamflow:", ...sw },
      webhook: { enabled: false, timeout_s: 10, ...sw },
    });
  });

  it("an enabled channel needs its address; problems carry their key path", () => {
    const r = notifySchema.safeParse({ email: { enabled: true }, webhook: { enabled: true } });
    assert.ok(!r.success);
    const paths = r.error.issues.map((i) => i.path.join(".")).sort();
    assert.deepEqual(paths, ["email.from", "email.smtp.host", "email.to", "webhook.url"]);
  });

  it("refuses unknown keys, a non-http URL, and a user without a password file (or the reverse)", () => {
    assert.ok(!notifySchema.safeParse({ email: { smtp: { pasword_file: "x" } } }).success);
    assert.ok(!notifySchema.safeParse({ webhook: { url: "ftp://example.org/x" } }).success);
    assert.ok(!notifySchema.safeParse({ email: { smtp: { user: "ops" } } }).success);
    assert.ok(!notifySchema.safeParse({ email: { smtp: { password_file: "/etc/pw" } } }).success);
    assert.ok(notifySchema.safeParse({ email: { smtp: { user: "ops", password_file: "/etc/pw" } }, webhook: { url: "https://h.example/x" } }).success);
  });
});

describe("notify: buildNotice", () => {
  it("failed for good: subject '<prefix> <what> — job <id> (<beam>)'; the body lists attempts, agents, statuses, errors, last error, raw data", () => {
    const n = buildNotice(forGood, "[palfa]");
    assert.equal(n.subject, `[palfa] failed for good — job 12 (${BEAM})`);
    for (const s of [
      "Job 12",
      BEAM,
      "#101",
      "node-a",
      "#102",
      "node-b",
      "lost",
      "#103",
      "node-c",
      "processing_failed",
      "prepsubband exited with status 1",
      "lease expired",
      "Last error:",
      "(out of memory?)",
      "Raw data deleted: no",
      "beamflow retry 12",
    ]) {
      assert.ok(n.text.includes(s), `body has ${JSON.stringify(s)}`);
    }
    const { kind, ...data } = forGood;
    assert.deepEqual(n.json, { event: kind, title: `failed for good — job 12 (${BEAM})`, data });
    const deleted = buildNotice({ ...forGood, rawDataDeleted: true });
    assert.equal(deleted.subject, `beamflow: failed for good, raw data deleted — job 12 (${BEAM})`);
    assert.ok(deleted.text.includes("Raw data deleted: yes"));
    assert.ok(!deleted.text.includes("beamflow retry"));
  });

  it("every kind has its subject", () => {
    assert.equal(buildNotice(willRetry).subject, `beamflow: failed, will be retried (1 of 2 attempts used) — job 12 (${BEAM})`);
    assert.equal(buildNotice(precheck).subject, `beamflow: presubmission check failed — job 13 (${BEAM})`);
    assert.equal(buildNotice(agentLost).subject, "beamflow: agent lost, 2 attempts requeued — agent node-b (node-b.cluster)");
    assert.equal(buildNotice(crashed).subject, "beamflow: crashed — dispatcher");
    assert.equal(buildNotice(uploadFailed).subject, `beamflow: upload failed for good — job 14 (${BEAM})`);
    assert.ok(buildNotice(uploadFailed).text.includes("compare: pdm_candidates row 1: sigma differs"));
    assert.ok(buildNotice(uploadFailed).text.includes("beamflow retry 14"));
    assert.ok(buildNotice(willRetry).text.includes("prepsubband exited with status 1"));
    assert.ok(buildNotice(precheck).text.includes("no zaplist for this beam"));
    assert.ok(buildNotice(agentLost).text.includes("2023-11-14T22:13:20Z"));
    assert.ok(buildNotice(crashed).text.includes("at schedule (dispatcher.ts:42:7)"));
    assert.equal(buildNotice(agentDrained).subject, "beamflow: agent drained automatically, it gets no new beams — agent node-c (node-c.cluster)");
    for (const s of ["3 failed attempts in a row on 3 beams", "#7  job 4", "missing_program", "#9  job 6", "workdir", "beamflow undrain node-c"]) {
      assert.ok(buildNotice(agentDrained).text.includes(s), `drained body has ${JSON.stringify(s)}`);
    }
  });

  it("keeps the subject on one line and is pure", () => {
    const odd = { ...precheck, beam: "evil\r\nBcc: someone@example.org" };
    assert.equal(buildNotice(odd).subject, "beamflow: presubmission check failed — job 13 (evil Bcc: someone@example.org)");
    assert.deepEqual(buildNotice(forGood), buildNotice(forGood));
  });
});
