// The fence that holds while the agent cannot act: a paused (SIGSTOP, a frozen VM
// slice) or wedged agent cannot stop its steps, which run on in their own process
// groups. So a small separate process, told every second how long the agent's lease
// has left, kills the process groups of the agent's descendants when that time runs
// out without a new word. It is plain JavaScript run by the agent's own `node -e`
// (nothing to install, no file to find), and does nothing else.
import { type ChildProcess, spawn } from "node:child_process";
import type { Logger } from "../../shared/logging/logger";
import { SPAWNER_MARK } from "../runner/spawner";

// argv[1]: the agent's pid. stdin lines: "arm MS" (kill in MS ms unless told again), "disarm".
// When stdin closes (the agent is gone) it fences at once and exits.
const WATCHDOG_SOURCE = String.raw`
const fs = require("fs");
const SPAWNER_MARK = ${JSON.stringify(SPAWNER_MARK)};
const agent = Number(process.argv[1]);
function stat(pid) {
  try {
    const t = fs.readFileSync("/proc/" + pid + "/stat", "latin1");
    const f = t.slice(t.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(f[1]), pgid: Number(f[2]) };
  } catch { return null; }
}
function stepGroups() {
  const children = new Map(), pgids = new Map();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^[0-9]+$/.test(d)) continue;
    const s = stat(Number(d));
    if (!s) continue;
    pgids.set(Number(d), s.pgid);
    if (!children.has(s.ppid)) children.set(s.ppid, []);
    children.get(s.ppid).push(Number(d));
  }
  const own = new Set([pgids.get(agent), pgids.get(process.pid)]);
  // The agent's own helpers (the step spawner) lead groups whose children start groups of
  // their own, the steps: those are kept, only the steps' groups are killed. The spawner is
  // known by its mark, so that it is kept while it has no step too.
  for (const c of children.get(agent) || []) {
    try {
      if (fs.readFileSync("/proc/" + c + "/cmdline", "latin1").split("\0").includes(SPAWNER_MARK)) own.add(pgids.get(c));
    } catch {}
  }
  const groups = new Set(), parents = new Set(), stack = [agent];
  while (stack.length) {
    const p = stack.pop();
    for (const c of children.get(p) || []) {
      if (c === process.pid) continue;
      stack.push(c);
      const g = pgids.get(c);
      if (g > 1 && !own.has(g)) groups.add(g);
      if (p !== agent && pgids.get(p) !== g) parents.add(pgids.get(p));
    }
  }
  return [...groups].filter((g) => !parents.has(g));
}
function fence(why) {
  const groups = stepGroups();
  for (const g of groups) { try { process.kill(-g, "SIGKILL"); } catch {} }
  if (groups.length) process.stderr.write(JSON.stringify({ level: 40, time: Date.now(), part: "fence-watchdog", agentPid: agent, groups, msg: "the agent's lease ran out while it could not act (" + why + "): its steps' process groups killed" }) + "\n");
}
let timer = null, buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf("\n")) >= 0) {
    const [cmd, arg] = buf.slice(0, i).split(" ");
    buf = buf.slice(i + 1);
    if (timer) { clearTimeout(timer); timer = null; }
    if (cmd === "arm") timer = setTimeout(() => fence("no renewal in time"), Math.max(0, Number(arg)));
  }
});
process.stdin.on("end", () => { fence("the agent exited"); process.exit(0); });
`;

export class FenceWatchdog {
  private child: ChildProcess | null = null;
  private armed = false;

  constructor(private readonly log: Logger) {}

  start(): void {
    const child = spawn(process.execPath, ["-e", WATCHDOG_SOURCE, String(process.pid)], { stdio: ["pipe", "ignore", "inherit"] });
    child.on("error", (err) => this.log.error({ err }, "the fence watchdog could not start: a paused agent's steps would outlive its lease"));
    child.on("exit", (code, signal) => {
      if (this.child === child) this.log.error({ code, signal }, "the fence watchdog exited");
      this.child = null;
    });
    child.stdin?.on("error", () => {});
    // It must not keep the agent alive, nor be waited for.
    child.unref();
    (child.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
    this.child = child;
  }

  /** The agent's steps are killed in `ms` unless armed again (or disarmed) before then. */
  arm(ms: number): void {
    this.armed = true;
    this.child?.stdin?.write(`arm ${Math.max(0, Math.floor(ms))}\n`);
  }

  disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.child?.stdin?.write("disarm\n");
  }

  stop(): void {
    const c = this.child;
    this.child = null;
    if (!c) return;
    c.stdin?.write("disarm\n");
    c.kill("SIGTERM");
  }
}
