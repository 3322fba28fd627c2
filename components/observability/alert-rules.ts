import type { AlertThresholds, CanaryConfig, EngineName, ModelConfig, PlatformConfig } from "../config";
import { adapterFor as defaultAdapterFor, type EngineAdapter } from "../serving/engines";
import { MODEL_POD_LABEL, modelSelector } from "../serving/metric-labels";
import { MODELS_NAMESPACE } from "../k8s/namespaces";
import type { IngressMetricsConfig } from "../ingress/metrics";
import { ALERT_CATALOGUE, runbookUrl, type AlertName } from "./alert-catalogue";
import { errorRatioOf } from "./error-ratio";
import { DCGM_XID_COUNT, DCGM_XID_WINDOW_MINUTES } from "../gpu/dcgm";

/** One alerting rule, as in a Prometheus rule file and a PrometheusRule's spec.groups[].rules[]. */
export interface AlertingRule {
  readonly alert: AlertName;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  /** runbook_url only when observability.runbookBaseUrl is set (a relative link opens nowhere from chat). */
  readonly annotations: { summary: string; description: string; runbook_url?: string };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: AlertingRule[];
}

/**
 * A rule as the builders write it: what it watches and what a person reads, nothing that is the same for every
 * rule. The one pass (finalizeGroup) adds the group's scope labels, the severity from ALERT_CATALOGUE and the
 * runbook URL.
 */
interface AlertDraft {
  readonly alert: AlertName;
  readonly expr: string;
  readonly for: string;
  readonly summary: string;
  readonly description: string;
  /** The condition in words with its threshold from config (plan.md's "fires when" column). */
  readonly firesWhen: string;
  /** Labels beyond the group's scope (e.g. node_group). */
  readonly labels?: Record<string, string>;
}

/** The drafts of one rule group and the labels every alert of the group carries (model, namespace, engine). */
interface DraftGroup {
  readonly name: string;
  readonly scope: Record<string, string>;
  readonly drafts: readonly AlertDraft[];
}

interface AlertRulesInput {
  readonly models: readonly ModelConfig[];
  readonly thresholds: AlertThresholds;
  /** Absolute URL of docs/runbooks.md as your team reads it; each alert appends its #anchor. Unset: no link. */
  readonly runbookBaseUrl?: string;
  /** Namespace of the model pods (defaults to the shared MODELS_NAMESPACE). */
  readonly modelsNamespace?: string;
  /** Injected in tests only; the component always uses the real adapters. */
  readonly adapterFor?: (engine: EngineName) => EngineAdapter;
  /**
   * The stack's ingress: when enabled, models whose engine counts no failures get ModelServiceHighErrorRate from
   * the 5xx answers the controller received from them (error-ratio.ts).
   */
  readonly ingress?: IngressMetricsConfig;
  /** The stack's API gateway: when enabled, its alerts (gateway group) are rendered. */
  readonly gateway?: { readonly enabled: boolean };
  /** The quality canary's config, when the stack deploys it: its alerts join every model's group. */
  readonly canary?: CanaryConfig;
}

/** Window of rate()/histogram_quantile() in alert expressions: several scrapes, short enough to react. */
const RATE_WINDOW = "5m";
/** Window over which "no data" is judged before `for` starts counting. */
const ABSENT_WINDOW = "5m";

/** kube-state-metrics exports an allow-listed Kubernetes label `a.b/c-d` as `label_a_b_c_d`. */
export function ksmLabel(k8sLabel: string): string {
  return `label_${k8sLabel.replace(/[^A-Za-z0-9_]/g, "_")}`;
}
export const KSM_MODEL_LABEL = ksmLabel(MODEL_POD_LABEL);

export const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** PromQL over kube-state-metrics for one model's pods (joined on the pod label the ModelService sets). */
export function modelPods(model: string, namespace: string): string {
  return `kube_pod_labels{namespace="${namespace}",${KSM_MODEL_LABEL}="${model}"}`;
}
export function readyReplicas(model: string, namespace: string): string {
  return `sum(kube_pod_status_ready{namespace="${namespace}",condition="true"} * on(namespace, pod) group_left() ${modelPods(model, namespace)})`;
}

/**
 * cAdvisor container series of a namespace as kube-prometheus-stack's kubelet ServiceMonitor stores them
 * (kubelet.serviceMonitor.cAdvisor: true, path /metrics/cadvisor; prometheus-community/helm-charts
 * charts/kube-prometheus-stack/values.yaml and its k8s.rules.container_* recording rules, HEAD cf408a2, read
 * 2026-12-01): real containers only (no pod-level cgroup `container=""`, no pause image `image=""`).
 */
function cadvisor(namespace: string): string {
  return `namespace="${namespace}",metrics_path="/metrics/cadvisor",container!="",image!=""`;
}

/** The one pass: scope labels, severity and runbook URL onto every draft of a group. */
export function finalizeGroup(group: DraftGroup, runbookBaseUrl: string | undefined): RuleGroup {
  return {
    name: group.name,
    rules: group.drafts.map((d) => ({
      alert: d.alert,
      expr: d.expr,
      for: d.for,
      labels: { severity: ALERT_CATALOGUE[d.alert].severity, ...group.scope, ...d.labels },
      annotations: {
        summary: d.summary,
        description: d.description,
        ...(runbookBaseUrl ? { runbook_url: runbookUrl(runbookBaseUrl, d.alert) } : {}),
      },
    })),
  };
}

/** The alert drafts of one model: engine series through its adapter, Kubernetes state through kube-state-metrics. */
function modelDrafts(model: ModelConfig, input: AlertRulesInput): DraftGroup {
  const ns = input.modelsNamespace ?? MODELS_NAMESPACE;
  const t = input.thresholds;
  const metrics = (input.adapterFor ?? defaultAdapterFor)(model.engine).metrics;
  const s = modelSelector(model.name, ns);
  const errors = errorRatioOf(model, {
    models: input.models,
    namespace: ns,
    ingress: input.ingress,
    gateway: input.gateway,
    adapterFor: input.adapterFor,
  });
  const m = model.name;
  const pods = modelPods(m, ns);
  const ready = readyReplicas(m, ns);
  // A model allowed to scale to zero is only "down" or "silent" while it has pods (i.e. is meant to run).
  const scaleToZero = model.replicas.min === 0;
  const whileScheduled = scaleToZero ? ` and on() (count(${pods}) > 0)` : "";
  const whileScheduledText = scaleToZero ? " (while it has pods)" : "";
  const drafts: AlertDraft[] = [];

  drafts.push({
    alert: "ModelServiceDown",
    expr: `((${ready} or on() vector(0)) < 1)${whileScheduled}`,
    for: t.modelDownFor,
    summary: `Model ${m} has no ready replica`,
    description: `Model ${m} (${model.engine}, ${model.task}) in namespace ${ns} has had no ready replica for ${t.modelDownFor}; every request to it fails.`,
    firesWhen: `ready replicas < 1${whileScheduledText}`,
  });
  if (errors) {
    const threshold = `(threshold ${pct(t.errorRatio.value)}) for ${t.errorRatio.for}`;
    drafts.push({
      alert: "ModelServiceHighErrorRate",
      expr: `(${errors.expr(RATE_WINDOW)}) > ${t.errorRatio.value}`,
      for: t.errorRatio.for,
      summary: `Model ${m} fails {{ $value | humanizePercentage }} of requests`,
      description:
        errors.source === "engine"
          ? `Model ${m} (${model.engine}) failed {{ $value | humanizePercentage }} of its requests over ${RATE_WINDOW} ${threshold}.`
          : `Model ${m} (${model.engine}) answered {{ $value | humanizePercentage }} of the requests that reached it through the ${errors.source} with a server error (5xx) over ${RATE_WINDOW} ${threshold}.`,
      firesWhen:
        errors.source === "engine"
          ? `failed / all requests > ${pct(t.errorRatio.value)} over ${RATE_WINDOW}`
          : `5xx / all answers at the ${errors.source} > ${pct(t.errorRatio.value)} over ${RATE_WINDOW} (engine counts no failures)`,
    });
  }
  const sloSeconds = model.slo.p99LatencyMs / 1000;
  drafts.push({
    alert: "ModelServiceHighLatencyP99",
    expr: `(${metrics.latencyP99(s, RATE_WINDOW)}) > ${sloSeconds}`,
    for: t.latencyP99For,
    summary: `Model ${m} p99 latency {{ $value | humanizeDuration }} is above its ${model.slo.p99LatencyMs} ms SLO`,
    description: `Model ${m} (${model.engine}) answered with p99 latency {{ $value | humanizeDuration }} over ${RATE_WINDOW}, above its SLO of ${model.slo.p99LatencyMs} ms (models[].slo.p99LatencyMs), for ${t.latencyP99For}.`,
    firesWhen: `p99 latency > ${model.slo.p99LatencyMs} ms (SLO) over ${RATE_WINDOW}`,
  });
  if (metrics.queueDepth)
    drafts.push({
      alert: "ModelServiceQueueBacklog",
      expr: `(${metrics.queueDepth(s)}) > ${t.queueBacklog.value}`,
      for: t.queueBacklog.for,
      summary: `Model ${m} has {{ $value }} requests waiting`,
      description: `Model ${m} (${model.engine}) has had more than ${t.queueBacklog.value} requests waiting (now {{ $value }}) for ${t.queueBacklog.for}: replicas cannot keep up.`,
      firesWhen: `waiting requests > ${t.queueBacklog.value}`,
    });
  if (model.replicas.max > model.replicas.min)
    drafts.push({
      alert: "ModelServiceAtMaxReplicas",
      expr: `${ready} >= ${model.replicas.max}`,
      for: t.atMaxReplicasFor,
      summary: `Model ${m} runs at its maximum of ${model.replicas.max} replicas`,
      description: `Model ${m} has run {{ $value }} ready replicas, its replicas.max of ${model.replicas.max}, for ${t.atMaxReplicasFor}: the autoscaler cannot add capacity.`,
      firesWhen: `ready replicas >= replicas.max ${model.replicas.max}`,
    });
  drafts.push({
    alert: "ModelServicePodRestarting",
    expr: `sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{namespace="${ns}"}[15m]) * on(namespace, pod) group_left() ${pods}) >= ${t.podRestarts.value}`,
    for: t.podRestarts.for,
    summary: `Pod {{ $labels.pod }} of model ${m} is restarting`,
    description: `Pod {{ $labels.pod }} of model ${m} (${model.engine}) restarted {{ $value | printf "%.0f" }} times in 15 minutes (threshold ${t.podRestarts.value}).`,
    firesWhen: `container restarts in 15 min >= ${t.podRestarts.value}`,
  });
  if (metrics.latencyMean) {
    const mean = meanLatencyObjective(model, t);
    drafts.push({
      alert: "ModelServiceHighMeanLatency",
      expr: `(${metrics.latencyMean(s, RATE_WINDOW)}) > ${mean.ms / 1000}`,
      for: t.meanLatency.for,
      summary: `Model ${m} mean latency {{ $value | humanizeDuration }} is above ${mean.ms} ms`,
      description: `Model ${m} (${model.engine}) answered in {{ $value | humanizeDuration }} on average over ${RATE_WINDOW}, above ${mean.ms} ms (${mean.from}), for ${t.meanLatency.for}.`,
      firesWhen: `mean latency > ${mean.ms} ms (${mean.from}) over ${RATE_WINDOW}`,
    });
  }
  const low = t.lowTraffic;
  if (low.enabled) {
    const hours = low.utcHours;
    const window = hours ? ` and on() (hour() >= ${hours.start} < ${hours.end})` : "";
    const hoursText = hours ? ` between ${hours.start}:00 and ${hours.end}:00 UTC` : "";
    drafts.push({
      alert: "ModelServiceLowTraffic",
      expr: `((${metrics.requestRate(s, RATE_WINDOW)}) or on() vector(0)) < ${low.value} and on() (${ready} > 0)${window}`,
      for: low.for,
      summary: `Model ${m} gets {{ $value | printf "%.2f" }} requests/s`,
      description: `Model ${m} (${model.engine}) has served {{ $value | printf "%.2f" }} requests per second over ${RATE_WINDOW}, below observability.alerts.lowTraffic.value (${low.value}), for ${low.for} while it runs${hoursText}: clients may not reach it.`,
      firesWhen: `requests/s < ${low.value} over ${RATE_WINDOW} while it runs${hoursText}`,
    });
  }
  if (!model.gpu) {
    const cpu = t.cpuSaturation;
    drafts.push({
      alert: "ModelServiceCpuSaturated",
      expr: `sum(rate(container_cpu_usage_seconds_total{${cadvisor(ns)}}[${RATE_WINDOW}]) * on(namespace, pod) group_left() ${pods}) / sum(kube_pod_container_resource_requests{namespace="${ns}",resource="cpu"} * on(namespace, pod) group_left() ${pods}) > ${cpu.value}`,
      for: cpu.for,
      summary: `Model ${m} uses {{ $value | humanizePercentage }} of its CPU request`,
      description: `Model ${m} (${model.engine}, CPU-served) has used {{ $value | humanizePercentage }} of the CPU its pods request (threshold ${pct(cpu.value)}) for ${cpu.for}: requests queue behind the tokenizer and the model; add replicas or raise models[].resources.cpu.`,
      firesWhen: `CPU used / requested > ${pct(cpu.value)} over ${RATE_WINDOW}`,
    });
  }
  const mem = t.memoryOfLimit;
  drafts.push({
    alert: "ModelServiceMemoryNearLimit",
    expr: `(max by (namespace, pod, container) (container_memory_working_set_bytes{${cadvisor(ns)}}) / on(namespace, pod, container) group_left() max by (namespace, pod, container) (kube_pod_container_resource_limits{namespace="${ns}",resource="memory"})) * on(namespace, pod) group_left() ${pods} > ${mem.value}`,
    for: mem.for,
    summary: `Container {{ $labels.container }} of pod {{ $labels.pod }} (model ${m}) uses {{ $value | humanizePercentage }} of its memory limit`,
    description: `Container {{ $labels.container }} of pod {{ $labels.pod }} of model ${m} (${model.engine}) has used {{ $value | humanizePercentage }} of its memory limit (threshold ${pct(mem.value)}) for ${mem.for}: the kernel kills it (OOMKilled) at 100%.`,
    firesWhen: `working set / memory limit of a container > ${pct(mem.value)}`,
  });
  if (input.canary?.enabled) drafts.push(...canaryDrafts(model, input.canary));
  if (metrics.metricNames.length > 0) {
    const names = metrics.metricNames.map(escapeRegex).join("|");
    drafts.push({
      alert: "ModelMetricsMissing",
      expr: `absent_over_time({__name__=~"${names}",${s}}[${ABSENT_WINDOW}])${whileScheduled}`,
      for: t.metricsMissingFor,
      summary: `No metrics from model ${m}`,
      description: `Prometheus has received none of ${model.engine}'s metrics (${metrics.metricNames.join(", ")}) for model ${m} for ${t.metricsMissingFor}: dashboards, alerts and autoscaling are blind.`,
      firesWhen: `none of the engine's metrics for ${ABSENT_WINDOW}${whileScheduledText}`,
    });
  }
  return { name: `retrieval-stack.model.${m}`, scope: { model: m, namespace: ns, engine: model.engine }, drafts };
}

/**
 * A model's mean-latency objective in ms: its own models[].slo.meanLatencyMs, else the share
 * observability.alerts.meanLatency.ofP99 of its p99 objective (a reranker with a 2 s p99 SLO is not held to an
 * embedder's mean). `from` says which, for the alert text and plan.md.
 */
function meanLatencyObjective(model: ModelConfig, t: AlertThresholds): { ms: number; from: string } {
  if (model.slo.meanLatencyMs !== undefined) return { ms: model.slo.meanLatencyMs, from: "models[].slo.meanLatencyMs" };
  const ms = round(model.slo.p99LatencyMs * t.meanLatency.ofP99);
  return { ms, from: `${t.meanLatency.ofP99} x the ${model.slo.p99LatencyMs} ms p99 SLO` };
}

/** The canary's alerts of one model, over the series images/canary exports (label `model`). */
export function canaryDrafts(model: ModelConfig, canary: CanaryConfig): AlertDraft[] {
  const m = model.name;
  const min = canary.models[m]?.minMrrAt10 ?? canary.minMrrAt10;
  const staleSeconds = 3 * canary.intervalSeconds;
  const last = `retrieval_stack_canary_last_run_timestamp_seconds{model="${m}"}`;
  return [
    {
      alert: "ModelQualityLow",
      expr: `min by (set) (retrieval_stack_canary_mrr_at_10{model="${m}"}) < ${min}`,
      for: canary.qualityLowFor,
      summary: `Model ${m} ranks worse: MRR@10 {{ $value | printf "%.3f" }} on the {{ $labels.set }} set`,
      description: `The quality canary measured MRR@10 {{ $value | printf "%.3f" }} for model ${m} (${model.engine}, ${model.task}) on the {{ $labels.set }} labelled set, below its threshold ${min}, for ${canary.qualityLowFor}: it returns worse results than it should (wrong weights or revision, a broken template, truncation).`,
      firesWhen: `canary MRR@10 < ${min} (any set)`,
    },
    {
      alert: "CanaryCheckFailing",
      expr: `min by (check) (retrieval_stack_canary_check_success{model="${m}"}) == 0`,
      for: canary.checkFailingFor,
      summary: `Canary check {{ $labels.check }} fails for model ${m}`,
      description: `The quality canary's check {{ $labels.check }} has failed for model ${m} (${model.engine}) on every run for ${canary.checkFailingFor}; the canary's log names what came back.`,
      firesWhen: "a canary check (health, sanity, quality.*) fails",
    },
    {
      alert: "ModelFingerprintDrift",
      expr: `max(retrieval_stack_canary_fingerprint_match{model="${m}"}) == 0`,
      for: canary.checkFailingFor,
      summary: `Model ${m} answers differently from its recorded fingerprint`,
      description: `The quality canary found model ${m}'s answers to the fixed probes outside the tolerance of the fingerprint recorded at deploy time for ${canary.checkFailingFor} (drift: retrieval_stack_canary_fingerprint_drift): vectors or scores changed under the same config (an engine image re-pulled, an unpinned revision, other hardware). Indexes built with the old vectors now return worse results; the canary's log names the probes and numbers (docs/model-changes.md).`,
      firesWhen: "the model's probe answers drifted from its recorded fingerprint",
    },
    {
      alert: "CanaryStale",
      expr: `(time() - max(${last}) > ${staleSeconds}) or absent(${last})`,
      for: `${canary.intervalSeconds}s`,
      summary: `No canary run for model ${m} in ${staleSeconds} s`,
      description: `The quality canary has not finished a run for model ${m} for more than 3 intervals (${staleSeconds} s): quality is not being measured (canary pod down, stuck or not scraped).`,
      firesWhen: `no canary run for 3 intervals (${staleSeconds} s)`,
    },
  ];
}

/**
 * GPU alert drafts over DCGM series. The node is always the `node` target label, which the GPU runtime's DCGM
 * ServiceMonitor copies from the exporter pod's node name (components/gpu/dcgm.ts). dcgm-exporter's own host label
 * is not used: its name changed (`Hostname`, `hostname` since exporter 4.8), so alerts on it break on an upgrade.
 */
function gpuDrafts(input: AlertRulesInput): DraftGroup {
  const t = input.thresholds;
  const ns = input.modelsNamespace ?? MODELS_NAMESPACE;
  const node = "{{ $labels.node }}";
  const gpu = `GPU {{ $labels.gpu }} ({{ $labels.modelName }}) on node ${node}`;
  const adapterOf = input.adapterFor ?? defaultAdapterFor;
  // GPUs of engines that reserve their memory up front are full by design (vLLM, SGLang, KServe's vLLM backend):
  // only the GPUs of models whose engine allocates as it goes are watched (dcgm-exporter names the pod holding a
  // GPU in `pod`/`namespace`, which the scrape stores as exported_pod/exported_namespace).
  const onDemand = input.models.filter((m) => m.gpu && !adapterOf(m.engine).gpuMemoryReservation?.(m));
  const drafts: AlertDraft[] = [];
  if (onDemand.length > 0) {
    const names = onDemand.map((m) => m.name);
    const pods = `kube_pod_labels{namespace="${ns}",${KSM_MODEL_LABEL}=~"${names.map(escapeRegex).join("|")}"}`;
    const asExported = `label_replace(label_replace(${pods}, "exported_pod", "$1", "pod", "(.+)"), "exported_namespace", "$1", "namespace", "(.+)")`;
    drafts.push({
      alert: "GpuMemoryPressure",
      expr: `(DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)) * on(exported_namespace, exported_pod) group_left() ${asExported} > ${t.gpuMemoryRatio.value}`,
      for: t.gpuMemoryRatio.for,
      labels: { models: names.join(",") },
      summary: `GPU memory {{ $value | humanizePercentage }} used by pod {{ $labels.exported_pod }} on node ${node}`,
      description: `${gpu}, held by pod {{ $labels.exported_pod }}, has used {{ $value | humanizePercentage }} of its framebuffer (threshold ${pct(t.gpuMemoryRatio.value)}) for ${t.gpuMemoryRatio.for}; its engine allocates memory as it goes, so the next large batch may fail with CUDA out of memory.`,
      firesWhen: `framebuffer used / total > ${pct(t.gpuMemoryRatio.value)} on a GPU of ${names.join(", ")} (engines that allocate as they go)`,
    });
  }
  drafts.push(
    {
      alert: "GpuHighUtilization",
      expr: `avg_over_time(DCGM_FI_DEV_GPU_UTIL[${RATE_WINDOW}]) > ${round(t.gpuUtilization.value * 100)}`,
      for: t.gpuUtilization.for,
      summary: `GPU utilisation {{ $value | printf "%.0f" }}% on node ${node}`,
      description: `${gpu} has been more than ${pct(t.gpuUtilization.value)} busy (now {{ $value | printf "%.0f" }}%) for ${t.gpuUtilization.for}: the models on it are saturated.`,
      firesWhen: `mean utilisation over ${RATE_WINDOW} > ${pct(t.gpuUtilization.value)}`,
    },
    {
      alert: "GpuXidErrors",
      expr: `${DCGM_XID_COUNT} > 0`,
      for: "0m",
      summary: `Xid {{ $labels.xid }} on node ${node}`,
      description: `${gpu} reported Xid error {{ $labels.xid }} {{ $value }} time(s) within dcgm-exporter's ${DCGM_XID_WINDOW_MINUTES}-minute window (NVIDIA Xid catalogue: 48/63/64/74/79/92-95 mean the GPU needs a reset or the node replacing).`,
      firesWhen: `an Xid error within ${DCGM_XID_WINDOW_MINUTES} minutes (${DCGM_XID_COUNT} > 0)`,
    },
  );
  const byGroup = new Map<string, string[]>();
  for (const m of input.models)
    if (m.gpu) byGroup.set(m.gpu.nodeGroup, [...(byGroup.get(m.gpu.nodeGroup) ?? []), m.name]);
  for (const [group, models] of [...byGroup].sort(([a], [b]) => a.localeCompare(b))) {
    const podsOfGroup = `kube_pod_labels{namespace="${ns}",${KSM_MODEL_LABEL}=~"${models.map(escapeRegex).join("|")}"}`;
    drafts.push({
      alert: "GpuNodeGroupNoCapacity",
      expr: `count((kube_pod_status_phase{namespace="${ns}",phase="Pending"} == 1) and on(namespace, pod) ${podsOfGroup}) > 0`,
      for: t.gpuPodsPendingFor,
      labels: { node_group: group, models: models.join(",") },
      summary: `{{ $value }} GPU pods of node group ${group} cannot be scheduled`,
      description: `{{ $value }} pods of model(s) ${models.join(", ")} have been Pending on GPU node group ${group} for ${t.gpuPodsPendingFor}: the group is at its maxSize, out of GPUs of its instance type, or the pods do not match its labels/taint.`,
      firesWhen: "a model pod of the group is Pending",
    });
  }
  return { name: "retrieval-stack.gpu", scope: {}, drafts };
}

/** GatewayUpstreamInvalid looks this far back: one refused answer keeps it firing this long. */
const UPSTREAM_INVALID_WINDOW = "10m";
/** GatewayDiscoveryUnavailable: longer than an API server upgrade or a watch's backoff (10 s at most). */
const DISCOVERY_UNAVAILABLE_FOR = "10m";
/** GatewayAuthThrottled: throttled failures sustained this long (a mistyped key stops within a minute or two). */
const AUTH_THROTTLED_FOR = "5m";

/**
 * The API gateway's alerts over its own series (`retrieval_gateway_*`, components/gateway): per API key and model,
 * so one tenant's failures or quota do not hide behind the others'.
 */
function gatewayDrafts(input: AlertRulesInput): DraftGroup {
  const g = input.thresholds.gateway;
  const requests = "retrieval_gateway_requests_total";
  const byKeyModel = (selector: string) => `sum by (key, model) (rate(${requests}${selector}[${RATE_WINDOW}]))`;
  const drafts: AlertDraft[] = [
    {
      alert: "GatewayHighErrorRate",
      expr: `(${byKeyModel('{status=~"5.."}')} / ${byKeyModel("")} > ${g.errorRatio.value}) and (${byKeyModel("")} >= ${g.minRequestsPerSecond})`,
      for: g.errorRatio.for,
      summary:
        "Gateway answers {{ $value | humanizePercentage }} of key {{ $labels.key }}'s requests to {{ $labels.model }} with 5xx",
      description: `The gateway answered {{ $value | humanizePercentage }} of API key {{ $labels.key }}'s requests to model {{ $labels.model }} with a server error over ${RATE_WINDOW} (threshold ${pct(g.errorRatio.value)}, counted from ${g.minRequestsPerSecond} requests/s) for ${g.errorRatio.for}.`,
      firesWhen: `5xx / all answers per key and model > ${pct(g.errorRatio.value)} over ${RATE_WINDOW}, at >= ${g.minRequestsPerSecond} requests/s`,
    },
    {
      alert: "GatewayCircuitBreakerOpen",
      expr: "max by (model) (retrieval_gateway_breaker_state) >= 2",
      for: g.breakerOpenFor,
      summary: "Gateway circuit breaker for model {{ $labels.model }} is open",
      description: `The gateway's circuit breaker for model {{ $labels.model }} has been open for ${g.breakerOpenFor}: it refuses the model's requests at once (503) because the model kept failing.`,
      firesWhen: "breaker state = open (2)",
    },
    {
      alert: "GatewayQuotaExhausted",
      expr: `sum by (key, model, quota) (rate(retrieval_gateway_quota_rejections_total[${RATE_WINDOW}])) > 0`,
      for: g.quotaExhaustedFor,
      summary: "API key {{ $labels.key }} is over its {{ $labels.quota }} quota for {{ $labels.model }}",
      description: `The gateway has refused API key {{ $labels.key }}'s requests to model {{ $labels.model }} over its {{ $labels.quota }} quota ({{ $value | printf "%.2f" }}/s) for ${g.quotaExhaustedFor}.`,
      firesWhen: "quota rejections of a key > 0/s",
    },
    {
      alert: "GatewayRedisDown",
      expr: `(min(retrieval_gateway_redis_up) < 1) or (sum(rate(retrieval_gateway_limit_fail_open_total[${RATE_WINDOW}])) > 0)`,
      for: g.redisDownFor,
      summary:
        "Gateway limit store unreachable: every replica limits from its own memory at its share of each key's limits",
      description: `For ${g.redisDownFor} a gateway replica has not reached its limit store (retrieval_gateway_redis_up 0) or has judged requests by its in-memory limits (retrieval_gateway_limit_fail_open_total rising). With redis.onDown fail-open (the default) each replica now enforces every key's rate and daily quotas alone, at the configured values divided by the configured gateway replicas, counting only the traffic it sees itself: a key may exceed its limits by the factor KEDA scaled the gateway beyond its configured replicas, and usage counted before the outage is not seen. With fail-closed every limited request is answered 503.`,
      firesWhen: "limit store down, or requests judged by per-replica memory limits",
    },
    {
      alert: "GatewayKeysReloadFailed",
      expr: `sum(increase(retrieval_gateway_keys_reload_failures_total[10m])) > 0`,
      for: "0m",
      summary: "Gateway refused a key update: the last good keys stay in force",
      description:
        "A gateway replica read a changed key Secret that is not a valid key list and kept its last good keys: keys added since are refused (401) and keys revoked since still work, until the Secret is fixed.",
      firesWhen: "a malformed key Secret update in the last 10m",
    },
    {
      alert: "GatewayUpstreamInvalid",
      // Never normal: one refused answer is a broken engine, a wrong model behind a name or a version mismatch.
      expr: `sum by (model, reason) (increase(retrieval_gateway_upstream_invalid_total[${UPSTREAM_INVALID_WINDOW}])) > 0`,
      for: "0m",
      summary: "Gateway refuses {{ $labels.model }}'s answers as wrong ({{ $labels.reason }})",
      description: `The gateway refused {{ $value | printf "%.0f" }} answer(s) of model {{ $labels.model }} in the last ${UPSTREAM_INVALID_WINDOW} as invalid (reason {{ $labels.reason }}: not_json, shape, count, dims, not_finite, index or too_large) and answered the callers 502 upstream_invalid instead of serving them; the breaker counts these as the engine's failures.`,
      firesWhen: `an engine answer refused as invalid in the last ${UPSTREAM_INVALID_WINDOW}`,
    },
    {
      alert: "GatewayAuthThrottled",
      expr: `sum(rate(retrieval_gateway_auth_failures_total{throttled="true"}[${RATE_WINDOW}])) > 0`,
      for: AUTH_THROTTLED_FOR,
      summary: "Gateway is throttling failed authentications: someone is guessing API keys",
      description: `For ${AUTH_THROTTLED_FOR} the gateway has answered {{ $value | printf "%.2f" }} failed authentications/s with 429 too_many_auth_failures: a client address keeps presenting wrong keys or tokens past its failure budget (authFailuresPerMinute). Valid keys from that address are still served.`,
      firesWhen: `throttled failed authentications > 0/s for ${AUTH_THROTTLED_FOR}`,
    },
    {
      alert: "GatewayDiscoveryUnavailable",
      expr: "(min(retrieval_gateway_ready_pods) < 0) or (min(retrieval_gateway_discovered_proxies) < 0)",
      for: DISCOVERY_UNAVAILABLE_FOR,
      summary:
        "Gateway cannot read EndpointSlices: no per-pod routing, X-Forwarded-For trusted from trustedProxies only",
      description: `For ${DISCOVERY_UNAVAILABLE_FOR} a gateway replica has not read the EndpointSlices of a model or of the ingress controller through the Kubernetes API (retrieval_gateway_ready_pods or retrieval_gateway_discovered_proxies -1). It routes through each model's Service (per connection, as kube-proxy balances it; a model scaled to zero still wakes: the Service is probed) and takes X-Forwarded-For only from the trustedProxies CIDRs, so every client behind the ingress shares the controller pods' failed-auth budget. Nothing is refused because of it.`,
      firesWhen: `discovery unavailable (a -1 gauge) for ${DISCOVERY_UNAVAILABLE_FOR}`,
    },
  ];
  return { name: "retrieval-stack.gateway", scope: {}, drafts };
}

/**
 * The alert input of a whole stack as index.ts composes it: its models, ingress and gateway, and the canary's alerts
 * when the stack deploys the canary (observability and observability.canary enabled). plan.md reads it.
 */
export function stackAlertRulesInput(config: PlatformConfig): AlertRulesInput {
  const obs = config.observability;
  return {
    models: config.models,
    thresholds: obs.alerts,
    runbookBaseUrl: obs.runbookBaseUrl,
    modelsNamespace: MODELS_NAMESPACE,
    ingress: config.ingress,
    gateway: config.gateway,
    canary: obs.enabled && obs.canary.enabled ? obs.canary : undefined,
  };
}

/** Every draft group of a stack: one per model, the GPU group when a model uses GPUs, the gateway's when enabled. */
export function planAlertGroups(input: AlertRulesInput): DraftGroup[] {
  const groups = input.models.map((m) => modelDrafts(m, input));
  if (input.models.some((m) => m.gpu)) groups.push(gpuDrafts(input));
  if (input.gateway?.enabled) groups.push(gatewayDrafts(input));
  return groups;
}

/** Every rule group of a stack, as the PrometheusRule holds it. */
export function buildRuleGroups(input: AlertRulesInput): RuleGroup[] {
  return planAlertGroups(input).map((g) => finalizeGroup(g, input.runbookBaseUrl));
}

function pct(ratio: number): string {
  return `${round(ratio * 100)}%`;
}
function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
