// Garbage collection for the processes that pass heavy output through: the coordinator,
// the agent, `up`, and `logs -f`.
//
// Log output crosses them as large Buffers (socket reads, gRPC messages, a follower's
// frames), each garbage within milliseconds. Their memory lies outside V8's heap, and V8
// answers the pressure of it by marking the whole heap incrementally, on a helper thread
// as much as on the main one: while a step printed 100 MB/s that was a full mark every
// ~100 ms, and a third of the coordinator's CPU on a two-core node. Without incremental
// marking, the same pressure is met by scavenges of the young generation, where those
// Buffers die, and the old generation is marked only when it fills, in one pause: 5–30 ms
// for the coordinator's ~20 MB heap with a few agents. That pause grows with the heap
// (75 ms at 5,000 agents), so once a full collection takes longer than PAUSE_MS, or leaves
// more than LIVE_BYTES in use, incremental marking comes back on for good: the process then
// trades CPU for short pauses. It is only ever switched on again, never off while a mark
// may be under way. `npm run bench -- logs` and `-- agents` measure both sides (CPU per MB;
// event-loop lag).
import { constants, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import type { Logger } from "../logging/logger";

const PAUSE_MS = 30;
const LIVE_BYTES = 40 * 1024 * 1024;

let tuned = false;

/** Sets V8's collector for a process of heavy Buffers; `log` hears when a large heap brings incremental marking back. */
export function tuneGcForBuffers(log?: Logger): void {
  if (tuned) return;
  tuned = true;
  v8.setFlagsFromString("--no-incremental-marking");
  const watch = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind !== constants.NODE_PERFORMANCE_GC_MAJOR) continue;
      // Just after a full collection, the heap in use is about what is live.
      const live = v8.getHeapStatistics().used_heap_size;
      if (e.duration <= PAUSE_MS && live <= LIVE_BYTES) continue;
      watch.disconnect();
      v8.setFlagsFromString("--incremental-marking");
      log?.info(
        { pauseMs: Math.round(e.duration), heapMiB: Math.round(live / 2 ** 20) },
        "a full collection was slow or left a large heap: incremental marking on",
      );
      return;
    }
  });
  watch.observe({ entryTypes: ["gc"] });
}
