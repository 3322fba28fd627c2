import type { EndpointDialect, HttpDialect, RerankRequest, RerankResult } from "./types";
import { openaiEmbeddings, openaiModelList } from "./openai";
import { optional, parseBareScoreList } from "./shape";

/**
 * SGLang `/v1/rerank` {model, query, documents, top_n?} answers a BARE LIST
 * `[{"score": 0.99, "document": "<text>", "index": 0}]` sorted by score: `score`, not `relevance_score`; the
 * document is a string; there is no `results` wrapper (sglang/srt/entrypoints/http_server.py and
 * serving_rerank.py, read 2026-11; docs/engines.md).
 */
const sglangRerank: EndpointDialect<RerankRequest, RerankResult[]> = {
  path: () => "/v1/rerank",
  build: (r) => ({ model: r.model, query: r.query, documents: [...r.documents], ...optional("top_n", r.topN) }),
  parse: (body) => parseBareScoreList(body, "/v1/rerank"),
};

/** SGLang: `GET /health` (503 while starting), OpenAI `/v1/embeddings` and `/v1/models`, bare-list rerank. */
export const sglangDialect: HttpDialect = {
  name: "sglang",
  healthPath: () => "/health",
  models: openaiModelList("/v1"),
  embed: openaiEmbeddings("/v1"),
  rerank: sglangRerank,
  rerankHonoursTopN: true,
};
