import { ModelSpec, type ModelSpecInput } from "../config/model-spec";

export { ModelSpec };

/**
 * Languages: FlagOpen/FlagEmbedding README_zh.md model list (bge-*-zh-v1.5 "Chinese", bge-reranker-base "Chinese
 * and English", bge-reranker-v2-m3 "Multilingual"); the Qwen3 Embedding model cards ("support over 100
 * languages", embedding and reranker series); gte-base's card (English sentences); ms-marco-MiniLM is trained on
 * MS MARCO, an English passage-ranking set. Read 2026-12-07.
 */
const catalogueInput: Record<string, ModelSpecInput> = {
  // bge-large-zh-v1.5: hidden size 1024 (768 would be bge-base-zh-v1.5), CLS pooling, normalised.
  "BAAI/bge-large-zh-v1.5": {
    languages: ["zh"],
    task: "embed",
    dims: 1024,
    maxTokens: 512,
    parametersB: 0.326,
    pooling: "cls",
    architecture: "bert",
  },
  "BAAI/bge-base-zh-v1.5": {
    languages: ["zh"],
    task: "embed",
    dims: 768,
    maxTokens: 512,
    parametersB: 0.102,
    pooling: "cls",
    architecture: "bert",
    cpuFriendly: true,
  },
  "BAAI/bge-small-zh-v1.5": {
    languages: ["zh"],
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
    languages: ["en"],
    task: "embed",
    dims: 768,
    maxTokens: 512,
    parametersB: 0.109,
    pooling: "mean",
    architecture: "bert",
    cpuFriendly: true,
  },
  "Qwen/Qwen3-Embedding-0.6B": {
    languages: ["multilingual"],
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
    languages: ["multilingual"],
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
    languages: ["multilingual"],
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
    languages: ["multilingual"],
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
    languages: ["multilingual"],
    task: "rerank",
    maxTokens: 8192,
    parametersB: 0.568,
    pooling: "cls",
    architecture: "xlm-roberta",
    normalized: false,
  },
  "BAAI/bge-reranker-base": {
    languages: ["zh", "en"],
    task: "rerank",
    maxTokens: 512,
    parametersB: 0.278,
    pooling: "cls",
    architecture: "xlm-roberta",
    normalized: false,
    cpuFriendly: true,
  },
  "cross-encoder/ms-marco-MiniLM-L-6-v2": {
    languages: ["en"],
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
