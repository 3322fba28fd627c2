import type { Rule, RuleProblem } from "./types";

/**
 * Share of GPU memory above a model's gpu.memoryFraction that the CUDA context and allocator take on top of the
 * engine's reservation (about 0.5-1 GiB): GpuMemoryPressure must sit above memoryFraction + this.
 */
export const GPU_MEMORY_HEADROOM = 0.02;
const round = (x: number) => Math.round(x * 1000) / 1000;

export const observabilityRules: Rule = (config) => {
  const out: RuleProblem[] = [];
  const obs = config.observability;
  if (!obs) return out;
  const urls = config.secrets?.alertReceiverUrls ?? {};
  const seen = new Set<string>();
  obs.receivers.forEach((r, i) => {
    if (seen.has(r.name))
      out.push({
        path: ["observability", "receivers", i, "name"],
        value: r.name,
        message: `is used by another receiver. Fix: give every receiver a unique name.`,
      });
    seen.add(r.name);
    if (config.secrets && urls[r.urlSecretKey] === undefined)
      out.push({
        path: ["observability", "receivers", i, "urlSecretKey"],
        value: r.urlSecretKey,
        message: `has no URL in the secret alertReceiverUrls. Fix: pulumi config set --secret --path 'alertReceiverUrls.${r.urlSecretKey}' <webhook URL>.`,
      });
    // Every alert we ship is critical or warning (components/observability/alert-catalogue.ts).
    if (!r.severities.some((s) => s !== "info"))
      out.push({
        path: ["observability", "receivers", i, "severities"],
        value: r.severities,
        message: `no alert of this stack has severity info, so this receiver would never get a message. Fix: add "critical" and/or "warning".`,
      });
    if (r.type === "slack" && !r.channel)
      out.push({
        path: ["observability", "receivers", i, "channel"],
        value: undefined,
        message: `a Slack receiver needs a channel. Fix: set channel, e.g. "#ml-oncall".`,
      });
  });
  if (obs.enabled && config.models)
    out.push(...gpuMemoryThresholdProblems(obs.alerts.gpuMemoryRatio.value, config.models));
  if (config.environment && config.environment !== "local" && obs.enabled && obs.storageGiB === 0)
    out.push({
      path: ["observability", "storageGiB"],
      value: 0,
      message: `0 keeps Prometheus data on an emptyDir that a restart wipes. Fix: set a volume size such as 50.`,
    });
  return out;
};

/**
 * vLLM and SGLang reserve gpu.memoryFraction of the GPU at start by design, so a GpuMemoryPressure threshold at or
 * below that share (plus the CUDA context) fires for as long as the model runs. The alert must mean "more than the
 * engines reserve": another process on the GPU or a leak.
 */
function gpuMemoryThresholdProblems(
  threshold: number,
  models: NonNullable<Parameters<Rule>[0]["models"]>,
): RuleProblem[] {
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
      ? `, or lower the gpu.memoryFraction of models[${worst.index}] (and of every model above ${lowerTo}) to ${lowerTo}`
      : "";
  return [
    {
      path: ["observability", "alerts", "gpuMemoryRatio", "value"],
      value: threshold,
      message: `GpuMemoryPressure at ${threshold} of GPU memory is not above models[${worst.index}] (${worst.name})'s gpu.memoryFraction ${worst.fraction} + ${GPU_MEMORY_HEADROOM} (CUDA context) = ${floor}: the engine reserves that share at start by design, so the alert would fire for as long as the model runs. Fix: set observability.alerts.gpuMemoryRatio.value above ${floor}, e.g. ${raiseTo}${lower}.`,
    },
  ];
}
