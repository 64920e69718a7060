// The status page's browser sessions: `/?token=<admin token>` once, and the browser holds a
// cookie naming a session of its own, never the token. A session is a random id kept in
// this process's memory only (a restarted coordinator forgets them: open ?token= again),
// and it expires.
import crypto from "node:crypto";

/** How long a browser session lasts (seconds). */
export const SESSION_S = 12 * 3600;
/** Sessions kept at most; the oldest go first (each one needed the admin token to make). */
const MAX_SESSIONS = 1000;

export class BrowserSessions {
  private readonly expiry = new Map<string, number>();

  constructor(
    private readonly lifetimeS = SESSION_S,
    private readonly now = () => Date.now() / 1000,
  ) {}

  /** A new session id (for the cookie). */
  create(): string {
    const t = this.now();
    for (const [id, until] of this.expiry) if (until <= t) this.expiry.delete(id);
    while (this.expiry.size >= MAX_SESSIONS) this.expiry.delete(this.expiry.keys().next().value!);
    const id = crypto.randomBytes(32).toString("base64url");
    this.expiry.set(id, t + this.lifetimeS);
    return id;
  }

  /** Whether the cookie's value names a live session. */
  valid(id: string): boolean {
    const until = this.expiry.get(id);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.expiry.delete(id);
    return false;
  }

  get maxAgeS(): number {
    return this.lifetimeS;
  }
}
