// The Python that draws the candidate plots (agent/search/plots/pfd_plot.py):
// the `python` found like every other program (PRESTO's, under the prefix or on
// PATH, or inside the wrapper). It must import PRESTO's package and matplotlib;
// that is checked when the toolchain is loaded (a search fails at its start, not
// after hours of searching) and with the other programs by `beamflow doctor` and
// the agent's capability check (a node whose python cannot plot gets no beams),
// in the environment the steps get (PYTHONPATH holds a configured prefix's packages).
import { spawn } from "node:child_process";
import type { ResolvedProgram } from "./resolve";

export const PLOT_MODULES = ["presto.prepfold", "matplotlib", "numpy"] as const;

const CHECK_CODE =
  `import sys, ${PLOT_MODULES.join(", ")}; ` +
  `print("python %s, matplotlib %s, numpy %s" % (sys.version.split()[0], matplotlib.__version__, numpy.__version__))`;

export const PLOT_PYTHON_FIX =
  "the python found first must be the one PRESTO's package is installed for: set agent.toolchain.prefix to PRESTO's " +
  "install prefix (its lib/python3*/dist-packages then go on the steps' PYTHONPATH), or put that python first on " +
  "agent.toolchain.path or PATH, and install matplotlib and numpy for it";

export class PlotPythonError extends Error {
  constructor(
    readonly argv: string[],
    why: string,
  ) {
    super(`${argv.join(" ")} cannot draw the candidate plots: ${why}`);
    this.name = "PlotPythonError";
  }
}

/** Runs the import check; resolves with the versions line, rejects with a PlotPythonError saying why. */
export function checkPlotPython(python: ResolvedProgram, env: Record<string, string>, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const argv = [...python.argv, "-c", CHECK_CODE];
    const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env, MPLBACKEND: "Agg" } });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new PlotPythonError(python.argv, `cannot run it: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve(out.trim().split("\n").pop() ?? "");
      const last = err.trim().split("\n").filter(Boolean).pop();
      reject(new PlotPythonError(python.argv, last ?? (signal ? `killed by ${signal}` : `exit status ${code}`)));
    });
  });
}
