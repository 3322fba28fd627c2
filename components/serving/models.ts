import { z } from "zod";
import { Task } from "../config/common";

/**
 * What a user should not have to know about a model: its task, vector size, context length, size and
 * quirks. Facts from the model cards on Hugging Face (read Nov 2026; see ../shared/ENGINES.md).
 * A model that is not listed here can still be served: give the same fields as `spec` in its config.
 */
export const ModelSpec = z.strictObject({
  task: Task,
  /** Output vector size (embed models only). */
  dims: z.number().int().positive().optional(),
  /** Matryoshka models accept a smaller `dimensions` request parameter. */
  matryoshka: z.boolean().default(false),
  /** Longest input the model was trained for, in tokens. */
  maxTokens: z.number().int().positive(),
  /** Parameter count in billions: drives GPU memory checks and the startup-probe budget. */
  parametersB: z.number().positive(),
  /** True when the model's own pooling ends in an L2 normalisation (cosine = dot product). */
  normalized: z.boolean().default(true),
  pooling: z.enum(["cls", "mean", "last", "none"]).default("cls"),
  architecture: z.enum(["bert", "xlm-roberta", "qwen3", "minilm"]),
  /** A decoder LLM used as a yes/no relevance scorer (Qwen3-Reranker): needs engine-specific overrides. */
  decoderReranker: z.boolean().default(false),
  /** KV-cache bytes per token for decoder models (2 x layers x KV heads x head dim x 2 bytes); 0 for encoders. */
  kvBytesPerToken: z.number().int().nonnegative().default(0),
  /** Small enough to serve on CPU in the local stack. */
  cpuFriendly: z.boolean().default(false),
});
export type ModelSpec = z.infer<typeof ModelSpec>;
export type ModelSpecInput = z.input<typeof ModelSpec>;

const catalogueInput: Record<string, ModelSpecInput> = {
  // bge-large-zh-v1.5: hidden size 1024 (seed 001's "768" is bge-base-zh-v1.5), CLS pooling, normalised.
  "BAAI/bge-large-zh-v1.5": {
    task: "embed",
    dims: 1024,
    maxTokens: 512,
    parametersB: 0.326,
    pooling: "cls",
    architecture: "bert",
  },
  "BAAI/bge-base-zh-v1.5": {
    task: "embed",
    dims: 768,
    maxTokens: 512,
    parametersB: 0.102,
    pooling: "cls",
    architecture: "bert",
    cpuFriendly: true,
  },
  "BAAI/bge-small-zh-v1.5": {
    task: "embed",
    dims: 512,
    maxTokens: 512,
    parametersB: 0.024,
    pooling: "cls",
    architecture: "bert",
    cpuFriendly: true,
  },
  // gte-base: mean pooling; the sentence-transformers config normalises.
  "thenlper/gte-base": {
    task: "embed",
    dims: 768,
    maxTokens: 512,
    parametersB: 0.109,
    pooling: "mean",
    architecture: "bert",
    cpuFriendly: true,
  },
  "Qwen/Qwen3-Embedding-0.6B": {
    task: "embed",
    dims: 1024,
    matryoshka: true,
    maxTokens: 32768,
    parametersB: 0.6,
    kvBytesPerToken: 114688,
    pooling: "last",
    architecture: "qwen3",
  },
  "Qwen/Qwen3-Embedding-4B": {
    task: "embed",
    dims: 2560,
    matryoshka: true,
    maxTokens: 32768,
    parametersB: 4.0,
    kvBytesPerToken: 147456,
    pooling: "last",
    architecture: "qwen3",
  },
  "Qwen/Qwen3-Embedding-8B": {
    task: "embed",
    dims: 4096,
    matryoshka: true,
    maxTokens: 32768,
    parametersB: 8.0,
    kvBytesPerToken: 147456,
    pooling: "last",
    architecture: "qwen3",
  },
  "Qwen/Qwen3-Reranker-4B": {
    task: "rerank",
    maxTokens: 32768,
    parametersB: 4.0,
    kvBytesPerToken: 147456,
    pooling: "last",
    architecture: "qwen3",
    decoderReranker: true,
    normalized: false,
  },
  "BAAI/bge-reranker-v2-m3": {
    task: "rerank",
    maxTokens: 8192,
    parametersB: 0.568,
    pooling: "cls",
    architecture: "xlm-roberta",
    normalized: false,
  },
  "BAAI/bge-reranker-base": {
    task: "rerank",
    maxTokens: 512,
    parametersB: 0.278,
    pooling: "cls",
    architecture: "xlm-roberta",
    normalized: false,
    cpuFriendly: true,
  },
  "cross-encoder/ms-marco-MiniLM-L-6-v2": {
    task: "rerank",
    maxTokens: 512,
    parametersB: 0.0227,
    pooling: "cls",
    architecture: "minilm",
    normalized: false,
    cpuFriendly: true,
  },
};

/** The catalogue, parsed once so that every entry carries its defaults. */
export const MODEL_CATALOGUE: Readonly<Record<string, ModelSpec>> = Object.fromEntries(
  Object.entries(catalogueInput).map(([id, spec]) => [id, ModelSpec.parse(spec)]),
);

export function lookupModel(id: string): ModelSpec | undefined {
  return MODEL_CATALOGUE[id];
}

/** Weights in GiB at 2 bytes per parameter (bf16/fp16). */
export function weightsGiB(spec: ModelSpec): number {
  return (spec.parametersB * 1e9 * 2) / 2 ** 30;
}
