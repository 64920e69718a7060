// beamflow's own version, recorded by agents and with every result.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const BEAMFLOW_VERSION: string = (require("../package.json") as { version: string }).version;
