// Enrolment tokens, revoked and removed agents on a real tracker: secrets only as hashes,
// an expired, used-up or revoked token refused with its reason, a registered agent never
// taken over, a removed agent's history still naming it (foreign keys on).
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { AccessRefused, EnrolRefused } from "../../../coordinator/tracker/agent-access";
import { createTracker, openTracker } from "../../../coordinator/tracker/open";
import { hashToken, Tracker } from "../../../coordinator/tracker/tracker";

describe("tracker: enrolment tokens and agent access", () => {
  let dir: string;
  let dbPath: string;
  let t: Tracker;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-access-"));
    dbPath = path.join(dir, "tracker.db");
    createTracker(dbPath);
    t = new Tracker(openTracker(dbPath));
  });
  afterEach(() => {
    t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const token = (o: Partial<{ ttlS: number; uses: number; ephemeral: boolean; label: string }> = {}, at?: number) =>
    t.access.createEnrolToken({ ttlS: 900, uses: 1, ephemeral: false, label: "", ...o }, at);
  const refusedBy = (kind: "token" | "agent", re: RegExp) => (err: unknown) => err instanceof EnrolRefused && err.kind === kind && re.test(err.message);
  const job = () => t.createJob({ beam: "b", jobType: "commands", spec: {}, reservation: { cores: 1, memory: 0, shm: 0 } });

  it("keeps only the secret's hash; the secret enrols an agent once and gives it its own credential", () => {
    const { row, secret } = token({ label: "rack 4" });
    assert.match(secret, /^bfe_[A-Za-z0-9_-]{32}$/);
    const raw = new Database(dbPath, { readonly: true });
    const stored = raw.prepare("SELECT * FROM enrol_tokens").all() as Record<string, unknown>[];
    raw.close();
    assert.equal(stored.length, 1);
    assert.ok(!JSON.stringify(stored).includes(secret.slice(4)), "the secret is not stored");
    assert.equal(stored[0].token_hash, crypto.createHash("sha256").update(secret).digest("hex"));
    assert.equal(row.uses_left, 1);

    const r = t.access.enrol(secret, "node01");
    assert.equal(r.ephemeral, false);
    assert.notEqual(r.token, secret);
    const agent = t.agent("node01")!;
    assert.equal(agent.token_hash, hashToken(r.token), "the agent's credential is stored hashed");
    assert.equal(agent.enrolled_by, row.id);
    assert.equal(t.access.enrolToken(row.id)!.uses_left, 0);
    assert.ok(t.access.enrolToken(row.id)!.last_used_at);
  });

  it("refuses an unknown, expired, used-up or revoked token, saying which", () => {
    assert.throws(() => t.access.enrol("bfe_nonsense", "n1"), refusedBy("token", /unknown enrolment token/));
    const at = 1_000_000;
    const expired = token({ ttlS: 60 }, at);
    assert.throws(() => t.access.enrol(expired.secret, "n1", at + 61), refusedBy("token", /expired at 1970-01-12T13:47:40Z/));
    assert.throws(() => t.access.enrol(expired.secret, "n1", at + 60), refusedBy("token", /expired/), "expiry is exclusive");
    t.access.enrol(expired.secret, "n1", at + 59);

    const twice = token({ uses: 2 });
    t.access.enrol(twice.secret, "n2");
    t.access.enrol(twice.secret, "n3");
    assert.throws(() => t.access.enrol(twice.secret, "n4"), refusedBy("token", /used up \(2 uses\)/));
    assert.equal(t.agent("n4"), undefined, "a refused enrolment registers nothing");

    const revoked = token({ uses: 5 });
    t.access.revokeEnrolToken(revoked.row.id);
    assert.throws(() => t.access.enrol(revoked.secret, "n5"), refusedBy("token", /revoked at/));
    assert.throws(
      () => t.access.revokeEnrolToken(revoked.row.id),
      (e: unknown) => e instanceof AccessRefused && e.kind === "refused",
    );
    assert.throws(
      () => t.access.revokeEnrolToken(999),
      (e: unknown) => e instanceof AccessRefused && e.kind === "not_found",
    );
    assert.equal(t.access.enrolToken(revoked.row.id)!.uses_left, 5, "a refused enrolment spends no use");
  });

  it("never lets an enrolment take over a registered or revoked agent; an ephemeral one may enrol again", () => {
    t.registerAgent("node01", false);
    const { secret } = token({ uses: 10 });
    assert.throws(() => t.access.enrol(secret, "node01"), refusedBy("agent", /registered already.*cannot take over/));
    const eph = token({ uses: 10, ephemeral: true });
    const first = t.access.enrol(eph.secret, "pilot-1");
    assert.equal(first.ephemeral, true);
    assert.equal(t.agent("pilot-1")!.ephemeral, 1);
    // A requeued pilot enrols again under its id (the API refuses this while it is connected).
    const again = t.access.enrol(eph.secret, "pilot-1");
    assert.equal(t.agent("pilot-1")!.token_hash, hashToken(again.token));
    t.access.revokeAgent("pilot-1");
    assert.throws(() => t.access.enrol(eph.secret, "pilot-1"), refusedBy("agent", /was revoked/));
    assert.equal(t.access.enrolToken(eph.row.id)!.uses_left, 8, "refusals for the id spend no use");
  });

  it("revokes an agent: returns its live attempts; register-agent --rotate re-admits it", () => {
    t.registerAgent("node01", false);
    const attempt = t.assign(job(), "node01", { cores: 1, memory: 0, shm: 0 }, Date.now() / 1000 + 60);
    assert.deepEqual(
      t.access.revokeAgent("node01").map((a) => a.id),
      [attempt],
    );
    assert.ok(t.agent("node01")!.revoked_at);
    assert.equal(t.recordSeen("node01", {}), false, "a revoked agent's heartbeat is not recorded");
    assert.throws(() => t.access.revokeAgent("node01"), /revoked already/);
    assert.throws(
      () => t.access.revokeAgent("nobody"),
      (e: unknown) => e instanceof AccessRefused && e.kind === "not_found",
    );
    assert.throws(() => t.registerAgent("node01", false), /is revoked \(use --rotate/);
    t.registerAgent("node01", true);
    assert.equal(t.agent("node01")!.revoked_at, null);
    assert.equal(t.recordSeen("node01", {}), true);
  });

  it("removes an agent with no live attempt: deleted when nothing names it, else kept as history without a credential", () => {
    t.registerAgent("idle", false);
    assert.equal(t.access.removeAgent("idle"), "deleted");
    assert.equal(t.agent("idle"), undefined);

    t.registerAgent("busy", false);
    const j = job();
    const attempt = t.assign(j, "busy", { cores: 1, memory: 0, shm: 0 }, Date.now() / 1000 + 60);
    assert.throws(() => t.access.removeAgent("busy"), new RegExp(`holds live attempt ${attempt}`));
    t.lose(attempt, "test");
    assert.equal(t.access.removeAgent("busy"), "kept");
    const row = t.agent("busy")!;
    assert.ok(row.removed_at);
    assert.equal(row.token_hash, "", "no credential can match");
    assert.ok(!t.agents().some((a) => a.id === "busy"), "hidden from the agents listing");
    assert.equal(t.attempt(attempt)!.agent_id, "busy", "the history still names it (the foreign key holds)");
    assert.throws(
      () => t.access.removeAgent("busy"),
      (e: unknown) => e instanceof AccessRefused && e.kind === "not_found",
    );
    // Registered again, the same id is a new agent.
    t.registerAgent("busy", false);
    assert.equal(t.agent("busy")!.removed_at, null);
  });

  it("finds ephemeral agents gone longer than the limit that hold no live attempt", () => {
    const eph = token({ uses: 3, ephemeral: true });
    t.access.enrol(eph.secret, "p1");
    t.access.enrol(eph.secret, "p2");
    t.registerAgent("fixed", false);
    const later = Date.now() / 1000 + 1000;
    assert.deepEqual(
      t.access.goneEphemeralAgents(later).map((a) => a.id),
      ["p1", "p2"],
    );
    t.assign(job(), "p2", { cores: 1, memory: 0, shm: 0 }, later);
    assert.deepEqual(
      t.access.goneEphemeralAgents(later).map((a) => a.id),
      ["p1"],
    );
    assert.deepEqual(t.access.goneEphemeralAgents(Date.now() / 1000 - 1000), []);
  });
});
