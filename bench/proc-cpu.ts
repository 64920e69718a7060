// CPU time from /proc (Linux), for charging a benchmark's cost to the process that paid it:
// a process's own user + system time, what its reaped children used (a step spawner's
// steps), its children now, and the whole machine's busy time.
import { execFileSync } from "node:child_process";
import fs from "node:fs";

/** Clock ticks per second of /proc's figures (USER_HZ; 100 on every Linux we know of). */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** Seconds of CPU (user + system) the process has used so far; its reaped children's too. Throws when it is gone. */
export function processCpu(pid: number): { self: number; children: number } {
  const f = statFields(pid);
  // proc(5), 1-based: utime 14, stime 15, cutime 16, cstime 17; f[0] is field 3 (state)
  return { self: (Number(f[11]) + Number(f[12])) / CLK_TCK, children: (Number(f[13]) + Number(f[14])) / CLK_TCK };
}

/** Seconds of CPU (user + system) the process has used so far. Throws when it is gone. */
export function cpuSeconds(pid: number): number {
  return processCpu(pid).self;
}

/** The pids of a process's children whose command name is `comm`. */
export function childrenNamed(pid: number, comm: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (name === comm && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Seconds of CPU the whole machine spent busy (everything but idle and iowait), summed over its CPUs. */
export function machineBusySeconds(): number {
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const t = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const all = t.reduce((n, x) => n + x, 0);
  return (all - t[3]! - t[4]!) / CLK_TCK; // idle, iowait
}
