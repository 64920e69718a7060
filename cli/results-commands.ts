// `beamflow results` and `beamflow upload-dir`: the results DB named by the config,
// opened directly (not through the coordinator), like PALFA's upload_results_dir.py:
// an operator can list candidates or upload a results dir by hand while the
// coordinator is down, and the common DB's own credentials are what guard it.
import fs from "node:fs";
import Database from "better-sqlite3";
import type { Command } from "commander";
import type { Config } from "../shared/config/schema";
import { openResultsDb, parseResultsDir, queryResults, resultsDbConfigFrom, upload, type ResultsDb } from "../coordinator/uploader";
import { Tracker } from "../coordinator/tracker/tracker";
import { cliConfig } from "./config-option";
import { printJson, table } from "./format";
import { run } from "./run";
import { parseId, usageError } from "./args";

async function withResultsDb<T>(cfg: Config, fn: (db: ResultsDb) => Promise<T>): Promise<T> {
  const db = await openResultsDb(resultsDbConfigFrom(cfg.data_dir, cfg.results.db));
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** The results DB upload of a job, read from the job tracker (read-only: the coordinator may be running). */
function uploadOfJob(cfg: Config, jobId: number): number {
  if (!fs.existsSync(cfg.coordinator.db)) throw new Error(`no job tracker at ${cfg.coordinator.db}`);
  const db = new Database(cfg.coordinator.db, { readonly: true, fileMustExist: true });
  try {
    const tracker = new Tracker(db);
    const job = tracker.job(jobId);
    if (!job) throw new Error(`no job ${jobId}`);
    const id = tracker.uploads.resultsUploadOf(jobId);
    if (id === undefined) throw new Error(`job ${jobId} is ${job.status}: its results are not in the results DB`);
    return id;
  } finally {
    db.close();
  }
}

const fixed = (v: number | null, digits: number) => (v == null ? "-" : v.toFixed(digits));

export function registerResultsCommands(program: Command): void {
  program
    .command("results")
    .description("candidates in the results DB, best first, with their beam and diagnostics")
    .option("--job <id>", "only the results of this job")
    .option("--min-sigma <sigma>", "leave out candidates below this PRESTO sigma")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: { config?: string; job?: string; minSigma?: string; json?: boolean }) => {
        const cfg = cliConfig(opts.config);
        const minSigma = opts.minSigma === undefined ? undefined : Number(opts.minSigma);
        if (minSigma !== undefined && !Number.isFinite(minSigma)) throw usageError(`--min-sigma: not a number: ${opts.minSigma}`);
        if (opts.job !== undefined) parseId(opts.job, "--job id");
        const uploadIds = opts.job === undefined ? undefined : [uploadOfJob(cfg, Number(opts.job))];
        const uploads = await withResultsDb(cfg, (db) => queryResults(db, { uploadIds, minSigma }));
        if (opts.json) return printJson(uploads);
        if (uploads.length === 0) return console.log("no results uploaded yet");
        console.log(
          table(
            ["upload", "observation", "beam", "#", "period (ms)", "DM", "sigma", "prepfold σ", "hits", "harm"],
            uploads
              .flatMap((u) => u.candidates)
              .sort((a, b) => b.prestoSigma - a.prestoSigma)
              .map((c) => [
                c.uploadId,
                c.obsName,
                c.beam ?? "-",
                c.candNum,
                fixed(c.period == null ? null : c.period * 1000, 6),
                fixed(c.dm, 2),
                fixed(c.prestoSigma, 2),
                fixed(c.prepfoldSigma, 2),
                c.numHits,
                c.numHarmonics,
              ]),
          ),
        );
        for (const u of uploads) {
          const d = Object.entries(u.diagnostics);
          if (d.length)
            console.log(
              `\nupload ${u.uploadId} ${u.obsName} beam ${u.beam ?? "-"} (uploaded ${u.uploadedAt})\n` +
                table(
                  ["diagnostic", "value"],
                  d.map(([k, v]) => [k, v]),
                ),
            );
        }
      }),
    );

  program
    .command("upload-dir <dir>")
    .description("upload a results directory to the results DB by hand (PALFA's upload_results_dir.py)")
    .option("--json", "machine-readable output")
    .action(
      run(async (opts: { config?: string; json?: boolean }, dir: string) => {
        const cfg = cliConfig(opts.config);
        if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`upload-dir: ${dir}: not a directory`);
        const parsed = await parseResultsDir(dir);
        const r = await withResultsDb(cfg, (db) => upload(db, parsed));
        if (opts.json) return printJson({ dir, obsName: parsed.obsName, ...r });
        console.log(
          r.status === "uploaded"
            ? `uploaded ${parsed.obsName} as upload ${r.id}: ${Object.entries(r.rows)
                .map(([t, n]) => `${n} ${t}`)
                .join(", ")}`
            : `${parsed.obsName} is in the results DB already (upload ${r.id}${r.sameManifest ? "" : ", from results with other files"}): nothing changed`,
        );
      }),
    );
}
