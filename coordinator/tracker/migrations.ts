// Versioned schema of the job tracker. A migration is never edited once
// released: add a new one. PALFA's objects keep their names (requests, files,
// download_attempts, jobs, job_files, job_submits = attempts); times are unix
// seconds (REAL), not local-time strings.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Triggers that keep status_counts (migration 10) exact for one table, whatever changes its rows. */
function countedByStatus(table: string): string {
  return `CREATE TRIGGER ${table}_counted_insert AFTER INSERT ON ${table} BEGIN
  INSERT INTO status_counts VALUES ('${table}', new.status, 1) ON CONFLICT (tbl, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ${table}_counted_update AFTER UPDATE OF status ON ${table} WHEN old.status IS NOT new.status BEGIN
  UPDATE status_counts SET n = n - 1 WHERE tbl = '${table}' AND status = old.status;
  INSERT INTO status_counts VALUES ('${table}', new.status, 1) ON CONFLICT (tbl, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER ${table}_counted_delete AFTER DELETE ON ${table} BEGIN
  UPDATE status_counts SET n = n - 1 WHERE tbl = '${table}' AND status = old.status;
END;`;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: "palfa objects, agents, steps, diagnostics",
    sql: `
CREATE TABLE agents (
  id            TEXT PRIMARY KEY,
  token_hash    TEXT NOT NULL,
  hostname      TEXT NOT NULL DEFAULT '',
  version       TEXT NOT NULL DEFAULT '',
  labels_json   TEXT NOT NULL DEFAULT '{}',
  drained       INTEGER NOT NULL DEFAULT 0,
  resources_json TEXT NOT NULL DEFAULT '{}',
  registered_at REAL NOT NULL,
  last_seen_at  REAL
);

CREATE TABLE requests (
  id           INTEGER PRIMARY KEY,
  guid         TEXT NOT NULL UNIQUE,
  size         INTEGER,
  numbits      INTEGER,
  numrequested INTEGER,
  file_type    TEXT,
  status       TEXT NOT NULL,
  details      TEXT NOT NULL DEFAULT '',
  created_at   REAL NOT NULL,
  updated_at   REAL NOT NULL
);
CREATE INDEX requests_status ON requests(status);

CREATE TABLE files (
  id              INTEGER PRIMARY KEY,
  request_id      INTEGER REFERENCES requests(id),
  remote_filename TEXT,
  filename        TEXT NOT NULL UNIQUE,
  size            INTEGER NOT NULL,
  sha256          TEXT,
  status          TEXT NOT NULL,
  details         TEXT NOT NULL DEFAULT '',
  created_at      REAL NOT NULL,
  updated_at      REAL NOT NULL
);
CREATE INDEX files_status ON files(status);

CREATE TABLE download_attempts (
  id         INTEGER PRIMARY KEY,
  file_id    INTEGER NOT NULL REFERENCES files(id),
  status     TEXT NOT NULL,
  details    TEXT NOT NULL DEFAULT '',
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);
CREATE INDEX download_attempts_file ON download_attempts(file_id);
CREATE INDEX download_attempts_status ON download_attempts(status);

CREATE TABLE jobs (
  id                 INTEGER PRIMARY KEY,
  beam               TEXT NOT NULL,
  job_type           TEXT NOT NULL,
  spec_json          TEXT NOT NULL DEFAULT '{}',
  cores              INTEGER NOT NULL,
  memory             INTEGER NOT NULL,
  shm                INTEGER NOT NULL,
  status             TEXT NOT NULL,
  failures           INTEGER NOT NULL DEFAULT 0,
  current_attempt_id INTEGER,
  details            TEXT NOT NULL DEFAULT '',
  created_at         REAL NOT NULL,
  updated_at         REAL NOT NULL
);
CREATE INDEX jobs_status ON jobs(status, id);

CREATE TABLE job_files (
  id         INTEGER PRIMARY KEY,
  job_id     INTEGER NOT NULL REFERENCES jobs(id),
  file_id    INTEGER NOT NULL UNIQUE REFERENCES files(id),
  created_at REAL NOT NULL
);
CREATE INDEX job_files_job ON job_files(job_id);

CREATE TABLE job_submits (
  id               INTEGER PRIMARY KEY,
  job_id           INTEGER NOT NULL REFERENCES jobs(id),
  agent_id         TEXT NOT NULL REFERENCES agents(id),
  status           TEXT NOT NULL,
  error_class      TEXT NOT NULL DEFAULT '',
  details          TEXT NOT NULL DEFAULT '',
  cores            INTEGER NOT NULL,
  memory           INTEGER NOT NULL,
  shm              INTEGER NOT NULL,
  lease_expires_at REAL NOT NULL,
  created_at       REAL NOT NULL,
  started_at       REAL,
  finished_at      REAL,
  updated_at       REAL NOT NULL
);
CREATE INDEX job_submits_job ON job_submits(job_id);
CREATE INDEX job_submits_status ON job_submits(status, lease_expires_at);
CREATE INDEX job_submits_agent ON job_submits(agent_id, status);

CREATE TABLE attempt_steps (
  attempt_id INTEGER NOT NULL REFERENCES job_submits(id),
  idx        INTEGER NOT NULL,
  name       TEXT NOT NULL,
  argv_json  TEXT NOT NULL,
  started_at REAL NOT NULL,
  wall_s     REAL,
  cpu_s      REAL,
  exit_code  INTEGER,
  signal     TEXT NOT NULL DEFAULT '',
  error      TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (attempt_id, idx)
);

CREATE TABLE diagnostics (
  attempt_id INTEGER NOT NULL REFERENCES job_submits(id),
  name       TEXT NOT NULL,
  value      REAL,
  text       TEXT NOT NULL DEFAULT '',
  updated_at REAL NOT NULL,
  PRIMARY KEY (attempt_id, name)
);
`,
  },
  {
    version: 2,
    name: "where an attempt's results are (PALFA's job_submits.output_dir)",
    sql: "ALTER TABLE job_submits ADD COLUMN output_dir TEXT NOT NULL DEFAULT '';",
  },
  {
    version: 3,
    name: "uploads to the results DB (PALFA's job_uploads, made real) with their own failure counter",
    sql: `
ALTER TABLE jobs ADD COLUMN upload_failures INTEGER NOT NULL DEFAULT 0;
CREATE TABLE job_uploads (
  id          INTEGER PRIMARY KEY,
  job_id      INTEGER NOT NULL REFERENCES jobs(id),
  attempt_id  INTEGER NOT NULL REFERENCES job_submits(id),
  status      TEXT NOT NULL,      -- uploading | uploaded | upload_failed | db_unavailable
  error_class TEXT NOT NULL DEFAULT '',
  details     TEXT NOT NULL DEFAULT '',
  started_at  REAL NOT NULL,
  finished_at REAL,
  results_upload_id INTEGER       -- the results DB's uploads.upload_id, once committed there
);
CREATE INDEX job_uploads_job ON job_uploads(job_id, id);
CREATE INDEX job_uploads_status ON job_uploads(status);
`,
  },
  {
    version: 4,
    name: "why an agent gets no beams: drain reason and who drained it, its last capabilities report, its failure streak's start",
    sql: `
ALTER TABLE agents ADD COLUMN drain_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN drained_by TEXT NOT NULL DEFAULT '';      -- operator | auto ('' when not drained)
ALTER TABLE agents ADD COLUMN drained_at REAL;
ALTER TABLE agents ADD COLUMN capabilities_json TEXT NOT NULL DEFAULT ''; -- the agent's last Capabilities ('' never reported)
ALTER TABLE agents ADD COLUMN streak_since REAL NOT NULL DEFAULT 0;     -- failures that ended before this do not count (undrain)
CREATE INDEX job_submits_agent_finished ON job_submits(agent_id, finished_at);
`,
  },
  {
    version: 5,
    name: "canary runs: a synthetic beam with a known pulsar searched on one agent, and whether it was found",
    sql: `
CREATE TABLE canary_runs (
  id          INTEGER PRIMARY KEY,
  agent_id    TEXT NOT NULL REFERENCES agents(id),
  job_id      INTEGER REFERENCES jobs(id),
  trigger     TEXT NOT NULL,               -- operator | schedule | toolchain
  period_s    REAL NOT NULL,               -- the pulsar put into the beam
  dm          REAL NOT NULL,
  snr         REAL NOT NULL,
  status      TEXT NOT NULL,               -- running | passed | failed
  summary     TEXT NOT NULL DEFAULT '',
  started_at  REAL NOT NULL,
  finished_at REAL
);
CREATE INDEX canary_runs_agent ON canary_runs(agent_id, id);
CREATE INDEX canary_runs_job ON canary_runs(job_id);
`,
  },
  {
    version: 6,
    name: "beamflow jobs --beam GLOB over a million jobs: an index on the beam name (GLOB with a literal prefix uses it)",
    sql: `
CREATE INDEX jobs_beam ON jobs(beam);
`,
  },
  {
    version: 7,
    name: "getting data in: PALFA's requests, files and download_attempts driven by the downloader (retries with backoff, resumable transfers), zaplist versions",
    sql: `
ALTER TABLE requests ADD COLUMN source TEXT NOT NULL DEFAULT '';          -- downloader.sources[].name
ALTER TABLE requests ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;      -- failed asks/polls/listings
ALTER TABLE requests ADD COLUMN next_try_at REAL;                         -- backoff of a retrying request
ALTER TABLE requests ADD COLUMN error_class TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN waiting_since REAL;                       -- when the archive accepted it (request_timeout_s)
ALTER TABLE requests ADD COLUMN cleanup_error TEXT NOT NULL DEFAULT '';   -- why the archive has not deleted it yet
ALTER TABLE files ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN remote_url TEXT NOT NULL DEFAULT '';
ALTER TABLE files ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;            -- counted failed transfers
ALTER TABLE files ADD COLUMN next_try_at REAL;
ALTER TABLE files ADD COLUMN error_class TEXT NOT NULL DEFAULT '';
ALTER TABLE download_attempts ADD COLUMN resumed_from INTEGER NOT NULL DEFAULT 0;  -- bytes already on disk when it started
ALTER TABLE download_attempts ADD COLUMN bytes INTEGER NOT NULL DEFAULT 0;         -- bytes on disk when it ended
ALTER TABLE download_attempts ADD COLUMN error_class TEXT NOT NULL DEFAULT '';
ALTER TABLE download_attempts ADD COLUMN finished_at REAL;
CREATE INDEX files_request ON files(request_id, status);
CREATE TABLE zaplist_versions (
  id         INTEGER PRIMARY KEY,
  source     TEXT NOT NULL,               -- the downloader source it came from
  etag       TEXT NOT NULL DEFAULT '',
  sha256     TEXT NOT NULL,
  path       TEXT NOT NULL,               -- the tarball as kept on disk
  fetched_at REAL NOT NULL
);
ALTER TABLE job_submits ADD COLUMN zaplist_version INTEGER;                -- the zaplist_versions row the attempt's search was sent
`,
  },
  {
    version: 8,
    name: "a counted failure waits before its retry: jobs.not_before",
    sql: `
ALTER TABLE jobs ADD COLUMN not_before REAL NOT NULL DEFAULT 0;   -- a retrying job is not dispatched before this (unix s)
`,
  },
  {
    version: 9,
    name: "enrolment tokens (an agent trades one for its own credential), revoked and removed agents, ephemeral agents",
    sql: `
CREATE TABLE enrol_tokens (
  id           INTEGER PRIMARY KEY,
  token_hash   TEXT NOT NULL UNIQUE,          -- SHA-256 of the secret, shown once at creation
  label        TEXT NOT NULL DEFAULT '',      -- who or what it is for
  ephemeral    INTEGER NOT NULL DEFAULT 0,    -- agents enrolled with it are removed when they leave or are gone
  uses         INTEGER NOT NULL,              -- enrolments allowed
  uses_left    INTEGER NOT NULL,
  created_at   REAL NOT NULL,
  expires_at   REAL NOT NULL,
  revoked_at   REAL,
  last_used_at REAL
);
ALTER TABLE agents ADD COLUMN ephemeral INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN enrolled_by INTEGER REFERENCES enrol_tokens(id);  -- NULL: registered with register-agent
ALTER TABLE agents ADD COLUMN revoked_at REAL;   -- its credential is refused from then on
ALTER TABLE agents ADD COLUMN removed_at REAL;   -- removed, kept only because attempts or canary runs name it
`,
  },
  {
    version: 10,
    name: "status at a million jobs: counts by state kept by triggers; processed attempts, canary jobs and failed jobs indexed",
    sql: `
-- Rows of jobs and job_submits by status, kept exact by the triggers below whatever changes a
-- row, so that \`beamflow status\` and the status page read a few rows, not a million.
CREATE TABLE status_counts (
  tbl    TEXT NOT NULL,   -- 'jobs' or 'job_submits'
  status TEXT NOT NULL,
  n      INTEGER NOT NULL,
  PRIMARY KEY (tbl, status)
) WITHOUT ROWID;
INSERT INTO status_counts SELECT 'jobs', status, COUNT(*) FROM jobs GROUP BY status;
INSERT INTO status_counts SELECT 'job_submits', status, COUNT(*) FROM job_submits GROUP BY status;
${countedByStatus("jobs")}
${countedByStatus("job_submits")}
-- Beams processed in the last hour or day: the processed attempts by when they ended.
CREATE INDEX job_submits_processed ON job_submits(finished_at) WHERE status = 'processed';
-- Canary jobs (not survey beams, subtracted from those counts), found without reading every job.
CREATE INDEX jobs_canary ON jobs(id) WHERE job_type = 'canary';
-- The status page's newest failures, read from the end of an index instead of sorting them all.
CREATE INDEX jobs_failed ON jobs(updated_at, id) WHERE status = 'terminal_failure' OR (status = 'retrying' AND failures > 0);
`,
  },
  {
    version: 11,
    name: "beamflow jobs --agent over a million jobs: an agent's attempts by job, newest first without sorting them all",
    sql: `
CREATE INDEX job_submits_agent_job ON job_submits(agent_id, job_id);
`,
  },
];
