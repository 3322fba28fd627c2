import type { PlatformConfig } from "../components/config";
import { noMatchWarning } from "../components/quality/languages";
import { specOf } from "../components/serving/context";

/**
 * What a plan succeeds with but a reviewer must see: shown at the top of plan.md and on stderr. Config that cannot
 * deploy is an error (components/validation); these are choices that deploy but weaken production.
 */
export function planWarnings(config: PlatformConfig): string[] {
  const out: string[] = [];
  const obs = config.observability;
  if (config.environment === "prod" && obs.enabled && obs.receivers.length === 0)
    out.push(
      "prod stack without alert receivers: alerts fire in Alertmanager and Grafana but page nobody. Fix: add observability.receivers (e.g. { name: oncall, type: webhook, urlSecretKey: oncall, severities: [critical] }) and `pulumi config set --secret alertReceiverUrls ...`.",
    );
  if (config.environment === "prod" && !obs.enabled)
    out.push("prod stack with observability disabled: no metrics, no alerts, no autoscaling on load.");
  for (const m of config.models ?? []) {
    // A model the bundled labelled set cannot judge, unless it brings its own set.
    const warning = m.quality?.labelledSet ? undefined : noMatchWarning(m.name, specOf(m)?.languages);
    if (warning) out.push(warning);
  }
  const override = config.verification.promotion.override;
  if (override)
    out.push(
      `verification.promotion.override is set ("${override}"): rerank weight raises and embedding alias switches are deployed WITHOUT shadow or canary evidence. Remove it after the emergency (docs/model-changes.md).`,
    );
  return out;
}
