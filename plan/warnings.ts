import type { PlatformConfig } from "../components/config";
import { gpuCapacity } from "../components/cluster/capacity";
import { kubernetesSupportWarning } from "../components/cluster/kubernetes-support";

/**
 * What a plan succeeds with but a reviewer must see: shown at the top of plan.md and on stderr. Config that cannot
 * deploy is an error (components/validation); these are choices that deploy but weaken production.
 */
export function planWarnings(config: PlatformConfig, today: Date = new Date()): string[] {
  const out: string[] = [];
  if (config.cluster.mode === "eks") {
    const support = kubernetesSupportWarning(config.cluster.kubernetesVersion, today);
    if (support) out.push(support);
  }
  out.push(...gpuCapacityWarnings(config));
  const obs = config.observability;
  if (config.environment === "prod" && obs.enabled && obs.receivers.length === 0)
    out.push(
      "prod stack without alert receivers: alerts fire in Alertmanager and Grafana but page nobody. Fix: add observability.receivers (e.g. { name: oncall, type: webhook, urlSecretKey: oncall, severities: [critical] }) and `pulumi config set --secret alertReceiverUrls ...`.",
    );
  if (config.environment === "prod" && !obs.enabled)
    out.push("prod stack with observability disabled: no metrics, no alerts, no autoscaling on load.");
  return out;
}

/** GPU node groups too small for their models' maximum replicas: the last replicas would stay Pending. */
export function gpuCapacityWarnings(config: PlatformConfig): string[] {
  return gpuCapacity(config.gpuNodeGroups, config.models)
    .filter((g) => g.requestedGpus.max > g.schedulableGpus.max)
    .map(
      (g) =>
        `GPU node group ${g.nodeGroup}: at maximum replicas its models (${g.models.join(", ")}) request ${g.requestedGpus.max} nvidia.com/gpu but the group gives at most ${g.schedulableGpus.max}; the last replicas stay Pending. Fix: raise gpuNodeGroups.${g.nodeGroup}.maxSize or lower the models' replicas.max.`,
    );
}
