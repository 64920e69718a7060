// prom-client's default metrics (process_cpu_seconds_total, process_resident_memory_bytes,
// process_start_time_seconds, nodejs_*) under their standard names, as every Node
// exporter has them, so stock dashboards and alerts work. Its three gauges named
// *_total (nodejs_active_handles_total, …) are left out: a gauge must not end in
// _total (`promtool check metrics`), and the same counts are there by type without
// the suffix (nodejs_active_handles{type=…}).
import { collectDefaultMetrics, type Registry } from "prom-client";

const GAUGES_NAMED_TOTAL = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

export function collectStandardMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of GAUGES_NAMED_TOTAL) registry.removeSingleMetric(name);
}
