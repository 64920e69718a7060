// The kind of a step: its program, the first word of its name ("accelsearch",
// "prepsubband"), so DM values and file names never become metric labels and a
// beam's ~31,000 steps summarise into a dozen lines.

export function stepKind(name: string): string {
  const first = name.trim().split(/\s+/)[0] ?? "";
  return /^[A-Za-z0-9_.-]{1,40}$/.test(first) ? first : "other";
}
