// The real PRESTO and psrfits_utils, for tests that run them (not the stand-ins in
// test/toolchain/). They are looked for in /opt/presto/bin (the bundle's prefix).
//
//   requirePresto(ctx): string   the bin dir when /opt/presto/bin/accelsearch exists;
//       otherwise ctx.skip() with a message saying real PRESTO is not installed, or,
//       with BEAMFLOW_REQUIRE_PRESTO=1 in the environment, an error (so a run that
//       must exercise the real programs never passes by skipping)
//   prestoEnv(bin): the environment the programs expect (PRESTO, PATH first)
import fs from "node:fs";
import path from "node:path";

export const PRESTO_PREFIX = "/opt/presto";
export const PRESTO_BIN = path.join(PRESTO_PREFIX, "bin");

export const NO_PRESTO_MESSAGE =
  `real PRESTO is not installed (no ${path.join(PRESTO_BIN, "accelsearch")}); ` +
  "install the PRESTO + psrfits_utils bundle under /opt/presto to run this test";

export function requirePresto(ctx: Mocha.Context): string {
  if (fs.existsSync(path.join(PRESTO_BIN, "accelsearch"))) return PRESTO_BIN;
  if (process.env.BEAMFLOW_REQUIRE_PRESTO === "1") {
    throw new Error(`${NO_PRESTO_MESSAGE} (BEAMFLOW_REQUIRE_PRESTO=1, so this is a failure, not a skip)`);
  }
  const runnable = ctx.currentTest ?? ctx.test;
  if (runnable && !runnable.title.includes("[skipped:")) runnable.title += ` [skipped: ${NO_PRESTO_MESSAGE}]`;
  ctx.skip();
  // ctx.skip() throws; this line only satisfies the type checker
  throw new Error(NO_PRESTO_MESSAGE);
}

export function prestoEnv(bin: string = PRESTO_BIN): NodeJS.ProcessEnv {
  const prefix = path.dirname(bin);
  return { ...process.env, PRESTO: prefix, PATH: `${bin}:${process.env.PATH ?? ""}`, MPLBACKEND: "Agg" };
}
