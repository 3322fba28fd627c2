import type { ModelConfig, ObservabilityConfig } from "../config";

/** CUDA context and allocator overhead on top of an engine's reserved share of GPU memory (about 0.5-1 GiB). */
const CUDA_OVERHEAD = 0.03;

/**
 * Thresholds that would make an alert fire all the time. vLLM and SGLang reserve `gpu.memoryFraction` of the GPU at
 * start-up, so GpuMemoryPressure at or below that share never clears. Returned as warnings (the plan and
 * `pulumi up` print them): the config is valid, but the team should know before the pager does.
 */
export function thresholdWarnings(obs: ObservabilityConfig, models: readonly ModelConfig[]): string[] {
  const limit = obs.alerts.gpuMemoryRatio.value;
  const hot = models.filter((m) => m.gpu && m.gpu.memoryFraction + CUDA_OVERHEAD >= limit);
  if (!obs.enabled || hot.length === 0) return [];
  const worst = Math.max(...hot.map((m) => m.gpu!.memoryFraction));
  const suggestion = Math.min(0.99, Math.round((worst + CUDA_OVERHEAD + 0.02) * 100) / 100);
  return [
    `GpuMemoryPressure fires at ${limit} of GPU memory, but ${hot.map((m) => `${m.name} (memoryFraction ${m.gpu!.memoryFraction})`).join(", ")} reserve about that much by design (vLLM/SGLang preallocate). Set observability.alerts.gpuMemoryRatio.value to ${suggestion}, or lower gpu.memoryFraction, or the alert stays on.`,
  ];
}
