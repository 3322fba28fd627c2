import { adapterFor } from "../components/serving/engines";
import { finalizeGroup, planAlertGroups, stackAlertRulesInput } from "../components/observability/alert-rules";
import { ALERT_CATALOGUE, ALERT_NAMES } from "../components/observability/alert-catalogue";
import type { ModelConfig } from "../components/config";
import { KUBE_PROMETHEUS_STACK } from "../components/observability/helm-values";
import { MODELS_NAMESPACE } from "../components/k8s/namespaces";
import { errorRatioOf } from "../components/observability/error-ratio";
import type { K8sObject } from "./validate";
import type { SummarySection } from "./summary";

/** The alert rules in the rendered PrometheusRule objects: what Prometheus will load. */
interface RenderedAlert {
  readonly alert: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** The alerting rules of every rendered PrometheusRule (recording rules, e.g. the cost rules' series, are not alerts). */
function renderedRules(objects: readonly K8sObject[]): RenderedAlert[] {
  return objects
    .filter((o) => o.kind === "PrometheusRule")
    .flatMap((o) => (o.spec as { groups?: { rules?: Partial<RenderedAlert>[] }[] } | undefined)?.groups ?? [])
    .flatMap((g) => g.rules ?? [])
    .filter((r): r is RenderedAlert => typeof r.alert === "string");
}

/** Alerts of the stack with their thresholds, and where they go: the plan's answer to "what pages us, when". */
export const observabilitySummary: SummarySection = ({ config, plan }) => {
  const obs = config.observability;
  if (!obs.enabled) return "## Observability\n\n_disabled (observability.enabled: false): no Prometheus, no alerts_";
  const groups = planAlertGroups(stackAlertRulesInput(config));
  const rendered = renderedRules(plan.objects);
  const errorSource = (m: ModelConfig | undefined) =>
    m
      ? errorRatioOf(m, {
          models: config.models,
          namespace: MODELS_NAMESPACE,
          ingress: config.ingress,
          gateway: config.gateway,
        })?.source
      : undefined;
  const rows: string[][] = [];
  for (const g of groups) {
    const rules = finalizeGroup(g, obs.runbookBaseUrl).rules;
    g.drafts.forEach((d, i) => {
      const labels = rules[i]!.labels;
      const kind = ALERT_CATALOGUE[d.alert].scope;
      const scope =
        labels.model ??
        (labels.node_group ? `node group ${labels.node_group}` : kind === "gpu" ? "every GPU" : `per ${kind}`);
      rows.push([`\`${d.alert}\``, labels.severity ?? "", scope, d.firesWhen, d.for]);
    });
  }
  // Alerts rendered outside the catalogue's groups (the cost rules' budget alerts, one per key with a budget).
  const listed = new Set(rows.map((r) => r[0]));
  for (const r of rendered)
    if (!listed.has(`\`${r.alert}\``))
      rows.push([
        `\`${r.alert}\``,
        r.labels?.severity ?? "",
        r.labels?.key ? `key ${r.labels.key}` : "per key",
        r.annotations?.summary ?? "",
        r.for ?? "",
      ]);
  const absent: string[] = [];
  for (const m of config.models) {
    const metrics = adapterFor(m.engine).metrics;
    if (!errorSource(m))
      absent.push(
        `\`ModelServiceHighErrorRate\` for \`${m.name}\`: ${m.engine} declares no failure counter, ${config.ingress.enabled ? "the ingress does not route it" : "the ingress is disabled"} and the stack has no gateway`,
      );
    if (!metrics.queueDepth)
      absent.push(`\`ModelServiceQueueBacklog\` for \`${m.name}\`: ${m.engine} exports no queue gauge`);
    if (m.replicas.min === m.replicas.max)
      absent.push(`\`ModelServiceAtMaxReplicas\` for \`${m.name}\`: replicas.min = replicas.max (no autoscaling)`);
    if (!metrics.latencyMean)
      absent.push(`\`ModelServiceHighMeanLatency\` for \`${m.name}\`: ${m.engine} declares no latency mean`);
  }
  const renderedKinds = new Set(rendered.map((r) => r.alert));
  const reserving = config.models.flatMap((m) => {
    const how = m.gpu ? adapterFor(m.engine).gpuMemoryReservation?.(m) : undefined;
    return how ? [`\`${m.name}\` (${m.engine}: ${how})`] : [];
  });
  const whyNot: Partial<Record<string, string>> = {
    ModelServiceLowTraffic: "off (observability.alerts.lowTraffic.enabled: false, the default)",
    ModelServiceCpuSaturated: "every model is GPU-served (it watches CPU-served models only)",
    GpuMemoryPressure: reserving.length
      ? `every GPU model's engine reserves its memory up front and manages it (its GPU is full by design): ${reserving.join(", ")}`
      : "no model uses a GPU",
    GpuHighUtilization: "no model uses a GPU",
    GpuXidErrors: "no model uses a GPU",
    GpuNodeGroupNoCapacity: "no model uses a GPU",
    ModelQualityLow: "the stack does not deploy the quality canary (or observability.canary.enabled: false)",
    CanaryCheckFailing: "the stack does not deploy the quality canary (or observability.canary.enabled: false)",
    CanaryStale: "the stack does not deploy the quality canary (or observability.canary.enabled: false)",
  };
  for (const alert of ALERT_NAMES)
    if (!renderedKinds.has(alert) && !absent.some((a) => a.startsWith(`\`${alert}\``)))
      absent.push(
        `\`${alert}\`: ${whyNot[alert] ?? (alert.startsWith("Gateway") ? "the stack has no API gateway" : "not applicable to this stack's models")}`,
      );
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
    `- ${rendered.length} alert rules of ${renderedKinds.size} kinds rendered (the catalogue has ${ALERT_NAMES.length}); runbooks: ${obs.runbookBaseUrl ?? "not linked: set observability.runbookBaseUrl to the absolute URL of docs/runbooks.md so every alert carries a runbook_url that opens from Alertmanager and chat"}`,
    "",
    table,
    ...(absent.length ? ["", "Not rendered:", ...absent.map((a) => `- ${a}`)] : []),
    "",
    "Receivers (warnings are inhibited while the same model's critical alert fires):",
    receivers,
  ].join("\n");
};
