// Prometheus metrics of one agent, on a registry of its own: attempts, step
// durations by kind of step, the work filesystem (/dev/shm) and scratch space,
// and log output spooled and sent; and prom-client's process_* and nodejs_*
// metrics under their standard names.
import { stepKind } from "../../shared/protocol/step-kind";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { collectStandardMetrics } from "../../shared/metrics/standard";
import { diskSpace } from "../resources/resources";

export interface AgentMetricsSources {
  runningAttempts(): number;
  spooledBytes(): number;
  workBase: string;
  scratchDir: string;
}

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly finished: Counter<"outcome">;
  private readonly steps: Histogram<"step">;
  private readonly logBytes: Counter;
  private readonly scratchFull: Gauge;

  constructor(src: AgentMetricsSources) {
    const registers = [this.registry];
    collectStandardMetrics(this.registry);
    new Gauge({
      name: "beamflow_agent_attempts_running",
      help: "Attempts running on this agent",
      registers,
      collect() {
        this.set(src.runningAttempts());
      },
    });
    this.finished = new Counter({
      name: "beamflow_agent_attempts_finished_total",
      help: "Attempts finished on this agent, by outcome",
      labelNames: ["outcome"],
      registers,
    });
    this.steps = new Histogram({
      name: "beamflow_agent_step_duration_seconds",
      help: "Wall time of finished steps, by kind of step (the program)",
      labelNames: ["step"],
      registers,
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600],
    });
    this.scratchFull = new Gauge({
      name: "beamflow_agent_scratch_full",
      help: "1 while the scratch disk is full and steps are held back, else 0",
      registers,
    });
    this.logBytes = new Counter({ name: "beamflow_agent_log_bytes_sent_total", help: "Bytes of step output sent to the coordinator", registers });
    new Gauge({
      name: "beamflow_agent_log_spool_bytes",
      help: "Step output spooled on disk, not yet acknowledged by the coordinator",
      registers,
      collect() {
        this.set(src.spooledBytes());
      },
    });
    const space = (name: string, help: string, dir: string, pick: (s: { total: number; free: number }) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(diskSpace(dir)));
        },
      });
    space("beamflow_agent_shm_total_bytes", "Size of the filesystem holding work dirs (/dev/shm)", src.workBase, (s) => s.total);
    space("beamflow_agent_shm_used_bytes", "Bytes used on the filesystem holding work dirs", src.workBase, (s) => s.total - s.free);
    space("beamflow_agent_shm_free_bytes", "Bytes free on the filesystem holding work dirs", src.workBase, (s) => s.free);
    space("beamflow_agent_scratch_free_bytes", "Bytes free under the scratch dir (results, log spool)", src.scratchDir, (s) => s.free);
  }

  attemptFinished(outcome: string): void {
    this.finished.inc({ outcome });
  }
  stepFinished(name: string, wallS: number): void {
    this.steps.observe({ step: stepKind(name) }, wallS);
  }
  diskFull(full: boolean): void {
    this.scratchFull.set(full ? 1 : 0);
  }
  logSent(bytes: number): void {
    this.logBytes.inc(bytes);
  }
}
