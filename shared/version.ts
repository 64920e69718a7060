// beamflow's own version, recorded by agents and with every result.
export const BEAMFLOW_VERSION: string = (require("../package.json") as { version: string }).version;
