// The candidate plot of a fold: pfd_plot.py (beside this file), run by the
// toolchain's python, draws <cand>.pfd.png from the .pfd with PRESTO's own
// presto.prepfold and matplotlib. prepfold's .ps is kept as prepfold wrote it,
// but it is not rendered: built against giza, its page is smaller than the plot
// and the right-hand panels and the bottom are missing from the file itself.
//
//   pfdPlotArgv(tc, pfd, work): argv of the step that writes `${pfd}.png`
//
// Under a wrapper (a container) the script is copied into the work dir, which the
// container sees as PRESTO's programs do, and run from there.
import fs from "node:fs";
import path from "node:path";
import type { Toolchain } from "../toolchain/toolchain";
import { PFD_PLOT_SCRIPT } from "./pfd-plot-script";

export function pfdPlotArgv(tc: Toolchain, pfd: string, work: string): string[] {
  let script = PFD_PLOT_SCRIPT;
  if (tc.provenance.wrapper.length) {
    script = path.join(work, path.basename(PFD_PLOT_SCRIPT));
    if (!fs.existsSync(script)) fs.copyFileSync(PFD_PLOT_SCRIPT, script);
  }
  return [...tc.cmd("python"), script, pfd, "-o", `${pfd}.png`];
}
