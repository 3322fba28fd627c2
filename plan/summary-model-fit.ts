import { contextLengthOf } from "../components/serving/engines/common";
import { modelContext } from "../components/serving/model-service";
import { estimateGpuMemory } from "../components/serving/sizing";
import { perNode, stackCost, usd } from "./cost";
import type { SummarySection } from "./summary";

/** Below this share of its GPU a model leaves most of it idle: time-slicing would let others share it. */
export const SMALL_ON_GPU_RATIO = 0.25;

const bar = (ratio: number, width = 10) => {
  const filled = Math.min(width, Math.round(Math.min(ratio, 1) * width));
  return `\`${"█".repeat(filled)}${"░".repeat(width - filled)}\``;
};
const pct = (x: number) => `${Math.round(x * 100)}%`;

/**
 * plan.md "GPU fit and cost per model": the memory a model needs on its GPU (bf16 weights with overhead + KV cache
 * at its served context, the rule of components/serving/sizing.ts) against what its GPUs give at memoryFraction,
 * and its share of the GPU bill (its replicas' GPUs x the node price per schedulable GPU).
 */
export const modelFitSummary: SummarySection = ({ config }) => {
  const gpuModels = config.models.filter((m) => m.gpu);
  if (gpuModels.length === 0) return undefined;
  const cost = stackCost(config);
  const rows: string[][] = [];
  const hints: string[] = [];
  for (const model of gpuModels) {
    const gpu = model.gpu!;
    const group = config.gpuNodeGroups[gpu.nodeGroup];
    const capacity = cost.groups.find((g) => g.nodeGroup === gpu.nodeGroup);
    const ctx = modelContext({ model, environment: config.environment, gpuNodeGroup: group });
    if (!ctx.gpu || !capacity) continue;
    const tokens = contextLengthOf(ctx);
    const need = estimateGpuMemory(ctx.spec, tokens);
    const physical = Math.min(gpu.count, ctx.gpu.instance.gpus);
    const have = ctx.gpu.instance.gpuMemoryGiB * physical * gpu.memoryFraction;
    const ratio = need.totalGiB / have;
    // A time-sliced GPU is shared: one nvidia.com/gpu costs the node price over its schedulable GPUs.
    const perGpu = perNode(capacity);
    const usdPerGpu = perGpu.schedulable ? perGpu.usdPerMonth / perGpu.schedulable : 0;
    const at = (replicas: number) => replicas * gpu.count * usdPerGpu;
    rows.push([
      `\`${model.name}\``,
      `${gpu.count} x ${ctx.gpu.instance.gpuModel} ${ctx.gpu.instance.gpuMemoryGiB} GiB (\`${gpu.nodeGroup}\`)`,
      `${need.weightsGiB} + ${need.kvCacheGiB} KV @ ${tokens} tokens = ${need.totalGiB} GiB`,
      `${Math.round(have * 10) / 10} GiB (x ${gpu.memoryFraction})`,
      `${bar(ratio)} ${pct(ratio)}${ratio > 1 ? " **does not fit**" : ""}`,
      `${usd(at(model.replicas.min))}–${usd(at(model.replicas.max))}`,
      cost.gpuUsdPerMonth.min ? pct(at(model.replicas.min) / cost.gpuUsdPerMonth.min) : "– (scales to zero)",
    ]);
    if (ratio < SMALL_ON_GPU_RATIO && !group?.sharing.timeSlicingReplicas)
      hints.push(
        `- \`${model.name}\` needs ${pct(ratio)} of the ${ctx.gpu.instance.gpuModel}'s ${ctx.gpu.instance.gpuMemoryGiB} GiB it takes whole; time-slicing (\`gpuNodeGroups.${gpu.nodeGroup}.sharing.timeSlicingReplicas\`) would let up to ${Math.min(48, Math.max(2, Math.floor(1 / Math.max(ratio, 0.01))))} such replicas share one GPU.`,
      );
  }
  return [
    "## GPU fit and cost per model",
    "",
    "| model | GPUs per replica | needs (weights + KV cache) | GPU gives | fit | USD/month (min–max replicas) | share of GPU minimum |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) => `| ${r.join(" | ")} |`),
    "",
    "Needs: bf16 weights x 1.2 (activations, CUDA graphs) + KV cache for 4 sequences at the served context (components/serving/sizing.ts). Gives: GPU memory x memoryFraction. Cost: replicas x GPUs x the node price per schedulable GPU.",
    ...(hints.length ? ["", ...hints] : []),
  ].join("\n");
};
