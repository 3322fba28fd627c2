import type { Dashboard } from "@grafana/schema";
import type { CanaryConfig, EngineName, ModelConfig } from "../../config";
import { adapterFor as defaultAdapterFor, type EngineAdapter } from "../../serving/engines";
import { modelSelector } from "../../serving/metric-labels";
import { modelPods, readyReplicas } from "../alert-rules";
import { errorRatioOf, type ErrorRatio } from "../error-ratio";
import { GRAFANA_RATE_WINDOW } from "./engine";
import { dashboard, note, row, stat, timeseries, type PanelSpec } from "./panels";
import { replicaQueries } from "./replicas";
import { modelLogsLink } from "../logs/dashboards";

/** The canary's row: MRR@10 and NDCG@10 over time per labelled set, against the model's threshold, and its checks. */
function qualityRow(model: ModelConfig, canary: CanaryConfig): PanelSpec[] {
  const m = model.name;
  const min = canary.models[m]?.minMrrAt10 ?? canary.minMrrAt10;
  return [
    row("Quality (canary)"),
    timeseries("MRR@10 (canary)", [{ expr: `retrieval_stack_canary_mrr_at_10{model="${m}"}`, legend: "{{set}}" }], {
      min: 0,
      max: 1,
      threshold: min,
      description: `Mean reciprocal rank of the relevant passage in the top 10, measured every ${canary.intervalSeconds} s; ModelQualityLow below ${min} for ${canary.qualityLowFor}.`,
    }),
    timeseries("NDCG@10 (canary)", [{ expr: `retrieval_stack_canary_ndcg_at_10{model="${m}"}`, legend: "{{set}}" }], {
      min: 0,
      max: 1,
    }),
    timeseries("Canary checks", [{ expr: `retrieval_stack_canary_check_success{model="${m}"}`, legend: "{{check}}" }], {
      min: 0,
      max: 1,
      description: "1 = the last run of the check passed",
    }),
    timeseries(
      "Fingerprint drift (canary)",
      [{ expr: `retrieval_stack_canary_fingerprint_drift{model="${m}"}`, legend: "drift" }],
      {
        min: 0,
        description:
          "1 minus the lowest per-probe cosine (embeddings) or Kendall tau (rerank) against the fingerprint recorded at deploy time; ModelFingerprintDrift when it leaves the tolerance (docs/model-changes.md).",
      },
    ),
    timeseries(
      "Shadow agreement with the primary (gateway)",
      [
        {
          expr: `sum by (alias, measure) (rate(retrieval_gateway_shadow_agreement_sum{shadow="${m}"}[${GRAFANA_RATE_WINDOW}])) / ignoring(measure) group_left sum by (alias) (rate(retrieval_gateway_shadow_compared_total{shadow="${m}"}[${GRAFANA_RATE_WINDOW}]))`,
          legend: "{{alias}} {{measure}}",
        },
      ],
      {
        min: -1,
        max: 1,
        description:
          "When this model shadows an alias: mean Kendall tau, top-1/3/10 overlap and NDCG@10 of its order against the primary's over the copied calls (docs/model-changes.md).",
      },
    ),
  ];
}

/**
 * One model at a glance: is it up, fast enough for its SLO, failing, queueing, scaling; what fires.
 * @param errors the model's error ratio as its ModelServiceHighErrorRate alert reads it (engine counter or ingress)
 */
export function modelDashboard(
  model: ModelConfig,
  namespace: string,
  adapterFor: (e: EngineName) => EngineAdapter = defaultAdapterFor,
  errors: ErrorRatio | undefined = errorRatioOf(model, { models: [model], namespace, adapterFor }),
  extras: { readonly canary?: CanaryConfig; readonly logs?: boolean } = {},
): Dashboard {
  const canary = extras.canary;
  const adapter = adapterFor(model.engine);
  const m = adapter.metrics;
  const s = modelSelector(model.name, namespace);
  const w = GRAFANA_RATE_WINDOW;
  const slo = model.slo.p99LatencyMs / 1000;
  const panels: PanelSpec[] = [
    stat(
      "Ready replicas",
      { expr: readyReplicas(model.name, namespace), legend: "ready" },
      { description: `replicas.min ${model.replicas.min}, replicas.max ${model.replicas.max}` },
    ),
    stat(
      "p99 latency",
      { expr: m.latencyP99(s, "5m"), legend: "p99" },
      { unit: "s", threshold: slo, description: `SLO ${model.slo.p99LatencyMs} ms` },
    ),
    stat("Requests per second", { expr: m.requestRate(s, "5m"), legend: "rps" }, { unit: "reqps" }),
    timeseries("Latency p99 vs SLO", [{ expr: m.latencyP99(s, w), legend: "p99" }], {
      unit: "s",
      min: 0,
      threshold: slo,
    }),
    timeseries("Requests per second", [{ expr: m.requestRate(s, w), legend: model.name }], { unit: "reqps", min: 0 }),
    errors
      ? errors.source === "engine"
        ? timeseries("Error ratio", [{ expr: errors.expr(w), legend: "failed / all" }], { unit: "percentunit", min: 0 })
        : timeseries("Error ratio (5xx at the ingress)", [{ expr: errors.expr(w), legend: "5xx / all answers" }], {
            unit: "percentunit",
            min: 0,
            description: `${adapter.displayName} counts no failed requests; this is the share of the model's answers to requests through the ingress that were 5xx.`,
          })
      : note(
          "Error ratio",
          `${adapter.displayName} counts no failed requests and the ingress is disabled: no error ratio for this model.`,
        ),
    timeseries(
      "Waiting and running requests",
      [
        ...(m.queueDepth ? [{ expr: m.queueDepth(s), legend: "waiting" }] : []),
        { expr: m.inFlight(s), legend: "running" },
      ],
      { min: 0 },
    ),
    timeseries("Replicas vs autoscaler", replicaQueries(model.name, namespace), { min: 0 }),
    timeseries(
      "Container restarts (15 min)",
      [
        {
          expr: `sum by (pod) (increase(kube_pod_container_status_restarts_total{namespace="${namespace}"}[15m]) * on(namespace, pod) group_left() ${modelPods(model.name, namespace)})`,
          legend: "{{pod}}",
        },
      ],
      { min: 0 },
    ),
    timeseries(
      "Firing alerts",
      [{ expr: `ALERTS{alertstate="firing",model="${model.name}"}`, legend: "{{alertname}} ({{severity}})" }],
      { min: 0 },
    ),
    ...(canary?.enabled ? qualityRow(model, canary) : []),
  ];
  const d = dashboard(`rs-model-${model.name}`, `Model: ${model.name}`, ["model", model.engine], [], panels);
  return extras.logs ? { ...d, links: [modelLogsLink(model.name)] } : d;
}
