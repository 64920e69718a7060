// Tables and values for people; --json output bypasses all of this.
import { formatSize } from "../shared/config/sizes";

/** Columns of display width 2 (CJK, fullwidth forms, emoji) and 0 (combining marks). */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u{1f300}-\u{1f64f}\u{1f900}-\u{1f9ff}\u{20000}-\u{3fffd}]/u;
const zeroWidth = (c: number) => (c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) || (c >= 0xfe00 && c <= 0xfe0f);
const ANSI = /\u001b\[[0-9;]*m/g;

/** Terminal columns a string takes. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s.replace(ANSI, "")) {
    const c = ch.codePointAt(0)!;
    if (c < 0x7f) w += c >= 0x20 ? 1 : 0;
    else w += zeroWidth(c) ? 0 : WIDE.test(ch) ? 2 : 1;
  }
  return w;
}

/**
 * A boxed table: header, then one line per row (a cell with newlines spans lines), no rules between rows.
 * Two passes over the cells (widths, then lines), so 50,000 rows take milliseconds (cli-table3's
 * layout was quadratic in the rows: minutes for `beamflow jobs` on a large survey).
 */
export function table(head: string[], rows: (string | number)[][]): string {
  const ncol = Math.max(head.length, ...rows.slice(0, 1).map((r) => r.length), 0);
  if (ncol === 0) return "";
  for (const r of rows) if (r.length > ncol) throw new Error(`table row of ${r.length} cells for ${ncol} columns`);
  const cellLines = (v: string | number | undefined) => String(v ?? "").split(/\r?\n/);
  const all = [head, ...rows].map((r) => Array.from({ length: ncol }, (_, i) => cellLines(r[i]).map((l) => [l, displayWidth(l)] as const)));
  const widths = new Array<number>(ncol).fill(0);
  for (const r of all) for (let i = 0; i < ncol; i++) for (const [, w] of r[i]) if (w > widths[i]) widths[i] = w;
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => "─".repeat(w + 2)).join(m) + r;
  const out = [rule("┌", "┬", "┐")];
  for (const r of all) {
    const height = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < height; k++) {
      let line = "│";
      for (let i = 0; i < ncol; i++) {
        const [text, w] = r[i][k] ?? ["", 0];
        line += ` ${text}${" ".repeat(widths[i] - w)} │`;
      }
      out.push(line);
    }
  }
  out.push(rule("└", "┴", "┘"));
  return out.join("\n");
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
