import { problem } from "../../config/errors";
import { profileOf } from "../../config/environments";
import type { ObservabilityConfig } from "../../config/observability";
import type { PlatformConfig } from "../../config/schema";
import type { Rule, RuleProblem } from "./types";
import { secretSetCommand } from "../secret-commands";

/**
 * Share of GPU memory above a model's gpu.memoryFraction that the CUDA context and allocator take on top of the
 * engine's reservation (about 0.5-1 GiB): GpuMemoryPressure must sit above memoryFraction + this.
 */
export const GPU_MEMORY_HEADROOM = 0.02;
const round = (x: number) => Math.round(x * 1000) / 1000;

export const observabilityRules: Rule = (config) => {
  const obs = config.observability;
  if (!obs) return [];
  return [
    ...receiverProblems(config, obs),
    ...(obs.enabled && config.models ? gpuMemoryThresholdProblems(obs.alerts.gpuMemoryRatio.value, config.models) : []),
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

/**
 * vLLM and SGLang reserve gpu.memoryFraction of the GPU at start by design, so a GpuMemoryPressure threshold at or
 * below that share (plus the CUDA context) fires for as long as the model runs. The alert must mean "more than the
 * engines reserve": another process on the GPU or a leak.
 */
function gpuMemoryThresholdProblems(threshold: number, models: NonNullable<PlatformConfig["models"]>): RuleProblem[] {
  let worst: { index: number; name: string; fraction: number } | undefined;
  models.forEach((m, index) => {
    if (m.gpu && (!worst || m.gpu.memoryFraction > worst.fraction))
      worst = { index, name: m.name, fraction: m.gpu.memoryFraction };
  });
  if (!worst) return [];
  const floor = round(worst.fraction + GPU_MEMORY_HEADROOM);
  if (threshold > floor) return [];
  const raiseTo = Math.max(0.95, round(floor + 0.01));
  const lowerTo = round(threshold - GPU_MEMORY_HEADROOM - 0.01);
  const lower =
    lowerTo >= 0.1
      ? `, or lower the gpu.memoryFraction of models[${worst.index}] ` +
        `(and of every model above ${lowerTo}) to ${lowerTo}`
      : "";
  return [
    problem(
      ["observability", "alerts", "gpuMemoryRatio", "value"],
      threshold,
      `GpuMemoryPressure at ${threshold} of GPU memory is not above models[${worst.index}] ` +
        `(${worst.name})'s gpu.memoryFraction ${worst.fraction} + ${GPU_MEMORY_HEADROOM} (CUDA context) = ` +
        `${floor}: the engine reserves that share at start by design, ` +
        "so the alert would fire for as long as the model runs",
      `set observability.alerts.gpuMemoryRatio.value above ${floor}, e.g. ${raiseTo}${lower}`,
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
