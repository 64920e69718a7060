// Who may connect as an agent: enrolment tokens (an agent trades one for its own
// credential, once), and the end of an agent's access: revoked (its credential is
// refused from then on) and removed. Secrets are never stored, only their SHA-256.
// Each public method is one short transaction of named statements.
import crypto from "node:crypto";
import type Database from "better-sqlite3";
import type { AgentRow, AttemptRow, EnrolTokenRow } from "./rows";
import { LIVE_ATTEMPT_SQL } from "./states";

export type { EnrolTokenRow } from "./rows";

const now = () => Date.now() / 1000;
const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/** Enrolment secrets start so, so that one pasted where an agent credential belongs is recognised. */
export const ENROL_TOKEN_PREFIX = "bfe_";

/** Why an enrolment was refused: the token (unknown, expired, used up, revoked) or the agent id (taken, revoked). */
export class EnrolRefused extends Error {
  constructor(
    readonly kind: "token" | "agent",
    message: string,
  ) {
    super(message);
    this.name = "EnrolRefused";
  }
}

/** An operator action on an agent's access that its state does not allow (says why), or names no agent. */
export class AccessRefused extends Error {
  constructor(
    readonly kind: "not_found" | "refused",
    message: string,
  ) {
    super(message);
    this.name = "AccessRefused";
  }
}

export interface NewEnrolToken {
  ttlS: number;
  uses: number;
  ephemeral: boolean;
  label: string;
}

const iso = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d+Z$/, "Z");

/** Why a token row cannot enrol anyone at `at`, or undefined when it can. */
export function enrolTokenRefusal(t: EnrolTokenRow, at: number): string | undefined {
  if (t.revoked_at != null) return `enrolment token ${t.id} was revoked at ${iso(t.revoked_at)}`;
  if (t.expires_at <= at) return `enrolment token ${t.id} expired at ${iso(t.expires_at)}`;
  if (t.uses_left <= 0) return `enrolment token ${t.id} is used up (${t.uses} use${t.uses === 1 ? "" : "s"})`;
  return undefined;
}

/** The state `token list` shows: usable, expired, used_up or revoked. */
export function enrolTokenState(t: EnrolTokenRow, at = now()): "usable" | "expired" | "used_up" | "revoked" {
  if (t.revoked_at != null) return "revoked";
  if (t.expires_at <= at) return "expired";
  if (t.uses_left <= 0) return "used_up";
  return "usable";
}

export class AgentAccess {
  private readonly s;

  constructor(private readonly db: Database.Database) {
    this.s = {
      insertToken: db.prepare(`INSERT INTO enrol_tokens (token_hash, label, ephemeral, uses, uses_left, created_at, expires_at)
                               VALUES (@hash, @label, @ephemeral, @uses, @uses, @now, @expires)`),
      token: db.prepare("SELECT * FROM enrol_tokens WHERE id = ?"),
      tokenByHash: db.prepare("SELECT * FROM enrol_tokens WHERE token_hash = ?"),
      tokens: db.prepare("SELECT * FROM enrol_tokens ORDER BY id"),
      revokeToken: db.prepare("UPDATE enrol_tokens SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL"),
      // Guarded: a token is spent only while it is usable, so two enrolments racing for its last use cannot both win.
      spendToken: db.prepare(`UPDATE enrol_tokens SET uses_left = uses_left - 1, last_used_at = @now
                              WHERE id = @id AND uses_left > 0 AND expires_at > @now AND revoked_at IS NULL`),
      agent: db.prepare("SELECT * FROM agents WHERE id = ?"),
      insertAgent: db.prepare(`INSERT INTO agents (id, token_hash, registered_at, ephemeral, enrolled_by)
                               VALUES (@id, @hash, @now, @ephemeral, @token)`),
      // A removed agent's row (kept for its history) takes the new credential; everything it was is reset.
      reviveAgent: db.prepare(`UPDATE agents SET token_hash = @hash, registered_at = @now, ephemeral = @ephemeral, enrolled_by = @token,
                                 revoked_at = NULL, removed_at = NULL, drained = 0, drain_reason = '', drained_by = '', drained_at = NULL,
                                 capabilities_json = '', streak_since = @now, last_seen_at = NULL
                               WHERE id = @id AND (removed_at IS NOT NULL OR ephemeral = 1)`),
      revokeAgent: db.prepare("UPDATE agents SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL AND removed_at IS NULL"),
      liveAttemptsOf: db.prepare(`SELECT * FROM job_submits WHERE agent_id = ? AND status IN ${LIVE_ATTEMPT_SQL} ORDER BY id`),
      referenced: db.prepare(`SELECT (SELECT COUNT(*) FROM job_submits WHERE agent_id = @id) + (SELECT COUNT(*) FROM canary_runs WHERE agent_id = @id) AS n`),
      deleteAgent: db.prepare(
        `DELETE FROM agents WHERE id = @id AND NOT EXISTS (SELECT 1 FROM job_submits WHERE agent_id = @id AND status IN ${LIVE_ATTEMPT_SQL})`,
      ),
      // The credential is cleared ('' matches no SHA-256), so a removed agent can never connect again.
      tombstoneAgent: db.prepare(`UPDATE agents SET removed_at = @now, token_hash = '', drained = 0, drain_reason = '', drained_by = '', drained_at = NULL
                                  WHERE id = @id AND NOT EXISTS (SELECT 1 FROM job_submits WHERE agent_id = @id AND status IN ${LIVE_ATTEMPT_SQL})`),
      goneEphemeral: db.prepare(`SELECT * FROM agents g WHERE g.ephemeral = 1 AND g.removed_at IS NULL AND COALESCE(g.last_seen_at, g.registered_at) < @before
                                   AND NOT EXISTS (SELECT 1 FROM job_submits a WHERE a.agent_id = g.id AND a.status IN ${LIVE_ATTEMPT_SQL})
                                 ORDER BY g.id`),
    };
  }

  // ---- enrolment tokens -------------------------------------------------------------------

  /** Makes a token; the secret is returned once, only its hash is kept. */
  createEnrolToken(t: NewEnrolToken, at = now()): { row: EnrolTokenRow; secret: string } {
    if (!(t.ttlS > 0)) throw new AccessRefused("refused", "an enrolment token needs a lifetime above 0");
    if (!Number.isInteger(t.uses) || t.uses < 1) throw new AccessRefused("refused", "an enrolment token needs at least 1 use");
    const secret = ENROL_TOKEN_PREFIX + crypto.randomBytes(24).toString("base64url");
    const id = Number(
      this.s.insertToken.run({ hash: sha256(secret), label: t.label, ephemeral: t.ephemeral ? 1 : 0, uses: t.uses, now: at, expires: at + t.ttlS })
        .lastInsertRowid,
    );
    return { row: this.enrolToken(id)!, secret };
  }

  enrolToken(id: number): EnrolTokenRow | undefined {
    return this.s.token.get(id) as EnrolTokenRow | undefined;
  }

  enrolTokens(): EnrolTokenRow[] {
    return this.s.tokens.all() as EnrolTokenRow[];
  }

  /** No agent can enrol with it any more (agents that enrolled with it keep their own credentials). */
  revokeEnrolToken(id: number, at = now()): EnrolTokenRow {
    return this.db.transaction(() => {
      const t = this.enrolToken(id);
      if (!t) throw new AccessRefused("not_found", `no enrolment token ${id}`);
      if (t.revoked_at != null) throw new AccessRefused("refused", `enrolment token ${id} was revoked already at ${iso(t.revoked_at)}`);
      this.s.revokeToken.run({ id, now: at });
      return this.enrolToken(id)!;
    })();
  }

  /**
   * Trades an enrolment secret for the agent's own credential (returned once, only its hash
   * kept), spending one use of the token. A registered agent cannot be taken over: only a
   * removed one, or an ephemeral one (a pilot enrolling again under the same id; the caller
   * checks that it is not connected), takes the new credential.
   */
  enrol(secret: string, agentId: string, at = now()): { token: string; ephemeral: boolean; tokenId: number } {
    return this.db.transaction(() => {
      const t = this.s.tokenByHash.get(sha256(secret)) as EnrolTokenRow | undefined;
      if (!t) throw new EnrolRefused("token", "unknown enrolment token (never issued, or mistyped)");
      const why = enrolTokenRefusal(t, at);
      if (why) throw new EnrolRefused("token", why);
      const existing = this.s.agent.get(agentId) as AgentRow | undefined;
      if (existing && existing.removed_at == null) {
        if (existing.revoked_at != null)
          throw new EnrolRefused("agent", `agent '${agentId}' was revoked at ${iso(existing.revoked_at)}: an enrolment cannot re-admit it`);
        if (existing.ephemeral !== 1)
          throw new EnrolRefused(
            "agent",
            `agent '${agentId}' is registered already: enrolment cannot take over a registered agent (choose another agent.id, or 'beamflow register-agent ${agentId} --rotate')`,
          );
      }
      if (this.s.spendToken.run({ id: t.id, now: at }).changes !== 1)
        throw new EnrolRefused("token", enrolTokenRefusal(this.enrolToken(t.id)!, at) ?? "enrolment token is not usable");
      const token = crypto.randomBytes(24).toString("base64url");
      const row = { id: agentId, hash: sha256(token), now: at, ephemeral: t.ephemeral, token: t.id };
      if (existing) this.s.reviveAgent.run(row);
      else this.s.insertAgent.run(row);
      return { token, ephemeral: t.ephemeral === 1, tokenId: t.id };
    })();
  }

  // ---- revoked and removed agents ---------------------------------------------------------

  /** The agent's credential is refused from now on; returns its live attempts (the caller requeues them, uncounted). */
  revokeAgent(id: string, at = now()): AttemptRow[] {
    return this.db.transaction(() => {
      const a = this.s.agent.get(id) as AgentRow | undefined;
      if (!a || a.removed_at != null) throw new AccessRefused("not_found", `no agent ${id}`);
      if (a.revoked_at != null) throw new AccessRefused("refused", `agent ${id} was revoked already at ${iso(a.revoked_at)}`);
      this.s.revokeAgent.run({ id, now: at });
      return this.liveAttemptsOf(id);
    })();
  }

  liveAttemptsOf(agentId: string): AttemptRow[] {
    return this.s.liveAttemptsOf.all(agentId) as AttemptRow[];
  }

  /**
   * Removes an agent that holds no live attempt (the caller refuses a connected one). Its row
   * is deleted when nothing names it; otherwise it stays, credential cleared, so that the
   * attempts and canary runs that name it still refer to something ("kept").
   */
  removeAgent(id: string, at = now()): "deleted" | "kept" {
    return this.db.transaction(() => {
      const a = this.s.agent.get(id) as AgentRow | undefined;
      if (!a || a.removed_at != null) throw new AccessRefused("not_found", `no agent ${id}`);
      const live = this.liveAttemptsOf(id);
      if (live.length)
        throw new AccessRefused(
          "refused",
          `agent ${id} holds live attempt${live.length > 1 ? "s" : ""} ${live.map((x) => x.id).join(", ")}: revoke it (its attempts go back to the queue) or wait for them to end`,
        );
      if ((this.s.referenced.get({ id }) as { n: number }).n === 0) {
        this.s.deleteAgent.run({ id });
        return "deleted" as const;
      }
      this.s.tombstoneAgent.run({ id, now: at });
      return "kept" as const;
    })();
  }

  /** Ephemeral agents not seen since `before` that hold no live attempt: gone for good. */
  goneEphemeralAgents(before: number): AgentRow[] {
    return this.s.goneEphemeral.all({ before }) as AgentRow[];
  }
}
