// Who may connect as an agent: `token create|list|revoke` (enrolment tokens) and
// `agents revoke|remove`. Every argument is checked before anything is sent.
import fs from "node:fs";
import { type Command, InvalidArgumentError } from "commander";
import type { EnrolTokenView } from "../shared/gen/admin";
import { call, connectAdmin } from "./admin-client";
import { checkAgentId, checkPath, intOption, parseId, textOption } from "./args";
import { cliConfig } from "./config-option";
import { printJson, table, when } from "./format";
import { run } from "./run";

interface Common {
  config?: string;
  json?: boolean;
}

const UNIT_S = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 } as const;
/** The longest lifetime an enrolment token may have (the coordinator refuses more). */
export const MAX_TTL_S = 366 * 86400;
/** The most uses an enrolment token may have. */
export const MAX_USES = 100_000;

/**
 * --ttl: a duration as one or more NUMBER+UNIT (s, m, h, d, w): 15m, 2h, 1h30m, 7d. A bare
 * number is refused (seconds or minutes?); from 1 s to 366 days.
 */
export function parseTtl(v: string): number {
  const t = v.trim();
  if (!/^(\d+(\.\d+)?[smhdw])+$/.test(t))
    throw new InvalidArgumentError(`not a duration: '${v}' (a number and a unit s, m, h, d or w, e.g. 15m, 2h, 1h30m, 7d)`);
  let s = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)) s += Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S];
  if (s < 1) throw new InvalidArgumentError(`'${v}' is too short (at least 1s)`);
  if (s > MAX_TTL_S) throw new InvalidArgumentError(`'${v}' is too long (at most 366d)`);
  return s;
}

function tokenRows(tokens: EnrolTokenView[]): (string | number)[][] {
  return tokens.map((t) => [
    t.id,
    t.label || "-",
    t.state,
    t.ephemeral ? "yes" : "no",
    `${t.usesLeft}/${t.uses}`,
    when(t.createdAt),
    when(t.expiresAt),
    t.lastUsedAt ? when(t.lastUsedAt) : "-",
  ]);
}

export function registerAccessCommands(program: Command): void {
  const admin = (opts: Common) => connectAdmin(cliConfig(opts.config));

  const token = program.command("token").description("enrolment tokens: an agent (or a pilot) started with one enrols once and gets its own credential");

  token
    .command("create")
    .description("make an enrolment token; its secret is shown once (only its hash is stored)")
    .requiredOption("--ttl <duration>", "usable for this long: 15m, 2h, 1h30m, 7d (at most 366d)", parseTtl)
    .option("--uses <n>", "enrolments it allows", intOption(1, MAX_USES), 1)
    .option("--ephemeral", "agents enrolled with it are removed when they leave (pilots)")
    .option("--label <text>", "who or what it is for (shown by `token list`)", textOption("--label"))
    .option("--token-file <file>", "write the secret to this file (mode 0600) instead of printing it")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common & { ttl: number; uses: number; ephemeral?: boolean; label?: string; tokenFile?: string }) => {
        if (opts.tokenFile !== undefined) checkPath(opts.tokenFile, "--token-file");
        const a = admin(opts);
        const r = await call(a, a.client.createEnrolToken, { ttlS: opts.ttl, uses: opts.uses, ephemeral: !!opts.ephemeral, label: opts.label ?? "" });
        const t = r.token!;
        const what = `enrolment token ${t.id}: ${t.uses} use${t.uses === 1 ? "" : "s"}${t.ephemeral ? ", ephemeral agents" : ""}, expires ${new Date(t.expiresAt * 1000).toISOString()}`;
        if (opts.tokenFile) {
          fs.writeFileSync(opts.tokenFile, `${r.secret}\n`, { mode: 0o600 });
          fs.chmodSync(opts.tokenFile, 0o600);
          if (opts.json) printJson({ token: t, tokenFile: opts.tokenFile });
          else console.log(`${what}; secret written to ${opts.tokenFile}`);
        } else if (opts.json) printJson(r);
        else {
          // The secret alone on stdout (for `> file`); what it is on stderr.
          console.log(r.secret);
          process.stderr.write(`${what} (the secret is shown only this once)\n`);
        }
      }),
    );

  token
    .command("list")
    .description("enrolment tokens: state, uses left, expiry (never their secrets)")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common) => {
        const a = admin(opts);
        const r = await call(a, a.client.listEnrolTokens, {});
        if (opts.json) return printJson(r.tokens);
        console.log(table(["id", "label", "state", "ephemeral", "uses left", "created", "expires", "last used"], tokenRows(r.tokens)));
      }),
    );

  token
    .command("revoke <id>")
    .description("no agent can enrol with this token any more (agents that enrolled keep their credentials)")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common, id: string) => {
        const tokenId = parseId(id, "enrolment token id");
        const a = admin(opts);
        const t = await call(a, a.client.revokeEnrolToken, { id: tokenId });
        if (opts.json) return printJson(t);
        console.log(`enrolment token ${t.id}: revoked`);
      }),
    );

  const agents = program.commands.find((c) => c.name() === "agents");
  if (!agents) throw new Error("the agents command must be registered first");

  agents
    .command("revoke <agent>")
    .description("refuse an agent's credential from now on: its stream is closed within a heartbeat, its running beams requeued (not counted)")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common, agentId: string) => {
        checkAgentId(agentId);
        const a = admin(opts);
        const r = await call(a, a.client.revokeAgent, { agentId });
        if (opts.json) return printJson(r);
        const requeued = r.requeuedAttempts.length
          ? `; attempt${r.requeuedAttempts.length > 1 ? "s" : ""} ${r.requeuedAttempts.join(", ")} requeued (not counted)`
          : "";
        console.log(`agent ${agentId}: revoked${r.wasConnected ? "; its stream was closed" : ""}${requeued}`);
      }),
    );

  agents
    .command("remove <agent>")
    .description("delete an agent that is gone (disconnected, running nothing); its attempts' history stays")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: Common, agentId: string) => {
        checkAgentId(agentId);
        const a = admin(opts);
        const r = await call(a, a.client.removeAgent, { agentId });
        if (opts.json) return printJson(r);
        console.log(`agent ${agentId}: removed${r.keptAsHistory ? " (its attempts' history still names it)" : ""}`);
      }),
    );
}
