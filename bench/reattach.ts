// Re-attachment after a coordinator restart: agents that lost the coordinator for a
// while (their backoff grown) must be back within 2 s of it listening again. The
// coordinator is killed with SIGKILL, kept away `awayS`, started again; each agent's
// delay is from the coordinator answering to the agent's Hello being recorded.
import { Cluster } from "../test/support/cluster";
import { listAgents } from "../cli/agent-listing";

export async function reattachBenchmark(opts: { agents?: number; awayS?: number; rounds?: number } = {}): Promise<unknown> {
  const agents = opts.agents ?? 4;
  const awayS = opts.awayS ?? 20;
  const rounds = opts.rounds ?? 3;
  const cluster = await Cluster.create({ logging: { level: "warn" } });
  try {
    await cluster.startCoordinator();
    const ids = Array.from({ length: agents }, (_, i) => `re${i + 1}`);
    // The defaults of agent.reconnect_initial_s / reconnect_max_s, not the tests' short ones.
    for (const id of ids) await cluster.startAgent(id, { reconnect_initial_s: 0.5, reconnect_max_s: 2 });
    const delays: number[] = [];
    for (let r = 0; r < rounds; r++) {
      await Cluster.kill(cluster.coordinator, "SIGKILL");
      await new Promise((res) => setTimeout(res, awayS * 1000));
      await cluster.startCoordinator();
      const listening = Date.now() / 1000;
      const seen = new Map<string, number>();
      const a = cluster.admin();
      while (seen.size < agents && Date.now() / 1000 - listening < 120) {
        for (const v of await listAgents(a)) {
          if (!seen.has(v.id) && v.state === "connected") seen.set(v.id, Date.now() / 1000 - listening);
        }
        await new Promise((res) => setTimeout(res, 20));
      }
      delays.push(...seen.values());
      if (seen.size < agents) delays.push(Infinity);
    }
    delays.sort((x, y) => x - y);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      agents,
      awayS,
      rounds,
      target: "every agent back within 2 s of the coordinator listening",
      maxS: r2(delays.at(-1)!),
      medianS: r2(delays[Math.floor(delays.length / 2)]!),
      met: delays.at(-1)! <= 2,
    };
  } finally {
    await cluster.close();
  }
}
