// `beamflow agents` (and whoever needs every agent) reads the coordinator's agents page after
// page: with thousands of agents one reply would hold the coordinator and outgrow the message limit.
import type { AgentView } from "../shared/gen/admin";
import { type Admin, call } from "./admin-client";

/** Every agent, or only those named, in id order. */
export async function listAgents(a: Admin, ids: string[] = []): Promise<AgentView[]> {
  const agents: AgentView[] = [];
  let cursor = "";
  do {
    const r = await call(a, a.client.listAgents, { cursor, limit: 0, ids });
    agents.push(...r.agents);
    cursor = r.nextCursor;
  } while (cursor);
  return agents;
}

/** One agent's view; undefined when there is no such agent. */
export async function findAgent(a: Admin, id: string): Promise<AgentView | undefined> {
  return (await listAgents(a, [id]))[0];
}
