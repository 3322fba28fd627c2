import type { ModelSpec } from "./models";
import { weightsGiB } from "./models";

/**
 * A rerank call scores every (query, document) pair as its own sequence, so the engine must hold several
 * full-length sequences at once to be useful. We size for this many concurrent sequences at maxModelLen.
 */
export const SIZING_CONCURRENT_SEQUENCES = 4;
/** Activations, CUDA graphs and allocator slack on top of the weights. */
export const SIZING_WEIGHT_OVERHEAD = 1.2;

export interface GpuMemoryEstimate {
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
