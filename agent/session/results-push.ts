// Stage-out: a finished search attempt's results dir, pushed to the coordinator
// (PushResults) as a manifest of every file with its size and SHA-256, then the
// bytes in manifest order. The manifest.json the search wrote travels too, so the
// coordinator can hold the transfer against the search's own record.
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import type * as grpc from "@grpc/grpc-js";
import type { AgentServiceClient, ResultFile, ResultsReceipt } from "../../shared/gen/agent";
import { buildManifest, MANIFEST_NAME, sha256File } from "../../shared/results/manifest";

const CHUNK = 1 << 20;

async function listResults(dir: string): Promise<ResultFile[]> {
  const own = path.join(dir, MANIFEST_NAME);
  const m = await buildManifest(dir, path.basename(dir));
  return [
    ...m.files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
    { path: MANIFEST_NAME, size: fs.statSync(own).size, sha256: await sha256File(own) },
  ];
}

export async function pushResults(client: AgentServiceClient, metadata: grpc.Metadata, attemptId: number, dir: string): Promise<ResultsReceipt> {
  const files = await listResults(dir);
  let settle!: { resolve: (r: ResultsReceipt) => void; reject: (e: Error) => void };
  const done = new Promise<ResultsReceipt>((resolve, reject) => { settle = { resolve, reject }; });
  const call = client.pushResults(metadata, (err, receipt) => (err ? settle.reject(err) : settle.resolve(receipt!)));
  // A refusal ends the call early: stop reading files then.
  let ended = false;
  void done.catch(() => undefined).finally(() => { ended = true; });
  const write = async (part: Parameters<typeof call.write>[0]) => {
    if (!call.write(part)) await Promise.race([once(call, "drain"), done.catch(() => undefined)]);
  };
  await write({ part: { $case: "manifest", value: { attemptId, files } } });
  for (let i = 0; i < files.length && !ended; i++) {
    for await (const data of fs.createReadStream(path.join(dir, ...files[i]!.path.split("/")), { highWaterMark: CHUNK })) {
      if (ended) break;
      await write({ part: { $case: "data", value: { file: i, data: data as Buffer } } });
    }
  }
  call.end();
  return done;
}
