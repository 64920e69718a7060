// Where pfd_plot.py lies (beside this file). Its own module because two read it:
// the plot step runs it, and the toolchain records its SHA-256 with the programs'.
import path from "node:path";

export const PFD_PLOT_SCRIPT = path.join(__dirname, "pfd_plot.py");
