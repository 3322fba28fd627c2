import { problem } from "../../config/errors";
import { profileOf } from "../../config/environments";
import type { ObservabilityConfig } from "../../config/observability";
import type { PlatformConfig } from "../../config/schema";
import type { Rule, RuleProblem } from "./types";
import { secretSetCommand } from "../secret-commands";

export const observabilityRules: Rule = (config) => {
  const obs = config.observability;
  if (!obs) return [];
  return [
    ...receiverProblems(config, obs),
    ...storageProblems(config, obs),
    ...canaryKeyProblems(config, obs),
    ...runbookProblems(config, obs),
    ...canaryTimingProblems(obs),
  ];
};

/**
 * The quality canary calls the models through the gateway with a key of its own (components/observability/
 * canary-key.ts). A gateway closed by gateway.keys or JWT alone leaves nothing to make that key from.
 */
function canaryKeyProblems(config: Partial<PlatformConfig>, obs: ObservabilityConfig): RuleProblem[] {
  const g = config.gateway;
  if (!obs.enabled || !obs.canary.enabled || !g?.enabled || !config.secrets) return [];
  if (config.secrets.canaryApiKey || config.secrets.apiKeys?.length) return [];
  if (Object.keys(g.keys).length === 0 && !g.jwt) return [];
  return [
    problem(
      ["observability", "canary", "enabled"],
      true,
      "the quality canary needs an API key the gateway knows, and this stack has neither apiKeys nor canaryApiKey (the gateway is closed by gateway.keys or gateway.jwt)",
      `${secretSetCommand("canaryApiKey")}, or set observability.canary.enabled to false`,
    ),
  ];
}

/** Where the profile requires it (prod), an alert without a runbook link would page someone with nowhere to go. */
function runbookProblems(config: Partial<PlatformConfig>, obs: ObservabilityConfig): RuleProblem[] {
  if (!config.environment || !profileOf(config.environment).runbookLinksRequired) return [];
  if (!obs.enabled || obs.runbookBaseUrl) return [];
  return [
    problem(
      ["observability", "runbookBaseUrl"],
      undefined,
      `is unset, so the ${config.environment} alerts would carry no runbook_url`,
      'set it to the absolute URL of docs/runbooks.md as your team browses it, e.g. "https://git.example.com/platform/retrieval-stack/blob/main/docs/runbooks.md"',
    ),
  ];
}

function receiverProblems(config: Partial<PlatformConfig>, obs: ObservabilityConfig): RuleProblem[] {
  const urls = config.secrets?.alertReceiverUrls ?? {};
  const seen = new Set<string>();
  return obs.receivers.flatMap((r, i) => {
    const at = (key: string) => ["observability", "receivers", i, key];
    const out: RuleProblem[] = [];
    if (seen.has(r.name))
      out.push(problem(at("name"), r.name, "is used by another receiver", "give every receiver a unique name"));
    seen.add(r.name);
    if (config.secrets && urls[r.urlSecretKey] === undefined)
      out.push(
        problem(
          at("urlSecretKey"),
          r.urlSecretKey,
          "has no URL in the secret alertReceiverUrls",
          `pulumi config set --secret --path 'alertReceiverUrls.${r.urlSecretKey}' <webhook URL>`,
        ),
      );
    // Every alert we ship is critical or warning (components/observability/alert-catalogue.ts).
    if (!r.severities.some((s) => s !== "info"))
      out.push(
        problem(
          at("severities"),
          r.severities,
          "no alert of this stack has severity info, so this receiver would never get a message",
          'add "critical" and/or "warning"',
        ),
      );
    if (r.type === "slack" && !r.channel)
      out.push(problem(at("channel"), undefined, "a Slack receiver needs a channel", 'set channel, e.g. "#ml-oncall"'));
    return out;
  });
}

function storageProblems(config: Partial<PlatformConfig>, obs: ObservabilityConfig): RuleProblem[] {
  if (!config.environment || config.environment === "local" || !obs.enabled || obs.storageGiB !== 0) return [];
  return [
    problem(
      ["observability", "storageGiB"],
      0,
      "0 keeps Prometheus data on an emptyDir that a restart wipes",
      "set a volume size such as 50",
    ),
  ];
}

/** A jitter of half the interval or more could start two runs at once or leave a gap of twice the interval. */
function canaryTimingProblems(obs: ObservabilityConfig): RuleProblem[] {
  const { intervalSeconds: interval, jitterSeconds: jitter } = obs.canary;
  if (jitter < interval / 2) return [];
  return [
    problem(
      ["observability", "canary", "jitterSeconds"],
      jitter,
      `is half of intervalSeconds (${interval}) or more, so runs could follow each other at once or leave gaps of twice the interval`,
      `set it below ${interval / 2}, e.g. ${Math.floor(interval / 10)}`,
    ),
  ];
}
