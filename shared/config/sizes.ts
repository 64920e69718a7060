import { z } from "zod";
// Byte sizes in the config may be written for people ("2GiB", "512 MB") or as plain numbers.
const UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  ki: 2 ** 10,
  kib: 2 ** 10,
  mi: 2 ** 20,
  mib: 2 ** 20,
  gi: 2 ** 30,
  gib: 2 ** 30,
  ti: 2 ** 40,
  tib: 2 ** 40,
};

/** Parses "2GiB", "1.5 GB", "4096" or a number into bytes; returns undefined when it is not a size. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== "string") return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value);
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  return unit === undefined ? undefined : Math.round(parseFloat(m[1]) * unit);
}

export function formatSize(bytes: number): string {
  const steps = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < steps.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${steps[i]}`;
}

/** A size in the config: a number of bytes or a string such as 2GiB or 512MB, checked and turned into bytes. */
export const sizeSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const bytes = parseSize(v);
  if (bytes === undefined) {
    ctx.addIssue({ code: "custom", message: `not a size: ${JSON.stringify(v)} (write e.g. 2GiB, 512MB or a number of bytes)` });
    return z.NEVER;
  }
  return bytes;
});
