// A cheap summary of where the search's programs are: each one's file, size and
// mtime (a few stat calls, no program run), so an agent notices a program
// installed, removed or replaced without checking everything in full. Under a
// wrapper (e.g. `apptainer exec presto.sif`) the programs are inside an image:
// then the wrapper's command and the files it names (the image) are summarised.
import fs from "node:fs";
import path from "node:path";
import { SEARCH_PROGRAM_NAMES } from "./programs";
import { MissingProgramError, resolveProgram, searchDirs, type ToolchainSettings } from "./resolve";

function stamp(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${file}@${st.size}@${st.mtimeMs}`;
  } catch {
    return `${file}@-`;
  }
}

function onPath(command: string): string {
  if (command.includes("/")) return command;
  for (const dir of searchDirs({ path: [], prefix: "", wrapper: [] })) {
    const file = path.join(dir, command);
    if (fs.existsSync(file)) return file;
  }
  return command;
}

export function toolchainFingerprint(cfg: ToolchainSettings): string {
  if (cfg.wrapper.length) {
    const [command, ...words] = cfg.wrapper;
    return [onPath(command), ...words.filter((w) => w.includes("/") && fs.existsSync(w))].map(stamp).join("\n");
  }
  return SEARCH_PROGRAM_NAMES.map((name) => {
    try {
      return `${name}=${stamp(resolveProgram(name, cfg).file!)}`;
    } catch (err) {
      if (err instanceof MissingProgramError) return `${name}=-`;
      throw err;
    }
  }).join("\n");
}
