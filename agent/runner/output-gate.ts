// Backpressure from the agent's log spool to the steps: when the spool of
// unacknowledged output is full, no step's pty is read any more, so each program
// blocks on its next write instead of its output being dropped or held in memory.
// Steps resume when the spool has drained. A step held back this way is not
// "idle": its idle timer stops while the gate is shut.
export interface GatedOutput {
  pauseOutput(): void;
  resumeOutput(): void;
}

export class OutputGate {
  private shut = false;
  private readonly members = new Set<GatedOutput>();

  get isShut(): boolean {
    return this.shut;
  }

  join(m: GatedOutput): void {
    this.members.add(m);
    if (this.shut) m.pauseOutput();
  }

  leave(m: GatedOutput): void {
    this.members.delete(m);
  }

  close(): void {
    if (this.shut) return;
    this.shut = true;
    for (const m of this.members) m.pauseOutput();
  }

  open(): void {
    if (!this.shut) return;
    this.shut = false;
    for (const m of this.members) m.resumeOutput();
  }
}

/** One agent per process: its steps all share the one spool, so they share the gate. */
export const outputGate = new OutputGate();
