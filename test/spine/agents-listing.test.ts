// Agents listed a page at a time by a real coordinator: with hundreds of agents registered,
// `beamflow agents --json` gives each once and in order, every reply holds at most a page,
// a cursor goes on after the agent it names, and `status` counts them all.
import assert from "node:assert/strict";
import { call } from "../../cli/admin-client";
import { findAgent } from "../../cli/agent-listing";
import { MAX_AGENTS_PAGE } from "../../coordinator/admin/admin-api";
import { Cluster } from "../support/cluster";

describe("spine: agents listed page by page", function () {
  this.timeout(120_000);
  let cluster: Cluster;

  afterEach(async () => {
    await cluster?.close();
  });

  it("lists 451 agents in pages, each once and in id order; a cursor, a limit and named agents are honoured", async () => {
    cluster = await Cluster.create();
    await cluster.startCoordinator();
    await cluster.startAgent("live");
    const a = cluster.admin();
    const registered = Array.from({ length: 450 }, (_, i) => `node${String(i).padStart(3, "0")}`);
    for (const agentId of registered) await call(a, a.client.registerAgent, { agentId, rotate: false });
    const all = ["live", ...registered].sort();

    // The CLI's reading, through every page.
    const r = cluster.cli(["agents", "--json"]);
    assert.equal(r.status, 0, r.stderr);
    const listed = (JSON.parse(r.stdout) as { id: string; state: string }[]).map((x) => x.id);
    assert.deepEqual(listed, all, "every agent once, in id order");

    // The pages themselves.
    const pages: number[] = [];
    let cursor = "";
    const seen: string[] = [];
    do {
      const page = await call(a, a.client.listAgents, { cursor, limit: 0, ids: [] });
      pages.push(page.agents.length);
      seen.push(...page.agents.map((x) => x.id));
      cursor = page.nextCursor;
      if (cursor) assert.equal(cursor, page.agents[page.agents.length - 1]!.id, "the cursor names the page's last agent");
    } while (cursor);
    assert.deepEqual(seen, all);
    assert.deepEqual(pages, [MAX_AGENTS_PAGE, MAX_AGENTS_PAGE, all.length - 2 * MAX_AGENTS_PAGE]);

    const small = await call(a, a.client.listAgents, { cursor: "node100", limit: 3, ids: [] });
    assert.deepEqual(
      small.agents.map((x) => x.id),
      ["node101", "node102", "node103"],
    );
    assert.equal(small.nextCursor, "node103");
    const huge = await call(a, a.client.listAgents, { cursor: "", limit: 100_000, ids: [] });
    assert.equal(huge.agents.length, MAX_AGENTS_PAGE, "no reply holds more than a page");

    const named = await call(a, a.client.listAgents, { cursor: "", limit: 0, ids: ["node007", "live", "nobody"] });
    assert.deepEqual(
      named.agents.map((x) => x.id),
      ["live", "node007"],
    );
    assert.equal(named.nextCursor, "");
    assert.equal((await findAgent(a, "live"))?.state, "connected");
    assert.equal((await findAgent(a, "node449"))?.state, "never_seen");
    assert.equal(await findAgent(a, "nobody"), undefined);

    const status = JSON.parse(cluster.cli(["status", "--json"]).stdout);
    assert.equal(status.agentsTotal, 451);
    assert.equal(status.agentsConnected, 1);
  });
});
