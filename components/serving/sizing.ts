import type { ModelSpec } from "./models";
import { weightsGiB } from "./models";

/**
 * A rerank call scores every (query, document) pair as its own sequence, so the engine must hold several
 * full-length sequences at once to be useful. We size for this many concurrent sequences at maxModelLen.
 */
const SIZING_CONCURRENT_SEQUENCES = 4;
/** Activations, CUDA graphs and allocator slack on top of the weights. */
const SIZING_WEIGHT_OVERHEAD = 1.2;

interface GpuMemoryEstimate {
  readonly weightsGiB: number;
  readonly kvCacheGiB: number;
  readonly totalGiB: number;
}

/** GPU memory a model needs at a context length, by the rule above (bf16 weights). */
export function estimateGpuMemory(spec: ModelSpec, maxModelLen: number): GpuMemoryEstimate {
  const w = weightsGiB(spec) * SIZING_WEIGHT_OVERHEAD;
  const kv = (spec.kvBytesPerToken * maxModelLen * SIZING_CONCURRENT_SEQUENCES) / 2 ** 30;
  return { weightsGiB: round(w), kvCacheGiB: round(kv), totalGiB: round(w + kv) };
}

const round = (x: number) => Math.round(x * 10) / 10;

/**
 * Startup budget: how long a pod may take from container start to "model answers" before the startupProbe
 * gives up. A killed loading pod restarts the download and the load from scratch (production-stack #688,
 * kserve #5062), so the budget is generous and grows with the weights:
 * - download at a pessimistic 25 MiB/s from the Hugging Face Hub (~40 s/GiB; skipped when the node cache has them),
 * - load into the GPU and warm up (~20 s/GiB), twice that on CPU,
 * - plus a base for the runtime and the engine's own overhead (compilation, CUDA graphs, launch step).
 * Clamped to [5 min, 60 min].
 */
const STARTUP_BASE_SECONDS = 120;
const DOWNLOAD_SECONDS_PER_GIB = 40;
const LOAD_SECONDS_PER_GIB = 20;
const STARTUP_MIN_SECONDS = 300;
export const STARTUP_MAX_SECONDS = 3600;

export function startupBudgetSeconds(spec: ModelSpec, engineOverheadSeconds: number, onGpu: boolean): number {
  const perGiB = DOWNLOAD_SECONDS_PER_GIB + LOAD_SECONDS_PER_GIB * (onGpu ? 1 : 2);
  const raw = STARTUP_BASE_SECONDS + engineOverheadSeconds + weightsGiB(spec) * perGiB;
  return Math.min(STARTUP_MAX_SECONDS, Math.max(STARTUP_MIN_SECONDS, Math.ceil(raw)));
}

interface PodResources {
  readonly cpu: string;
  readonly memoryGiB: number;
}

/**
 * CPU/memory requests when the model config gives none. GPU pods: the engine holds a host copy of the weights
 * while loading and its tokenizer/batching workers need a few cores; capped to what the node leaves after its
 * daemons (one vCPU and 3 GiB kept back), /dev/shm included. CPU pods: the weights twice (model + runtime copies)
 * and 1 GiB, plus /dev/shm.
 */
export function defaultResources(
  spec: ModelSpec,
  node?: { readonly vcpu: number; readonly memoryGiB: number },
  shmGiB = 0,
): PodResources {
  const w = weightsGiB(spec);
  if (!node) return { cpu: "2", memoryGiB: Math.max(1, Math.ceil(w * 2 + 1)) + shmGiB };
  const cpu = Math.max(1, Math.min(4, node.vcpu - 1));
  // /dev/shm (memory-backed) counts against the same limit, so it is inside the cap.
  const memoryGiB = Math.max(2, Math.min(Math.ceil(w + 4) + shmGiB, node.memoryGiB - 3));
  return { cpu: String(cpu), memoryGiB };
}
