import { MODELS_NAMESPACE } from "../components/k8s/namespaces";
import { LOKI_CHART } from "../components/observability/logs/loki";
import { ALLOY_CHART } from "../components/observability/logs/alloy";
import { logRetentionHours, logsEnabled } from "../components/observability/logs/log-stack";
import { QUALITY_CANARY_NAME } from "../components/observability/quality-canary";
import type { SummarySection } from "./summary";

/** The quality canary and the log stack: what runs, how often, what it keeps and for how long. */
export const canaryAndLogsSummary: SummarySection = ({ config, plan }) => {
  const obs = config.observability;
  if (!obs.enabled) return undefined;
  const c = obs.canary;
  const canary = plan.objects.find(
    (o) => o.kind === "Deployment" && (o.metadata as { name?: string } | undefined)?.name === QUALITY_CANARY_NAME,
  );
  const deployed = canary !== undefined;
  const namespace = (canary?.metadata as { namespace?: string } | undefined)?.namespace ?? MODELS_NAMESPACE;
  const lines = ["## Quality canary and logs", ""];
  if (!c.enabled) lines.push("- Quality canary: _off (observability.canary.enabled: false)_");
  else {
    lines.push(
      `- Quality canary: ${deployed ? `**deployed** (Deployment \`${QUALITY_CANARY_NAME}\` in \`${namespace}\`)` : "_configured but not deployed by this program (construct a QualityCanary after the models: components/observability/quality-canary.ts)_"}; every ${c.intervalSeconds} s ± ${c.jitterSeconds} s: health, embed/rerank sanity, MRR@10 and NDCG@10 on the bundled set${c.userSet ? ` and the user set (ConfigMap \`${c.userSet.configMap}\`, key \`${c.userSet.key}\`)` : ""}; gateway key name \`${c.keyName}\``,
      "",
      "| model | ModelQualityLow below MRR@10 | for | outside active hours |",
      "| --- | --- | --- | --- |",
      ...config.models.map((m) => {
        const hours = m.autoscaling.activeHours;
        const when =
          m.replicas.min > 0
            ? "always checked"
            : hours
              ? `skipped (no call) outside ${hours.start} to ${hours.end} (${hours.timezone})`
              : "skipped (scale-to-zero without activeHours)";
        return `| \`${m.name}\` | ${c.models[m.name]?.minMrrAt10 ?? c.minMrrAt10} | ${c.qualityLowFor} | ${when} |`;
      }),
    );
  }
  lines.push("");
  if (!logsEnabled(obs, config.environment))
    lines.push("- Logs: _off (observability.logs.enabled; default on in cloud stacks)_");
  else {
    const hours = logRetentionHours(obs);
    const installed = plan.helmReleases.some((r) => r.chart === LOKI_CHART.chart);
    lines.push(
      `- Logs: Loki ${LOKI_CHART.version} (single binary) and Grafana Alloy ${ALLOY_CHART.version} on every node${installed ? "" : " — _enabled in config but not installed by this program (pass `logs` to Observability)_"}; retention ${hours} h (${Math.ceil(hours / 24)} days)`,
      `- Log storage: ${config.cluster.mode !== "eks" ? `filesystem on Loki's ${obs.logs.storageGiB} GiB volume (S3 with IRSA needs the EKS cluster this stack creates)` : `S3 bucket of the stack (aws:kms, public access blocked, TLS only; lifecycle expires objects after ${Math.ceil(hours / 24)} days), IRSA role only \`monitoring:loki\` can assume`}`,
      '- Grafana: Loki data source, dashboards "Model logs" (linked from every model dashboard) and "Gateway audit" (by key, model, status)',
    );
  }
  return lines.join("\n");
};
