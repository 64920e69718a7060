/**
 * Getting data in, against the tools a person would use instead.
 *
 *   stageinBenchmark(): a 1 GiB raw file staged into /dev/shm with its SHA-256 checked (the
 *     agent's stageFiles, local path: read, hash and write in one overlapped pass), against
 *     `cp` of the same file into /dev/shm and `sha256sum` of it. Target: the stage-in at
 *     least 0.9× as fast as the slower of the two (`ratio` = slower tool's time / ours).
 *   downloadBenchmark(): the same file downloaded over HTTP on loopback from the reference
 *     archive (run in its own process) by the downloader's transfer (written to a partial
 *     file in /dev/shm, SHA-256 while writing), against `curl -s URL | sha256sum`. Target:
 *     ratio ≥ 0.9.
 *
 * The source file sits in the OS temp dir and is read once before timing, so every run
 * reads it from the page cache. Each figure is the median of `runs` (default 3), each tool
 * run in turn so that load from elsewhere falls on all of them alike.
 */
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stageFiles } from "../agent/staging/stage";
import { httpTransfer } from "../coordinator/downloader/http-transfer";
import { freshState } from "../coordinator/downloader/part-file";

const GiB = 1 << 30;

export interface TransferBenchOptions {
  bytes?: number;
  runs?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const round = (x: number) => Math.round(x * 1000) / 1000;

/** A file of random bytes, read once so that it is in the page cache; returns it with its SHA-256. */
function sourceFile(bytes: number): { file: string; sha256: string; dir: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "beamflow-bench-"));
  const file = path.join(dir, "p2030.20230225.G037.00-00.10.C.b1.00000.fits");
  const fd = fs.openSync(file, "w");
  const hash = crypto.createHash("sha256");
  const chunk = crypto.randomBytes(64 << 20);
  for (let left = bytes; left > 0; left -= chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, left));
    chunk[0]++; // not 16 equal chunks
    hash.update(part);
    fs.writeSync(fd, part);
  }
  fs.closeSync(fd);
  execFileSync("cat", [file], { stdio: ["ignore", "ignore", "ignore"] });
  return { file, sha256: hash.digest("hex"), dir };
}

/** Wall time of a shell command; this process's event loop keeps running (the archive's sockets). */
function timeCommand(cmd: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", cmd], { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(seconds(t0)) : reject(new Error(`${cmd}: exit ${code}`))));
  });
}

export async function stageinBenchmark(o: TransferBenchOptions = {}) {
  const bytes = o.bytes ?? GiB;
  const runs = o.runs ?? 3;
  const shm = fs.mkdtempSync(path.join("/dev/shm", "beamflow-bench-"));
  const src = sourceFile(bytes);
  const ours: number[] = [];
  const cp: number[] = [];
  const sha: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const dest = path.join(shm, "cp");
      cp.push(await timeCommand(`cp ${src.file} ${dest}`));
      fs.rmSync(dest);
      sha.push(await timeCommand(`sha256sum ${src.file} > /dev/null`));
      const work = path.join(shm, `work${i}`);
      fs.mkdirSync(work);
      const t0 = process.hrtime.bigint();
      await stageFiles([{ fileId: 1, name: path.basename(src.file), path: src.file, size: bytes, sha256: src.sha256 }], work, () => {
        throw new Error("the file is local");
      });
      ours.push(seconds(t0));
      fs.rmSync(work, { recursive: true });
    }
  } finally {
    fs.rmSync(shm, { recursive: true, force: true });
    fs.rmSync(src.dir, { recursive: true, force: true });
  }
  const slower = Math.max(median(cp), median(sha));
  return {
    bytes,
    runs,
    stageinS: round(median(ours)),
    cpS: round(median(cp)),
    sha256sumS: round(median(sha)),
    ratio: round(slower / median(ours)),
    target: 0.9,
    all: { stagein: ours.map(round), cp: cp.map(round), sha256sum: sha.map(round) },
  };
}

/** The reference archive in its own process, serving `file` as a beam; the file's URL. */
async function archiveServing(file: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [require.resolve("tsx/cli"), path.join(__dirname, "..", "test", "support", "reference-archive.ts"), file], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const api = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.trim());
    });
    child.on("exit", (code) => reject(new Error(`the reference archive exited (${code})`)));
  });
  const { id } = (await (await fetch(`${api}/restores`, { method: "POST", body: JSON.stringify({ beams: 1 }) })).json()) as { id: string };
  for (;;) {
    const s = (await (await fetch(`${api}/restores/${id}`)).json()) as { status: string };
    if (s.status === "ready") break;
  }
  const { files } = (await (await fetch(`${api}/restores/${id}/files`)).json()) as { files: { url: string }[] };
  return { url: new URL(files[0].url, `${api}/restores/${id}/files`).toString(), stop: () => child.kill() };
}

export async function downloadBenchmark(o: TransferBenchOptions = {}) {
  const bytes = o.bytes ?? GiB;
  const runs = o.runs ?? 3;
  const shm = fs.mkdtempSync(path.join("/dev/shm", "beamflow-bench-"));
  const src = sourceFile(bytes);
  const archive = await archiveServing(src.file);
  const ours: number[] = [];
  const curl: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      curl.push(await timeCommand(`set -o pipefail; curl -sf ${archive.url} | sha256sum > /dev/null`));
      const part = path.join(shm, `part${i}`);
      const t0 = process.hrtime.bigint();
      const state = await httpTransfer({
        url: archive.url,
        partPath: part,
        expectedSize: bytes,
        state: freshState(),
        stallMs: 30_000,
        restart: freshState,
      });
      const digest = await state.hash.digest();
      ours.push(seconds(t0));
      if (digest !== src.sha256 || state.bytes !== bytes) throw new Error("the download is not the file");
      fs.rmSync(part);
    }
  } finally {
    archive.stop();
    fs.rmSync(shm, { recursive: true, force: true });
    fs.rmSync(src.dir, { recursive: true, force: true });
  }
  return {
    bytes,
    runs,
    downloadS: round(median(ours)),
    curlSha256sumS: round(median(curl)),
    ratio: round(median(curl) / median(ours)),
    target: 0.9,
    all: { download: ours.map(round), curlSha256sum: curl.map(round) },
  };
}
