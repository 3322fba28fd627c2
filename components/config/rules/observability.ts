import type { Rule, RuleProblem } from "./types";

export const observabilityRules: Rule = (config) => {
  const out: RuleProblem[] = [];
  const obs = config.observability;
  if (!obs) return out;
  const urls = config.secrets?.alertReceiverUrls ?? {};
  const seen = new Set<string>();
  obs.receivers.forEach((r, i) => {
    if (seen.has(r.name)) out.push({ path: ["observability", "receivers", i, "name"], value: r.name, message: `is used by another receiver. Fix: give every receiver a unique name.` });
    seen.add(r.name);
    if (config.secrets && urls[r.urlSecretKey] === undefined) out.push({ path: ["observability", "receivers", i, "urlSecretKey"], value: r.urlSecretKey, message: `has no URL in the secret alertReceiverUrls. Fix: pulumi config set --secret --path 'alertReceiverUrls.${r.urlSecretKey}' <webhook URL>.` });
    // Every alert we ship is critical or warning (components/observability/alert-catalogue.ts).
    if (!r.severities.some((s) => s !== "info")) out.push({ path: ["observability", "receivers", i, "severities"], value: r.severities, message: `no alert of this stack has severity info, so this receiver would never get a message. Fix: add "critical" and/or "warning".` });
    if (r.type === "slack" && !r.channel) out.push({ path: ["observability", "receivers", i, "channel"], value: undefined, message: `a Slack receiver needs a channel. Fix: set channel, e.g. "#ml-oncall".` });
  });
  if (config.environment && config.environment !== "local" && obs.enabled && obs.storageGiB === 0) out.push({ path: ["observability", "storageGiB"], value: 0, message: `0 keeps Prometheus data on an emptyDir that a restart wipes. Fix: set a volume size such as 50.` });
  return out;
};
