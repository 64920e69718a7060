// Linux /proc readers. Needed because signals alone can't answer "is this process
// group really gone?": kill(-pgid, 0) succeeds while any member is a zombie, and
// orphaned grandchildren stay zombies for as long as PID 1 doesn't reap them (some
// container inits never do). /proc also gives CPU times of processes we are about to
// SIGKILL, when the wrapper can no longer report them itself.
import fs from "node:fs";

/** /proc reports times in USER_HZ ticks, which Linux fixes at 100 on every architecture. */
export const CLOCK_TICKS_PER_S = 100;

export interface ProcStat {
  pid: number;
  /** R, S, D, Z, ... (Z/X = dead, waiting to be reaped) */
  state: string;
  ppid: number;
  pgid: number;
  /** start time in ticks since boot: with the boot id, identifies a process across pid reuse */
  startTicks: number;
  /** utime+stime of the process plus cutime+cstime of the children it has reaped */
  cpuTicks: number;
}

export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  // comm (field 2) is in parentheses and may itself contain spaces or ')'.
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(" "); // f[0] is field 3 (state)
  const num = (i: number) => Number(f[i]);
  return {
    pid,
    state: f[0] ?? "?",
    ppid: num(1),
    pgid: num(2),
    startTicks: num(19),
    cpuTicks: num(11) + num(12) + num(13) + num(14),
  };
}

export function isDeadState(state: string): boolean {
  return state === "Z" || state === "X" || state === "x";
}

/** True if pid exists and is not a zombie. */
export function isProcessLive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== undefined && !isDeadState(st.state);
}

/** All processes (zombies included) whose process group is pgid. Scans /proc. */
export function groupMembers(pgid: number): ProcStat[] {
  let names: string[];
  try {
    names = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const n of names) {
    const c = n.charCodeAt(0);
    if (c < 48 || c > 57) continue; // only pid directories
    const st = readProcStat(Number(n));
    if (st && st.pgid === pgid) out.push(st);
  }
  return out;
}

/** CPU seconds of a group's members, counting what each has already reaped. */
export function groupCpuS(pgid: number): number {
  let ticks = 0;
  for (const m of groupMembers(pgid)) ticks += m.cpuTicks;
  return ticks / CLOCK_TICKS_PER_S;
}

let procAvailable: boolean | undefined;
function haveProc(): boolean {
  procAvailable ??= fs.existsSync("/proc/self/stat");
  return procAvailable;
}

/**
 * Whether any non-zombie process is still in group pgid. The cheap kill(-pgid, 0) answers
 * the common "all gone" case; only when it says "someone" do we scan /proc to discount zombies.
 */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    // EPERM: members exist but aren't ours; still "alive" for our purposes
  }
  if (!haveProc()) return true;
  return groupMembers(pgid).some((m) => !isDeadState(m.state));
}

let cachedBootId: string | null | undefined;
/** Changes on every reboot; lets a pgid record from before a reboot be recognised as void. */
export function bootId(): string | undefined {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId ?? undefined;
}
