import { type PlatformConfig, verificationModeOf } from "../components/config";
import { noMatchWarning } from "../components/quality/languages";
import { specOf } from "../components/serving/context";
import { gpuCapacity } from "../components/cluster/capacity";
import { kubernetesSupportWarning } from "../components/cluster/kubernetes-support";
import { aliasSwitchOf } from "../components/validation/alias-switch";

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
  const env = config.environment;
  const guarded = env === "prod" || env === "staging";
  if (guarded && obs.enabled && obs.receivers.length === 0)
    out.push(
      `${env} stack without alert receivers: alerts fire in Alertmanager and Grafana but page nobody. Fix: add observability.receivers (e.g. { name: oncall, type: webhook, urlSecretKey: oncall, severities: [critical] }) and \`pulumi config set --secret alertReceiverUrls ...\`.`,
    );
  if (config.environment === "prod" && !obs.enabled)
    out.push("prod stack with observability disabled: no metrics, no alerts, no autoscaling on load.");
  if (env === "prod" && verificationModeOf(config.verification, env) === "off")
    out.push(
      "prod stack with verification.mode off: `pulumi up` succeeds without checking that any model answers, within its SLO. Fix: remove verification.mode (auto runs the in-cluster Job) or set it to job.",
    );
  if (env === "prod" && !config.ingress.enabled)
    out.push(
      "prod stack with ingress.enabled false: no NGINX ingress, no TLS, no per-key rate limits in front of the models; only in-cluster callers reach them. Fix: remove ingress.enabled (default true), unless another ingress you run fronts the gateway.",
    );
  config.models.forEach((m, i) => {
    if (guarded && m.extraArgs.some((a) => a.split("=")[0] === "--trust-remote-code"))
      out.push(
        `${env} stack runs models[${i}] (${m.name}) with --trust-remote-code: the engine executes Python code from the model repository at start, at the revision ${m.revision ? `"${m.revision}"` : "the repository's default branch has then (no revision pinned)"}. Fix: remove it if the model does not need it; otherwise pin models[${i}].revision to a commit you have reviewed.`,
      );
  });
  for (const m of config.models ?? []) {
    // A model the bundled labelled set cannot judge, unless it brings its own set.
    const warning = m.quality?.labelledSet ? undefined : noMatchWarning(m.name, specOf(m)?.languages);
    if (warning) out.push(warning);
  }
  out.push(...aliasSwitchWarnings(config));
  const override = config.verification.promotion.override;
  if (override)
    out.push(
      `verification.promotion.override is set ("${override}"): rerank weight raises and embedding alias switches are deployed WITHOUT shadow or canary evidence. Remove it after the emergency (docs/model-changes.md).`,
    );
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

/**
 * Embedding aliases switched to a model that loads the same weights as the one the indexes were built with (only
 * engine, engine version or dtype differ): accepted by config, gated at verification on the fingerprints matching.
 */
export function aliasSwitchWarnings(config: PlatformConfig): string[] {
  if (!config.gateway.enabled) return [];
  return Object.entries(config.gateway.aliases).flatMap(([name, alias]) => {
    const s = aliasSwitchOf(config, alias);
    if (s?.kind !== "gated") return [];
    return [
      `gateway.aliases.${name} switches from ${s.from} (indexedWith) to ${s.to} without a re-index: both load ${s.weights} (${s.differences}). The switch is gated on ${s.to}'s fingerprint matching ${s.from}'s recorded one at verification: \`pulumi up\` fails, naming the worst probe, when any probe is outside verification.fingerprint's tolerance (minCosine, maxNormChange) or there is no record of ${s.from}. Once it passed, set indexedWith: ${s.to} before removing ${s.from} (docs/model-changes.md).`,
    ];
  });
}
