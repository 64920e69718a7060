// The latest progress each running search reported, kept in memory only: agents
// send it again after a reconnect, so a restarted coordinator learns it back
// within a heartbeat or two, and it means nothing once the attempt is over.
import { type Progress, SearchPhase } from "../../shared/gen/agent";
import type { ProgressView } from "../../shared/gen/admin";
import { searchPhaseName } from "../../shared/protocol/search-phases";

interface Reported {
  progress: Progress;
  at: number;
}

export class LiveProgress {
  private readonly byAttempt = new Map<number, Reported>();

  report(p: Progress, now = Date.now() / 1000): void {
    this.byAttempt.set(p.attemptId, { progress: p, at: now });
  }

  forget(attemptId: number): void {
    this.byAttempt.delete(attemptId);
  }

  view(attemptId: number, now = Date.now() / 1000): ProgressView | undefined {
    const r = this.byAttempt.get(attemptId);
    if (!r) return undefined;
    const p = r.progress;
    const elapsedS = Math.max(0, now - p.startedAt);
    return {
      attemptId,
      phase: searchPhaseName(p.phase),
      pass: p.pass,
      passes: p.passes,
      dmTrialsDone: p.dmTrialsDone,
      dmTrials: p.dmTrials,
      elapsedS,
      etaS: estimateRemaining(p, elapsedS),
      reportedAt: r.at,
    };
  }
}

/**
 * Seconds left, from the share of DM trials searched so far: accelsearch and the
 * single-pulse search are ~85 % of a beam's time (the fixture beam: 9 min 19 s on
 * 2 cores), so the trial count is the clock. Before the first trial is done there
 * is nothing to go by; after the last, only sifting and folding are left, which
 * take a few per cent of the run and are not estimated.
 */
export function estimateRemaining(p: Progress, elapsedS: number): number | undefined {
  if (p.phase !== SearchPhase.SEARCH_PHASE_SEARCHING || p.dmTrialsDone === 0 || p.dmTrials === 0) return undefined;
  return (elapsedS * (p.dmTrials - p.dmTrialsDone)) / p.dmTrialsDone;
}
