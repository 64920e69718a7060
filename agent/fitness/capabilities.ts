// What this agent can run, and why not: command jobs need a work dir the agent
// can create and write; palfa-search jobs need that and every program `beamflow
// doctor` checks. Sent to the coordinator in Hello and every Heartbeat, so a
// node that cannot search is given no beams instead of failing them.
import crypto from "node:crypto";
import type { Capabilities } from "../../shared/gen/common";
import { COMMAND_JOB_TYPE, jobTypeToWire, SEARCH_JOB_TYPE } from "../../shared/protocol/job-types";
import { probeWorkDir } from "../resources/work-dir";
import { checkPrograms, type ProgramsReport } from "../search/toolchain/doctor";
import { toolchainFingerprint } from "../search/toolchain/fingerprint";
import type { ToolchainConfig } from "../search/toolchain/toolchain";

/** "accelsearch, prepfold not found (toolchain.path: none; prefix: none; PATH=/usr/bin:/bin)" */
export function programsReason(report: ProgramsReport, cfg: ToolchainConfig, envPath = process.env.PATH ?? ""): string {
  const parts: string[] = [];
  if (report.missing.length) {
    const where = cfg.wrapper.length
      ? `inside '${cfg.wrapper.join(" ")}'`
      : `toolchain.path: ${cfg.path.join(":") || "none"}; prefix: ${cfg.prefix || "none"}; PATH=${envPath}`;
    parts.push(`${report.missing.join(", ")} not found (${where})`);
  }
  for (const b of report.broken) parts.push(`${b.name}: ${b.why}`);
  return parts.join("; ");
}

/** The full check (runs accelsearch for its usage). */
export async function checkCapabilities(cfg: ToolchainConfig, workBase: string): Promise<Capabilities> {
  const work = probeWorkDir(workBase, { create: true });
  const workWhy = work.ok ? "" : `work dir: ${work.why}`;
  const programsWhy = programsReason(await checkPrograms(cfg), cfg);
  const searchWhy = [workWhy, programsWhy].filter(Boolean).join("; ");
  return {
    jobTypes: [
      { jobType: jobTypeToWire(COMMAND_JOB_TYPE), fit: !workWhy, reason: workWhy },
      { jobType: jobTypeToWire(SEARCH_JOB_TYPE), fit: !searchWhy, reason: searchWhy },
    ],
    checkedAt: Date.now() / 1000,
    toolchain: crypto.createHash("sha256").update(toolchainFingerprint(cfg)).digest("hex").slice(0, 16),
  };
}

/** Changes whenever something the full check looks at may have changed; a few stat calls. */
export function capabilitiesFingerprint(cfg: ToolchainConfig, workBase: string): string {
  const work = probeWorkDir(workBase, { create: true });
  return `${toolchainFingerprint(cfg)}\nworkdir=${work.ok ? "ok" : work.why}\nPATH=${process.env.PATH ?? ""}`;
}
