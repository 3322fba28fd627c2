import type { EmbedRequest, EndpointDialect, HttpDialect, RerankRequest, RerankResult } from "./types";
import { openaiEmbeddings } from "./openai";
import { optional, parseBareScoreList, parseVectorList } from "./shape";

/**
 * Hugging Face Text Embeddings Inference, native routes (TEI OpenAPI spec at /docs, v1.9, read 2026-11;
 * ../shared/ENGINES.md). TEI serves one model and ignores any model name.
 * - `POST /embed` {inputs: [str], normalize: true, dimensions?} → bare `[[floats], ...]`;
 * - `POST /rerank` {query, texts, raw_scores: false, return_text: false} → bare `[{"index", "score"}]`
 *   sorted by score; no `top_n` (the caller truncates);
 * - `GET /health`: 200, or 503 `{"error", "error_type": "Unhealthy"}`.
 */
const teiEmbed: EndpointDialect<EmbedRequest, number[][]> = {
  path: () => "/embed",
  build: (r) => ({ inputs: [...r.inputs], normalize: true, ...optional("dimensions", r.dimensions) }),
  parse: (body) => parseVectorList(body, "/embed"),
};

const teiRerank: EndpointDialect<RerankRequest, RerankResult[]> = {
  path: () => "/rerank",
  build: (r) => ({ query: r.query, texts: [...r.documents], raw_scores: false, return_text: false }),
  parse: (body) => parseBareScoreList(body, "/rerank"),
};

export const teiDialect: HttpDialect = {
  name: "tei",
  healthPath: () => "/health",
  embed: teiEmbed,
  rerank: teiRerank,
  rerankHonoursTopN: false,
};

/** TEI through its OpenAI-compatible `/v1/embeddings` (same server; rerank stays native). */
export const teiOpenAIDialect: HttpDialect = { ...teiDialect, name: "tei-openai", embed: openaiEmbeddings("/v1") };
