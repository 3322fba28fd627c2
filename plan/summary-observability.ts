import { adapterFor } from "../components/serving/engines";
import { ABSENT_WINDOW, RATE_WINDOW, buildRuleGroups } from "../components/observability/alert-rules";
import { ALERT_NAMES, type AlertName } from "../components/observability/alert-catalogue";
import type { AlertThresholds, ModelConfig } from "../components/config";
import { KUBE_PROMETHEUS_STACK } from "../components/observability/helm-values";
import { MODELS_NAMESPACE } from "../components/k8s/namespaces";
import { errorRatioOf, type ErrorRatioSource } from "../components/observability/error-ratio";
import type { SummarySection } from "./summary";

/** Alerts of the stack with their thresholds, and where they go: the plan's answer to "what pages us, when". */
export const observabilitySummary: SummarySection = ({ config }) => {
  const obs = config.observability;
  if (!obs.enabled) return "## Observability\n\n_disabled (observability.enabled: false): no Prometheus, no alerts_";
  const groups = buildRuleGroups({
    models: config.models,
    thresholds: obs.alerts,
    runbookBaseUrl: obs.runbookBaseUrl,
    modelsNamespace: MODELS_NAMESPACE,
    ingress: config.ingress,
  });
  const errorSource = (m: ModelConfig | undefined) =>
    m
      ? errorRatioOf(m, { models: config.models, namespace: MODELS_NAMESPACE, ingress: config.ingress })?.source
      : undefined;
  const rows: string[][] = [];
  for (const g of groups)
    for (const r of g.rules) {
      const scope = r.labels.model ?? (r.labels.node_group ? `node group ${r.labels.node_group}` : "every GPU");
      const model = config.models.find((m) => m.name === r.labels.model);
      rows.push([
        `\`${r.alert}\``,
        r.labels.severity ?? "",
        scope,
        firesWhen(r.alert, obs.alerts, model, errorSource(model)),
        r.for,
      ]);
    }
  const absent: string[] = [];
  for (const m of config.models) {
    const metrics = adapterFor(m.engine).metrics;
    if (!errorSource(m))
      absent.push(
        `\`ModelServiceHighErrorRate\` for \`${m.name}\`: ${m.engine} declares no failure counter and ${config.ingress.enabled ? "the ingress does not route it" : "the ingress is disabled"}`,
      );
    if (!metrics.queueDepth)
      absent.push(`\`ModelServiceQueueBacklog\` for \`${m.name}\`: ${m.engine} exports no queue gauge`);
    if (m.replicas.min === m.replicas.max)
      absent.push(`\`ModelServiceAtMaxReplicas\` for \`${m.name}\`: replicas.min = replicas.max (no autoscaling)`);
  }
  const receivers = obs.receivers.length
    ? obs.receivers
        .map(
          (r) =>
            `- \`${r.name}\` (${r.type}${r.type === "wecom" || r.type === "dingtalk" ? " via the chat bridge" : ""}): ${r.severities.join(", ")}`,
        )
        .join("\n")
    : "- _none: alerts are visible in Alertmanager and Grafana only_";
  const table = [
    "| alert | severity | scope | fires when | for |",
    "| --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
  return [
    "## Observability",
    "",
    `- ${KUBE_PROMETHEUS_STACK.chart} ${KUBE_PROMETHEUS_STACK.version}; retention ${obs.retention}; Prometheus volume ${obs.storageGiB ? `${obs.storageGiB} GiB` : "emptyDir (lost on restart)"}; Grafana ${obs.grafana.exposeViaIngress ? "exposed via the ingress at /grafana" : "not exposed (kubectl port-forward)"}`,
    `- ${rows.length} alert rules of ${new Set(rows.map((r) => r[0])).size} kinds rendered (the catalogue has ${ALERT_NAMES.length}); runbooks: ${obs.runbookBaseUrl}`,
    "",
    table,
    ...(absent.length ? ["", "Not rendered:", ...absent.map((a) => `- ${a}`)] : []),
    "",
    "Receivers (warnings are inhibited while the same model's critical alert fires):",
    receivers,
  ].join("\n");
};

/** The condition of an alert in words, with its threshold from config. */
function firesWhen(
  alert: AlertName,
  t: AlertThresholds,
  model: ModelConfig | undefined,
  errors: ErrorRatioSource | undefined,
): string {
  const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
  const whileScheduled = model?.replicas.min === 0 ? " (while it has pods)" : "";
  switch (alert) {
    case "ModelServiceDown":
      return `ready replicas < 1${whileScheduled}`;
    case "ModelServiceHighErrorRate":
      return errors === "ingress"
        ? `5xx / all answers at the ingress > ${pct(t.errorRatio.value)} over ${RATE_WINDOW} (engine counts no failures)`
        : `failed / all requests > ${pct(t.errorRatio.value)} over ${RATE_WINDOW}`;
    case "ModelServiceHighLatencyP99":
      return `p99 latency > ${model?.slo.p99LatencyMs ?? "?"} ms (SLO) over ${RATE_WINDOW}`;
    case "ModelServiceQueueBacklog":
      return `waiting requests > ${t.queueBacklog.value}`;
    case "ModelServiceAtMaxReplicas":
      return `ready replicas >= replicas.max ${model?.replicas.max ?? "?"}`;
    case "ModelServicePodRestarting":
      return `container restarts in 15 min >= ${t.podRestarts.value}`;
    case "ModelMetricsMissing":
      return `none of the engine's metrics for ${ABSENT_WINDOW}${whileScheduled}`;
    case "GpuMemoryPressure":
      return `framebuffer used / total > ${pct(t.gpuMemoryRatio.value)}`;
    case "GpuHighUtilization":
      return `mean utilisation over ${RATE_WINDOW} > ${pct(t.gpuUtilization.value)}`;
    case "GpuXidErrors":
      return "an Xid error (DCGM_FI_DEV_XID_ERRORS > 0)";
    case "GpuNodeGroupNoCapacity":
      return "a model pod of the group is Pending";
  }
}
