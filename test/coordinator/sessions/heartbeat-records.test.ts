// Heartbeats of agents that hold nothing, gathered and written together on a real tracker
// file: what lands and when, how many commits it takes, a revoked agent's refusal, a full disk.
import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { HeartbeatRecords } from "../../../coordinator/sessions/heartbeat-records";
import type { Tracker } from "../../../coordinator/tracker/tracker";
import { silentLogger } from "../../../shared/logging/logger";
import { resources, scratchTracker } from "../fixtures";

describe("heartbeat records", () => {
  let scratch: ReturnType<typeof scratchTracker>;
  let tracker: Tracker;
  /** a second connection to the same file: what is on disk */
  let probe: Database.Database;
  let storageFailures: string[];
  let records: HeartbeatRecords;

  const seen = (id: string) =>
    probe.prepare("SELECT last_seen_at AS at, resources_json AS r FROM agents WHERE id = ?").get(id) as { at: number | null; r: string | null };

  beforeEach(() => {
    scratch = scratchTracker();
    tracker = scratch.tracker;
    probe = new Database(path.join(scratch.dir, "tracker.db"));
    storageFailures = [];
    records = new HeartbeatRecords({
      tracker,
      storageFailed: (err, what) => {
        storageFailures.push(`${what}: ${err.message}`);
        return true;
      },
      log: silentLogger(),
      flushMs: 60_000, // flushed by hand below
    });
  });
  afterEach(() => {
    records.close();
    probe.close();
    scratch.dispose();
  });

  it("writes nothing until the batch is flushed, then each agent's newest report, all in one transaction", () => {
    for (const id of ["a1", "a2", "a3"]) tracker.ensureAgent(id, `token-${id}`);
    records.report("a1", resources(2), () => assert.fail("a1 refused"));
    records.report("a2", resources(4), () => assert.fail("a2 refused"));
    records.report("a1", resources(8), () => assert.fail("a1 refused"));
    assert.equal(seen("a1").at, null, "nothing written before the flush");
    let statements = 0;
    const original = tracker.recordSeen.bind(tracker);
    tracker.recordSeen = (id, r, at) => {
      statements++;
      assert.ok((tracker as unknown as { db: Database.Database }).db.inTransaction, "each write inside the batch's one transaction");
      return original(id, r, at);
    };
    records.flush();
    assert.equal(statements, 2, "one write per agent, not one per heartbeat");
    assert.equal(JSON.parse(seen("a1").r!).cores, 8, "the newest report");
    assert.equal(JSON.parse(seen("a2").r!).cores, 4);
    assert.ok(Math.abs(seen("a1").at! - Date.now() / 1000) < 5);
    assert.equal(seen("a3").at, null, "an agent that sent nothing is not touched");
    records.flush();
    assert.equal(statements, 2, "nothing left to write");
  });

  it("calls the refusal of a revoked or removed agent when its heartbeat is written, and writes the others'", () => {
    for (const id of ["ok", "revoked", "removed"]) tracker.registerAgent(id, false);
    tracker.access.revokeAgent("revoked");
    tracker.access.removeAgent("removed");
    const refused: string[] = [];
    for (const id of ["ok", "revoked", "removed"]) records.report(id, resources(1), () => refused.push(id));
    assert.deepEqual(refused, []);
    records.flush();
    assert.deepEqual(refused.sort(), ["removed", "revoked"]);
    assert.ok(seen("ok").at !== null);
    assert.equal(seen("revoked").at, null, "a revoked agent's heartbeat is not recorded");
  });

  it("keeps the batch when the disk refuses it, and writes the newest report at the next flush", () => {
    tracker.ensureAgent("a1", "token-a1");
    records.report("a1", resources(2), () => undefined);
    const original = tracker.recordSeenMany.bind(tracker);
    tracker.recordSeenMany = () => {
      throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
    };
    records.flush();
    assert.deepEqual(storageFailures, ["agents' heartbeats: database or disk is full"]);
    assert.equal(seen("a1").at, null);
    tracker.recordSeenMany = original;
    records.report("a1", resources(6), () => undefined);
    records.flush();
    assert.equal(JSON.parse(seen("a1").r!).cores, 6);
  });

  it("forgets an agent's gathered report once a newer one was written on its own", () => {
    tracker.ensureAgent("a1", "token-a1");
    records.report("a1", resources(2), () => undefined);
    assert.ok(tracker.recordSeen("a1", resources(6)));
    records.drop("a1");
    records.flush();
    assert.equal(JSON.parse(seen("a1").r!).cores, 6, "the older report does not overwrite the newer one");
  });

  it("flushes by itself, at most flushMs after a report", async () => {
    tracker.ensureAgent("a1", "token-a1");
    const timed = new HeartbeatRecords({ tracker, storageFailed: () => false, log: silentLogger(), flushMs: 20 });
    timed.report("a1", resources(3), () => undefined);
    await new Promise((r) => setTimeout(r, 80));
    assert.equal(JSON.parse(seen("a1").r!).cores, 3);
    timed.close();
  });
});
