// Which config a command uses: --config, else $BEAMFLOW_CONFIG, else
// ./beamflow.yaml if present, else every default with data under ./beamflow-data.
import fs from "node:fs";
import { defaultConfig, loadConfig } from "../shared/config/load";
import type { Config } from "../shared/config/schema";

export const DEFAULT_CONFIG_FILE = "beamflow.yaml";
export const DEFAULT_DATA_DIR = "./beamflow-data";

export function configFile(given?: string): string | undefined {
  if (given) return given;
  if (process.env.BEAMFLOW_CONFIG) return process.env.BEAMFLOW_CONFIG;
  return fs.existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

export function cliConfig(given?: string): Config {
  const file = configFile(given);
  return file ? loadConfig(file) : defaultConfig(DEFAULT_DATA_DIR);
}
