// Tables and values for people; --json output bypasses all of this.
import Table from "cli-table3";
import { formatSize } from "../shared/config/sizes";

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] }, chars: { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" } });
  for (const r of rows) t.push(r.map(String));
  return t.toString();
}

export function when(unixS: number): string {
  if (!unixS) return "-";
  return new Date(unixS * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

export function ago(unixS: number, now = Date.now() / 1000): string {
  if (!unixS) return "never";
  return `${duration(now - unixS)} ago`;
}

export function duration(s: number): string {
  if (s < 0) s = 0;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)}s`;
  if (s < 3600)
    return `${Math.floor(s / 60)}m${Math.round(s % 60)
      .toString()
      .padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)
    .toString()
    .padStart(2, "0")}m`;
}

export const bytes = (n: number) => (n ? formatSize(n) : "-");

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}
