import type { Dashboard } from "@grafana/schema";
import type { EngineName, ModelConfig } from "../../config";
import { adapterFor as defaultAdapterFor, type EngineAdapter } from "../../serving/engines";
import { modelSelector } from "../../serving/metric-labels";
import { customVariable, dashboard, note, timeseries, type PanelSpec } from "./panels";
import { replicaQueries } from "./replicas";

/** Grafana's rate window that always spans several scrapes. */
export const GRAFANA_RATE_WINDOW = "$__rate_interval";

/**
 * One dashboard per engine family, for the stack's models on that engine (the `model` variable). Every query
 * comes from the adapter's metric builders: no engine name appears here, and panels an engine cannot fill
 * (no queue gauge, no failure counter) say so instead of showing "no data". Embedding and rerank models have
 * no KV cache worth watching and no time-to-first-token, so there are no such panels.
 */
export function engineDashboard(
  engine: EngineName,
  models: readonly ModelConfig[],
  namespace: string,
  adapterFor: (e: EngineName) => EngineAdapter = defaultAdapterFor,
): Dashboard {
  const adapter = adapterFor(engine);
  const m = adapter.metrics;
  const s = modelSelector("$model", namespace);
  const w = GRAFANA_RATE_WINDOW;
  const latency = [
    ...(m.latencyQuantile
      ? [
          { expr: m.latencyQuantile(0.5, s, w), legend: "p50" },
          { expr: m.latencyQuantile(0.95, s, w), legend: "p95" },
        ]
      : []),
    { expr: m.latencyP99(s, w), legend: "p99" },
  ];
  const panels: PanelSpec[] = [
    timeseries("Requests per second", [{ expr: m.requestRate(s, w), legend: "$model" }], { unit: "reqps", min: 0 }),
    timeseries(m.latencyQuantile ? "Latency p50 / p95 / p99" : "Latency p99", latency, { unit: "s", min: 0 }),
    m.errorRatio
      ? timeseries("Error ratio", [{ expr: m.errorRatio(s, w), legend: "failed / all" }], {
          unit: "percentunit",
          min: 0,
        })
      : note(
          "Error ratio",
          `${adapter.displayName} counts no failed requests. With the ingress enabled, each model's dashboard and its ModelServiceHighErrorRate alert use the share of 5xx answers measured at the ingress instead.`,
        ),
    m.queueDepth
      ? timeseries("Queue depth (waiting requests)", [{ expr: m.queueDepth(s), legend: "waiting" }], { min: 0 })
      : note("Queue depth", `${adapter.displayName} exports no queue gauge; in-flight requests drive autoscaling.`),
    timeseries("In flight (running requests)", [{ expr: m.inFlight(s), legend: "running" }], { min: 0 }),
    timeseries("Replicas vs autoscaler", replicaQueries("$model", namespace), { min: 0 }),
  ];
  const names = models.filter((x) => x.engine === engine).map((x) => x.name);
  return dashboard(
    `rs-engine-${engine}`,
    `Engine: ${adapter.displayName}`,
    ["engine", engine],
    [customVariable("model", "Model", names)],
    panels,
  );
}
