import type { HttpDialect } from "./types";
import { cohereRerank, openaiEmbeddings, openaiModelList } from "./openai";

/**
 * vLLM's OpenAI-compatible server (vLLM docs "OpenAI-Compatible Server" and vllm/entrypoints/openai, read
 * 2026-11; docs/engines.md):
 * - `GET /health`: 200 with an empty body, 503 once the engine died;
 * - `POST /v1/embeddings`: OpenAI request/response; `dimensions` on a non-Matryoshka model is a 400;
 * - `POST /v1/rerank` (also `/rerank`, `/v2/rerank`) {model, query, documents, top_n (0 = all)} →
 *   `{"id", "model", "usage", "results": [{"index", "document": {"text"}, "relevance_score"}]}`, sorted.
 */
export const vllmDialect: HttpDialect = {
  name: "vllm",
  healthPath: () => "/health",
  models: openaiModelList("/v1"),
  embed: openaiEmbeddings("/v1"),
  rerank: cohereRerank("/v1/rerank"),
  rerankHonoursTopN: true,
};
