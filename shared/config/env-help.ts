// The environment variables the CLI's --help lists. Its own module, free of the config
// schema: `beamflow --help` shows it without loading zod, the schema or what that imports.
export const ENV_HELP = `Environment:
  BEAMFLOW_CONFIG        the config file when --config is not given
  BEAMFLOW_<SECTION>__<KEY>[__<SUBKEY>]=VALUE
                         overrides a config key, e.g. BEAMFLOW_JOBS__LEASE_S=30 (jobs.lease_s),
                         BEAMFLOW_DATA_DIR=/scratch/bf; values are YAML, validated like the file
  BEAMFLOW_LOG_FORMAT    json or pretty (default: pretty when stderr is a terminal, else json)`;
