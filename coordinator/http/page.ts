// The status page: one self-contained HTML document (inline CSS and JS, no
// external assets). The first snapshot is embedded as JSON; later ones arrive over
// `GET /events`. Everything from the tracker (beam names, errors, log lines) is
// untrusted: the script only ever puts it in the DOM as text nodes (never
// innerHTML), the embedded JSON has <, >, & escaped, and the CSP allows no script
// but the page's own (by nonce).
import type { Snapshot } from "./snapshot";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON safe inside a <script> element: no `</script>`, no `<!--`, no line separators that break JS. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function pageCsp(nonce: string): string {
  return `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;
}

const CSS = `
:root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --mute:#5c6577; --line:#dde1e8; --bad:#b3261e; --ok:#1b7f3b; --run:#1f5fbf; --warn:#a15c00; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background:var(--bg); color:var(--ink); }
header { display:flex; align-items:baseline; gap:16px; padding:12px 20px; background:#1d2330; color:#fff; }
header h1 { font-size:18px; margin:0; }
header .meta { color:#c7cdd8; font-size:13px; }
#conn.live::before { content:"\\25CF "; color:#4ade80; } #conn.down::before { content:"\\25CF "; color:#f87171; }
main { display:grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap:16px; padding:16px 20px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; min-width:0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size:15px; margin:0 0 8px; } h2.sub { margin-top:10px; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; padding:4px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
th { color:var(--mute); font-weight:600; font-size:12px; text-transform:uppercase; letter-spacing:.03em; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
.states { display:flex; flex-wrap:wrap; gap:8px; }
.state { border:1px solid var(--line); border-radius:6px; padding:6px 10px; min-width:110px; }
.state .n { font-size:22px; font-weight:600; font-variant-numeric: tabular-nums; }
.state .l { color:var(--mute); font-size:12px; }
.state.terminal_failure .n, .bad { color:var(--bad); } .state.processed .n, .state.uploaded .n { color:var(--ok); }
.state.submitted .n { color:var(--run); } .state.retrying .n { color:var(--warn); }
.big { font-size:22px; font-weight:600; font-variant-numeric: tabular-nums; }
pre { margin:4px 0 0; padding:6px 8px; background:#f0f2f5; border-radius:4px; white-space:pre-wrap; word-break:break-all; font:12px/1.35 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.err { color:var(--bad); white-space:pre-wrap; word-break:break-word; }
tr.clickable { cursor:pointer; } tr.clickable:hover, tr.clickable:focus { background:#eef3fc; outline:none; } tr.selected { background:#dfe9fb; }
.bar { position:relative; height:8px; background:#e6e9ef; border-radius:4px; min-width:80px; margin-top:3px; }
.bar > span { position:absolute; left:0; top:0; bottom:0; background:var(--run); border-radius:4px; }
#log { height:360px; overflow:auto; background:#11151c; color:#e4e7ec; margin:0; }
.muted { color:var(--mute); } .pill { display:inline-block; padding:0 6px; border-radius:9px; font-size:12px; background:#eceff3; }
.pill.connected { background:#dcf5e3; color:var(--ok); } .pill.disconnected, .pill.never_seen { background:#fde2e0; color:var(--bad); }
.pill.drained, .pill.unfit { background:#fff1d6; color:var(--warn); }
.why { color:var(--warn); font-size:12px; white-space:pre-wrap; word-break:break-word; max-width:60ch; }
`;

const SCRIPT = `
"use strict";
const $ = (id) => document.getElementById(id);
/** Builds an element; strings become text nodes, never markup. */
function h(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, String(v));
  }
  for (const k of kids.flat()) if (k !== undefined && k !== null) e.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return e;
}
function progressText(p) {
  if (!p) return "";
  let t = p.phase;
  if (p.passes) t += ", pass " + p.pass + "/" + p.passes;
  if (p.dmTrials) t += ", " + p.dmTrialsDone + "/" + p.dmTrials + " DM trials";
  if (p.etaS !== undefined && p.etaS !== null) t += ", ~" + age(p.etaS) + " left";
  return t;
}

function age(s) {
  if (s === null || s === undefined) return "never";
  if (s < 60) return s.toFixed(1) + " s";
  if (s < 3600) return (s / 60).toFixed(1) + " min";
  if (s < 86400) return (s / 3600).toFixed(1) + " h";
  return (s / 86400).toFixed(1) + " d";
}
function bytes(n) {
  if (!n) return "0";
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + u[i];
}
function fill(id, ...rows) { $(id).replaceChildren(...rows); }

let snap = JSON.parse($("initial").textContent);
let following = null; // { attemptId, jobId, es, decoder }

function render(s) {
  snap = s;
  $("updated").textContent = "updated " + new Date(s.at * 1000).toLocaleTimeString() + " \\u00b7 up " + age(s.uptimeS);
  fill("jobs", ...Object.entries(s.jobs).map(([k, n]) => h("div", { class: "state " + k, "data-state": k }, h("div", { class: "n" }, n), h("div", { class: "l" }, k))));
  fill("attempts", ...Object.entries(s.attempts).filter(([, n]) => n > 0).map(([k, n]) => h("span", { class: "pill" }, k + " " + n)));
  $("perHour").textContent = s.beams.lastHour; $("per24h").textContent = s.beams.last24h; $("total").textContent = s.beams.total;
  fill("agents", ...(s.agents.length ? s.agents.map((a) => h("tr", { "data-agent": a.id },
    h("td", {}, a.id, h("div", { class: "muted" }, a.hostname)),
    h("td", {}, h("span", { class: "pill " + a.state }, a.state), " ", a.drained ? h("span", { class: "pill drained" }, a.drainedBy === "auto" ? "drained automatically" : "drained") : null,
      a.unfit.flatMap((u) => [" ", h("span", { class: "pill unfit", "data-unfit": u.jobType, title: u.reason }, "cannot run " + u.jobType)]),
      a.failureStreak ? h("div", { class: "muted" }, a.failureStreak + " failed in a row") : null,
      a.noBeamsReason ? h("div", { class: "why", "data-why": a.id }, "no beams: " + a.noBeamsReason) : null,
      a.canary ? h("div", { class: a.canary.status === "failed" ? "why" : "muted", "data-canary": a.id, title: a.canary.summary },
        "canary " + a.canary.status + (a.canary.finishedAt ? " " + age(s.at - a.canary.finishedAt) + " ago" : "")) : null),
    h("td", { class: "num" }, age(a.heartbeatAgeS)),
    h("td", { class: "num" }, a.coresReserved + " / " + a.cores, h("div", { class: "bar" }, barSpan(a.cores ? a.coresReserved / a.cores : 0))),
    h("td", { class: "num" }, a.load1.toFixed(2)),
    h("td", { class: "num" }, bytes(a.memoryFree)),
    h("td", { class: "num" }, bytes(a.shmFree) + " / " + bytes(a.shmTotal)))) : [h("tr", {}, h("td", { colspan: 7, class: "muted" }, "no agents registered"))]));
  fill("running", ...(s.running.length ? s.running.map((r) => h("tr", {
      class: "clickable" + (following && following.attemptId === r.attemptId ? " selected" : ""), tabindex: 0, "data-job": r.id, "data-attempt": r.attemptId,
      title: "follow this attempt's log", onclick: () => follow(r), onkeydown: (ev) => { if (ev.key === "Enter") follow(r); } },
    h("td", { class: "num" }, r.id), h("td", {}, r.beam), h("td", {}, r.agentId), h("td", { class: "num" }, r.attemptId + " (" + r.attemptStatus + ")"),
    h("td", { class: "num" }, age(s.at - r.startedAt)), h("td", {}, progressText(r.progress)), h("td", { class: "num" }, bytes(r.logBytes)))) : [h("tr", {}, h("td", { colspan: 7, class: "muted" }, "nothing running"))]));
  fill("failed", ...(s.failed.length ? s.failed.map((f) => h("tr", { "data-job": f.id },
    h("td", { class: "num" }, f.id), h("td", {}, f.beam, h("div", { class: "muted" }, f.status + ", " + f.failures + " failure" + (f.failures === 1 ? "" : "s"))),
    h("td", {}, h("div", { class: "err" }, f.error || "(no details)"), f.errorClass ? h("div", { class: "muted" }, f.errorClass) : null,
      f.attemptId ? h("div", { class: "muted" }, "last lines of attempt " + f.attemptId + ":") : null,
      f.logTail.length ? h("pre", { class: "tail" }, f.logTail.join("\\n")) : f.attemptId ? h("div", { class: "muted" }, "(empty log)") : null))) :
    [h("tr", {}, h("td", { colspan: 3, class: "muted" }, "no failed jobs"))]));
  const d = s.downloads;
  $("downloadsSection").hidden = !d;
  if (d) {
    const b = d.budget;
    fill("budget", h("div", { class: "bar", title: "downloaded + restored of space_to_use" }, barSpan(b.spaceToUse ? (b.used + b.pending) / b.spaceToUse : 0)),
      h("div", {}, bytes(b.used) + " downloaded + " + bytes(b.pending) + " restored of " + bytes(b.spaceToUse) + " (space_to_use) \u00b7 " +
        bytes(b.free) + " free, " + bytes(b.minFreeSpace) + " kept free \u00b7 " + d.active.length + " / " + b.numdownloads + " transfers \u00b7 " +
        d.queued + " queued" + (b.rate ? " \u00b7 " + bytes(b.rate) + "/s observed" : "")),
      ...d.sources.filter((x) => x.waitingFor).map((x) => h("div", { class: "muted" }, x.source + ": " + x.waitingFor)));
    fill("transfers", ...(d.active.length ? d.active.map((t) => h("tr", { "data-download": t.attemptId },
      h("td", {}, t.name, h("div", { class: "muted" }, t.source + (t.resumedFrom ? ", resumed from " + bytes(t.resumedFrom) : ""))),
      h("td", { class: "num" }, bytes(t.bytes) + " / " + bytes(t.size), h("div", { class: "bar" }, barSpan(t.size ? t.bytes / t.size : 0))),
      h("td", { class: "num" }, t.rate ? bytes(t.rate) + "/s" : "-"))) : [h("tr", {}, h("td", { colspan: 3, class: "muted" }, "no transfer running"))]));
    fill("requests", ...(d.requests.length ? d.requests.map((q) => h("tr", { "data-request": q.id },
      h("td", { class: "num" }, q.id), h("td", {}, q.source), h("td", {}, h("span", { class: "pill " + q.status }, q.status)),
      h("td", { class: "num" }, q.downloaded + " / " + q.files + (q.failed ? " (" + q.failed + " failed)" : "")),
      h("td", {}, q.errorClass ? h("div", { class: "err" }, q.errorClass + ": " + q.details) : q.details))) :
      [h("tr", {}, h("td", { colspan: 5, class: "muted" }, "no open restore request"))]));
  }
}
function barSpan(frac) { const sp = h("span"); sp.style.width = Math.round(Math.min(1, Math.max(0, frac)) * 100) + "%"; return sp; }

const LOG_KEEP = 256 * 1024;
function follow(r) {
  if (following) following.es.close();
  const log = $("log");
  log.textContent = "";
  const start = Math.max(0, r.logBytes - 64 * 1024);
  $("logTitle").textContent = "Log of job " + r.id + " (" + r.beam + "), attempt " + r.attemptId + " on " + r.agentId;
  $("logState").textContent = start ? "following (earlier output skipped)" : "following";
  const es = new EventSource("logs/" + encodeURIComponent(r.attemptId) + "/events?offset=" + start);
  const f = { attemptId: r.attemptId, jobId: r.id, es, decoder: new TextDecoder(), cr: "" };
  following = f;
  es.addEventListener("chunk", (ev) => {
    if (following !== f) return;
    const d = JSON.parse(ev.data);
    const raw = atob(d.b64); const buf = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) buf[i] = raw.charCodeAt(i);
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    // Agents run steps under a pty, so lines end in CR LF; a lone CR (progress output) starts a new line here.
    let piece = f.cr + f.decoder.decode(buf, { stream: true });
    f.cr = piece.endsWith("\\r") ? "\\r" : "";
    if (f.cr) piece = piece.slice(0, -1);
    let text = log.textContent + piece.replace(/\\r\\n?/g, "\\n");
    if (text.length > LOG_KEEP) text = text.slice(text.length - LOG_KEEP);
    log.textContent = text;
    if (atBottom) log.scrollTop = log.scrollHeight;
  });
  es.addEventListener("end", (ev) => {
    es.close();
    if (following !== f) return;
    $("logState").textContent = "attempt over: " + (JSON.parse(ev.data).status || "unknown");
  });
  es.onerror = () => { if (following === f && es.readyState !== EventSource.CLOSED) $("logState").textContent = "reconnecting\\u2026"; };
  es.onopen = () => { if (following === f) $("logState").textContent = start ? "following (earlier output skipped)" : "following"; };
  render(snap);
}

render(snap);
function connect() {
  const es = new EventSource("events");
  es.addEventListener("snapshot", (ev) => { $("conn").className = "live"; $("conn").textContent = "live"; render(JSON.parse(ev.data)); });
  es.onerror = () => { $("conn").className = "down"; $("conn").textContent = "disconnected, retrying"; };
}
connect();
`;

export function statusPage(initial: Snapshot, nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>beamflow coordinator</title>
<style nonce="${escapeHtml(nonce)}">${CSS}</style>
</head>
<body>
<header><h1>beamflow coordinator</h1><span id="conn" class="meta">connecting</span><span id="updated" class="meta"></span></header>
<main>
<section><h2>Jobs by state</h2><div id="jobs" class="states"></div><h2 class="sub">Attempts</h2><div id="attempts"></div></section>
<section><h2>Beams processed</h2><table><tr><th>last hour</th><th>last 24 h</th><th>total</th></tr>
<tr><td class="big" id="perHour"></td><td class="big" id="per24h"></td><td class="big" id="total"></td></tr></table></section>
<section class="wide"><h2>Agents</h2><table><thead><tr><th>agent</th><th>state</th><th class="num">heartbeat age</th><th class="num">cores used / total</th><th class="num">load</th><th class="num">memory free</th><th class="num">shm free / total</th></tr></thead><tbody id="agents"></tbody></table></section>
<section class="wide"><h2>Running jobs <span class="muted">(click one to follow its log)</span></h2><table><thead><tr><th class="num">job</th><th>beam</th><th>agent</th><th class="num">attempt</th><th class="num">running for</th><th>progress</th><th class="num">log</th></tr></thead><tbody id="running"></tbody></table></section>
<section class="wide"><h2 id="logTitle">Live log</h2><div id="logState" class="muted">pick a running job above</div><pre id="log"></pre></section>
<section class="wide" id="downloadsSection" hidden><h2>Downloads</h2><div id="budget"></div>
<table><thead><tr><th>file</th><th class="num">progress</th><th class="num">rate</th></tr></thead><tbody id="transfers"></tbody></table>
<h2 class="sub">Restore requests</h2><table><thead><tr><th class="num">id</th><th>source</th><th>state</th><th class="num">files</th><th>error</th></tr></thead><tbody id="requests"></tbody></table></section>
<section class="wide"><h2>Failed jobs</h2><table><thead><tr><th class="num">job</th><th>beam</th><th>last error and log</th></tr></thead><tbody id="failed"></tbody></table></section>
</main>
<script id="initial" type="application/json">${jsonForScript(initial)}</script>
<script nonce="${escapeHtml(nonce)}">${SCRIPT}</script>
</body>
</html>
`;
}
