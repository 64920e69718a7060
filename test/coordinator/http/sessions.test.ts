// The status page's browser sessions: random ids, each expiring, none the admin token.
import assert from "node:assert/strict";
import { BrowserSessions } from "../../../coordinator/http/sessions";

describe("status page: browser sessions", () => {
  it("a session is a fresh random id that expires", () => {
    let t = 1000;
    const s = new BrowserSessions(60, () => t);
    const a = s.create();
    const b = s.create();
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(s.valid(a), true);
    assert.equal(s.valid("made-up"), false);
    t += 61;
    assert.equal(s.valid(a), false, "expired");
    assert.equal(s.valid(b), false);
    assert.equal(s.valid(s.create()), true);
  });
});
