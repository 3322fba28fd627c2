import type { AlertThresholds, EngineName, ModelConfig } from "../config";
import { adapterFor as defaultAdapterFor, type EngineAdapter } from "../serving/engines";
import { MODEL_POD_LABEL, modelSelector } from "../serving/metric-labels";
import { MODELS_NAMESPACE } from "../k8s/namespaces";
import type { IngressMetricsConfig } from "../ingress/metrics";
import { ALERT_CATALOGUE, runbookUrl, type AlertName } from "./alert-catalogue";
import { errorRatioOf } from "./error-ratio";

/** One alerting rule, as in a Prometheus rule file and a PrometheusRule's spec.groups[].rules[]. */
export interface AlertingRule {
  readonly alert: AlertName;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: { summary: string; description: string; runbook_url: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: AlertingRule[];
}

export interface AlertRulesInput {
  readonly models: readonly ModelConfig[];
  readonly thresholds: AlertThresholds;
  readonly runbookBaseUrl: string;
  /** Namespace of the model pods (defaults to the shared MODELS_NAMESPACE). */
  readonly modelsNamespace?: string;
  /** Injected in tests only; the component always uses the real adapters. */
  readonly adapterFor?: (engine: EngineName) => EngineAdapter;
  /**
   * The stack's ingress: when enabled, models whose engine counts no failures get ModelServiceHighErrorRate from
   * the 5xx answers the controller received from them (error-ratio.ts).
   */
  readonly ingress?: IngressMetricsConfig;
}

/** Window of rate()/histogram_quantile() in alert expressions: several scrapes, short enough to react. */
export const RATE_WINDOW = "5m";
/** Window over which "no data" is judged before `for` starts counting. */
export const ABSENT_WINDOW = "5m";

/** kube-state-metrics exports an allow-listed Kubernetes label `a.b/c-d` as `label_a_b_c_d`. */
export function ksmLabel(k8sLabel: string): string {
  return `label_${k8sLabel.replace(/[^A-Za-z0-9_]/g, "_")}`;
}
export const KSM_MODEL_LABEL = ksmLabel(MODEL_POD_LABEL);

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** PromQL over kube-state-metrics for one model's pods (joined on the pod label the ModelService sets). */
export function modelPods(model: string, namespace: string): string {
  return `kube_pod_labels{namespace="${namespace}",${KSM_MODEL_LABEL}="${model}"}`;
}
export function readyReplicas(model: string, namespace: string): string {
  return `sum(kube_pod_status_ready{namespace="${namespace}",condition="true"} * on(namespace, pod) group_left() ${modelPods(model, namespace)})`;
}

function rule(
  alert: AlertName,
  expr: string,
  forDuration: string,
  labels: Record<string, string>,
  summary: string,
  description: string,
  base: string,
): AlertingRule {
  return {
    alert,
    expr,
    for: forDuration,
    labels: { severity: ALERT_CATALOGUE[alert].severity, ...labels },
    annotations: { summary, description, runbook_url: runbookUrl(base, alert) },
  };
}

/** The alert rules of one model: engine series through its adapter, Kubernetes state through kube-state-metrics. */
export function modelRuleGroup(model: ModelConfig, input: AlertRulesInput): RuleGroup {
  const ns = input.modelsNamespace ?? MODELS_NAMESPACE;
  const t = input.thresholds;
  const base = input.runbookBaseUrl;
  const metrics = (input.adapterFor ?? defaultAdapterFor)(model.engine).metrics;
  const s = modelSelector(model.name, ns);
  const errors = errorRatioOf(model, {
    models: input.models,
    namespace: ns,
    ingress: input.ingress,
    adapterFor: input.adapterFor,
  });
  const labels = { model: model.name, namespace: ns, engine: model.engine };
  const m = model.name;
  const pods = modelPods(m, ns);
  const ready = readyReplicas(m, ns);
  // A model allowed to scale to zero is only "down" or "silent" while it has pods (i.e. is meant to run).
  const whileScheduled = model.replicas.min === 0 ? ` and on() (count(${pods}) > 0)` : "";
  const rules: AlertingRule[] = [];

  rules.push(
    rule(
      "ModelServiceDown",
      `((${ready} or on() vector(0)) < 1)${whileScheduled}`,
      t.modelDownFor,
      labels,
      `Model ${m} has no ready replica`,
      `Model ${m} (${model.engine}, ${model.task}) in namespace ${ns} has had no ready replica for ${t.modelDownFor}; every request to it fails.`,
      base,
    ),
  );
  if (errors) {
    const threshold = `(threshold ${pct(t.errorRatio.value)}) for ${t.errorRatio.for}`;
    rules.push(
      rule(
        "ModelServiceHighErrorRate",
        `(${errors.expr(RATE_WINDOW)}) > ${t.errorRatio.value}`,
        t.errorRatio.for,
        labels,
        `Model ${m} fails {{ $value | humanizePercentage }} of requests`,
        errors.source === "engine"
          ? `Model ${m} (${model.engine}) failed {{ $value | humanizePercentage }} of its requests over ${RATE_WINDOW} ${threshold}.`
          : `Model ${m} (${model.engine}) answered {{ $value | humanizePercentage }} of the requests routed to it through the ingress with a server error (5xx) over ${RATE_WINDOW} ${threshold}.`,
        base,
      ),
    );
  }
  const sloSeconds = model.slo.p99LatencyMs / 1000;
  rules.push(
    rule(
      "ModelServiceHighLatencyP99",
      `(${metrics.latencyP99(s, RATE_WINDOW)}) > ${sloSeconds}`,
      t.latencyP99For,
      labels,
      `Model ${m} p99 latency {{ $value | humanizeDuration }} is above its ${model.slo.p99LatencyMs} ms SLO`,
      `Model ${m} (${model.engine}) answered with p99 latency {{ $value | humanizeDuration }} over ${RATE_WINDOW}, above its SLO of ${model.slo.p99LatencyMs} ms (models[].slo.p99LatencyMs), for ${t.latencyP99For}.`,
      base,
    ),
  );
  if (metrics.queueDepth)
    rules.push(
      rule(
        "ModelServiceQueueBacklog",
        `(${metrics.queueDepth(s)}) > ${t.queueBacklog.value}`,
        t.queueBacklog.for,
        labels,
        `Model ${m} has {{ $value }} requests waiting`,
        `Model ${m} (${model.engine}) has had more than ${t.queueBacklog.value} requests waiting (now {{ $value }}) for ${t.queueBacklog.for}: replicas cannot keep up.`,
        base,
      ),
    );
  if (model.replicas.max > model.replicas.min)
    rules.push(
      rule(
        "ModelServiceAtMaxReplicas",
        `${ready} >= ${model.replicas.max}`,
        t.atMaxReplicasFor,
        labels,
        `Model ${m} runs at its maximum of ${model.replicas.max} replicas`,
        `Model ${m} has run {{ $value }} ready replicas, its replicas.max of ${model.replicas.max}, for ${t.atMaxReplicasFor}: the autoscaler cannot add capacity.`,
        base,
      ),
    );
  rules.push(
    rule(
      "ModelServicePodRestarting",
      `sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{namespace="${ns}"}[15m]) * on(namespace, pod) group_left() ${pods}) >= ${t.podRestarts.value}`,
      t.podRestarts.for,
      labels,
      `Pod {{ $labels.pod }} of model ${m} is restarting`,
      `Pod {{ $labels.pod }} of model ${m} (${model.engine}) restarted {{ $value | printf "%.0f" }} times in 15 minutes (threshold ${t.podRestarts.value}).`,
      base,
    ),
  );
  if (metrics.metricNames.length > 0) {
    const names = metrics.metricNames.map(escapeRegex).join("|");
    rules.push(
      rule(
        "ModelMetricsMissing",
        `absent_over_time({__name__=~"${names}",${s}}[${ABSENT_WINDOW}])${whileScheduled}`,
        t.metricsMissingFor,
        labels,
        `No metrics from model ${m}`,
        `Prometheus has received none of ${model.engine}'s metrics (${metrics.metricNames.join(", ")}) for model ${m} for ${t.metricsMissingFor}: dashboards, alerts and autoscaling are blind.`,
        base,
      ),
    );
  }
  return { name: `retrieval-stack.model.${m}`, rules };
}

/**
 * GPU alerts over DCGM series. The node is always the `node` target label, which the GPU runtime's DCGM
 * ServiceMonitor copies from the exporter pod's node name (components/gpu/dcgm.ts). dcgm-exporter's own host label
 * is not used: its name changed (`Hostname`, `hostname` since exporter 4.8), so alerts on it break on an upgrade.
 */
export function gpuRuleGroup(input: AlertRulesInput): RuleGroup {
  const t = input.thresholds;
  const base = input.runbookBaseUrl;
  const ns = input.modelsNamespace ?? MODELS_NAMESPACE;
  const node = "{{ $labels.node }}";
  const gpu = `GPU {{ $labels.gpu }} ({{ $labels.modelName }}) on node ${node}`;
  const rules: AlertingRule[] = [
    rule(
      "GpuMemoryPressure",
      `DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE) > ${t.gpuMemoryRatio.value}`,
      t.gpuMemoryRatio.for,
      {},
      `GPU memory {{ $value | humanizePercentage }} used on node ${node}`,
      `${gpu} has used {{ $value | humanizePercentage }} of its framebuffer (threshold ${pct(t.gpuMemoryRatio.value)}) for ${t.gpuMemoryRatio.for}.`,
      base,
    ),
    rule(
      "GpuHighUtilization",
      `avg_over_time(DCGM_FI_DEV_GPU_UTIL[${RATE_WINDOW}]) > ${round(t.gpuUtilization.value * 100)}`,
      t.gpuUtilization.for,
      {},
      `GPU utilisation {{ $value | printf "%.0f" }}% on node ${node}`,
      `${gpu} has been more than ${pct(t.gpuUtilization.value)} busy (now {{ $value | printf "%.0f" }}%) for ${t.gpuUtilization.for}: the models on it are saturated.`,
      base,
    ),
    rule(
      "GpuXidErrors",
      `DCGM_FI_DEV_XID_ERRORS > 0`,
      "0m",
      {},
      `Xid {{ $value }} on node ${node}`,
      `${gpu} reported Xid error {{ $value }} (NVIDIA Xid catalogue: 48/63/64/74/79/92-95 mean the GPU needs a reset or the node replacing).`,
      base,
    ),
  ];
  const byGroup = new Map<string, string[]>();
  for (const m of input.models)
    if (m.gpu) byGroup.set(m.gpu.nodeGroup, [...(byGroup.get(m.gpu.nodeGroup) ?? []), m.name]);
  for (const [group, models] of [...byGroup].sort(([a], [b]) => a.localeCompare(b))) {
    const podsOfGroup = `kube_pod_labels{namespace="${ns}",${KSM_MODEL_LABEL}=~"${models.map(escapeRegex).join("|")}"}`;
    rules.push(
      rule(
        "GpuNodeGroupNoCapacity",
        `count((kube_pod_status_phase{namespace="${ns}",phase="Pending"} == 1) and on(namespace, pod) ${podsOfGroup}) > 0`,
        t.gpuPodsPendingFor,
        { node_group: group, models: models.join(",") },
        `{{ $value }} GPU pods of node group ${group} cannot be scheduled`,
        `{{ $value }} pods of model(s) ${models.join(", ")} have been Pending on GPU node group ${group} for ${t.gpuPodsPendingFor}: the group is at its maxSize, out of GPUs of its instance type, or the pods do not match its labels/taint.`,
        base,
      ),
    );
  }
  return { name: "retrieval-stack.gpu", rules };
}

/** Every rule group of a stack: one per model, and the GPU group when a model uses GPUs. */
export function buildRuleGroups(input: AlertRulesInput): RuleGroup[] {
  const groups = input.models.map((m) => modelRuleGroup(m, input));
  if (input.models.some((m) => m.gpu)) groups.push(gpuRuleGroup(input));
  return groups;
}

function pct(ratio: number): string {
  return `${round(ratio * 100)}%`;
}
function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
