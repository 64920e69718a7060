/**
 * How long one beam's upload takes on each backend.
 *
 * Public API:
 *   interface UploadBenchmarkOptions { candidates?, runs?, dir? }
 *   uploadBenchmark(options?): Promise<UploadBenchmarkReport>    JSON-ready figures
 *
 * The beam: a results directory built by test/coordinator/uploader/results-dir.ts from the real
 * beam_J1903 fixtures, with `candidates` (default 100, PALFA's max_cands_to_fold)
 * folded candidates that are COPIES of the fixture's one real fold (its .pfd,
 * .bestprof and rendered plot), listed as <base>_copyNNN_DM57.00_ACCEL_0:1 so that
 * nobody can take them for 100 real candidates. Each is ~0.9 MB of blobs, so the
 * upload moves ~90 MB into the DB and reads it all back for the comparison.
 *
 * Each run uploads into a fresh, empty DB (a new SQLite file; a new PostgreSQL
 * database), then once more to time the already_uploaded path. PostgreSQL is a
 * throwaway local server (test/support/postgres.ts: Unix socket, fsync off) when
 * the server binaries are installed, never a configured one (each run writes ~90 MB
 * of blobs); otherwise its figures say why they are missing (fsync off also means
 * the PostgreSQL figures leave out disk flush time). "statements" counts what the
 * uploader sent, BEGIN and COMMIT included; for PostgreSQL each one is a round trip
 * (pg sends Parse/Bind/Execute/Sync and waits for the reply), for SQLite a library call.
 * It builds its beam from the test fixtures, so it lives with the benchmarks.
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildResultsDir } from "../test/coordinator/uploader/results-dir";
import { startPostgres } from "../test/support/postgres";
import type { ResultsDb } from "../coordinator/uploader/db";
import { openResultsDb } from "../coordinator/uploader/open";
import { type ParsedResults, parseResultsDir } from "../coordinator/uploader/parse";
import { upload } from "../coordinator/uploader/upload";

export interface UploadBenchmarkOptions {
  /** Folded candidates in the beam (default 100). */
  candidates?: number;
  /** Uploads per backend, each into an empty DB (default 3). */
  runs?: number;
  /** Where to build the results dir and SQLite files (default: a temp dir, removed after). */
  dir?: string;
}

export interface BackendFigures {
  backend: "sqlite" | "postgres";
  /** Wall time of each upload (transaction including the read-back), ms. */
  msPerUpload: number[];
  medianMs: number;
  /** Time of a repeated upload of the same beam (already_uploaded), ms. */
  alreadyUploadedMs: number;
  /** Rows written by one upload, per table. */
  rows: Record<string, number>;
  statements: number;
  roundTrips: number | null;
  blobMegabytes: number;
  /** Blob bytes in and back out per second, MB/s (median run). */
  blobThroughputMBs: number;
}

export interface UploadBenchmarkReport {
  candidates: number;
  resultsDir: { files: number; megabytes: number; buildMs: number };
  parseMs: number;
  backends: (BackendFigures | { backend: "sqlite" | "postgres"; skipped: string })[];
}

const MB = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

function blobBytes(p: ParsedResults): number {
  let n = 0;
  for (const c of p.candidates) for (const f of c.files) n += f.file_size;
  for (const d of p.diagnostics) n += d.diagnostic_plot?.length ?? 0;
  for (const f of [...p.spFiles, ...p.spPlots]) n += f.file_size;
  return n;
}

async function timeBackend(
  backend: "sqlite" | "postgres",
  runs: number,
  parsed: ParsedResults,
  freshDb: (run: number) => Promise<ResultsDb>,
): Promise<BackendFigures> {
  const times: number[] = [];
  let rows: Record<string, number> = {};
  let statements = 0;
  let again = 0;
  for (let run = 0; run < runs; run++) {
    const db = await freshDb(run);
    try {
      const t0 = performance.now();
      const r = await upload(db, parsed);
      times.push(performance.now() - t0);
      if (r.status !== "uploaded") throw new Error(`benchmark: expected a fresh upload, got ${r.status}`);
      rows = r.rows;
      statements = r.statements;
      const t1 = performance.now();
      const r2 = await upload(db, parsed);
      again = performance.now() - t1;
      if (r2.status !== "already_uploaded") throw new Error("benchmark: the repeated upload was not a no-op");
    } finally {
      await db.close();
    }
  }
  const mb = blobBytes(parsed) / MB;
  const med = median(times);
  return {
    backend,
    msPerUpload: times.map((t) => Math.round(t)),
    medianMs: Math.round(med),
    alreadyUploadedMs: Math.round(again * 10) / 10,
    rows,
    statements,
    roundTrips: backend === "postgres" ? statements : null,
    blobMegabytes: Math.round(mb * 10) / 10,
    blobThroughputMBs: Math.round(((2 * mb) / (med / 1000)) * 10) / 10,
  };
}

export async function uploadBenchmark(options: UploadBenchmarkOptions = {}): Promise<UploadBenchmarkReport> {
  const candidates = options.candidates ?? 100;
  const runs = options.runs ?? 3;
  const root = options.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "bf-upload-bench-"));
  const removeRoot = options.dir === undefined;
  try {
    const resultsDir = path.join(root, "results");
    const t0 = performance.now();
    await buildResultsDir(resultsDir, { copies: candidates });
    const buildMs = performance.now() - t0;
    const files = fs.readdirSync(resultsDir);
    const bytes = files.reduce((n, f) => n + fs.statSync(path.join(resultsDir, f)).size, 0);

    const t1 = performance.now();
    const parsed = await parseResultsDir(resultsDir);
    const parseMs = performance.now() - t1;

    const backends: UploadBenchmarkReport["backends"] = [];
    backends.push(await timeBackend("sqlite", runs, parsed, (run) => openResultsDb({ backend: "sqlite", file: path.join(root, `bench-${run}.db`) })));

    // Its own throwaway server: a benchmark must never write into a DB someone uses.
    const server = await startPostgres({ database: "postgres" }).catch((e: Error) => e);
    if (server === null) backends.push({ backend: "postgres", skipped: "no PostgreSQL server binaries installed" });
    else if (server instanceof Error) backends.push({ backend: "postgres", skipped: server.message });
    else {
      try {
        backends.push(
          await timeBackend("postgres", runs, parsed, async (run) =>
            openResultsDb({ backend: "postgres", connectionString: await server.createDatabase(`bench_${run}`) }),
          ),
        );
      } finally {
        await server.destroy();
      }
    }
    return {
      candidates,
      resultsDir: { files: files.length, megabytes: Math.round((bytes / MB) * 10) / 10, buildMs: Math.round(buildMs) },
      parseMs: Math.round(parseMs),
      backends,
    };
  } finally {
    if (removeRoot) fs.rmSync(root, { recursive: true, force: true });
  }
}
