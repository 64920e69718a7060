// Where a search stands, for `beamflow job ID` and the status page: the phase, the
// DDplan pass, and DM trials searched out of all. A change of phase or pass is sent
// at once; completed DM trials (hundreds per beam) at most once a second.
import type { SearchPhaseName } from "../../shared/protocol/search-phases";

export interface SearchProgress {
  phase: SearchPhaseName;
  pass: number;
  passes: number;
  dmTrialsDone: number;
  dmTrials: number;
  /** unix seconds */
  startedAt: number;
}

export class ProgressReporter {
  private readonly state: SearchProgress;
  private timer: NodeJS.Timeout | null = null;
  private lastSent = 0;

  constructor(
    private readonly send: (p: SearchProgress) => void,
    private readonly minIntervalMs = 1000,
  ) {
    this.state = { phase: "starting", pass: 0, passes: 0, dmTrialsDone: 0, dmTrials: 0, startedAt: Date.now() / 1000 };
  }

  phase(phase: SearchPhaseName, extra: Partial<Omit<SearchProgress, "phase" | "startedAt">> = {}): void {
    Object.assign(this.state, extra, { phase });
    this.flush();
  }

  trialDone(): void {
    this.state.dmTrialsDone++;
    const wait = this.lastSent + this.minIntervalMs - Date.now();
    if (wait <= 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Sends the latest state now (and cancels a pending one). */
  flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.lastSent = Date.now();
    this.send({ ...this.state });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
