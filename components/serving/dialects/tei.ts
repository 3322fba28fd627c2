import type { EmbedRequest, EndpointDialect, HttpDialect, RerankRequest, RerankResult } from "./types";
import { openaiEmbeddings } from "./openai";
import { optional, parseBareScoreList, parseVectorList } from "./shape";

/**
 * Hugging Face Text Embeddings Inference (TEI OpenAPI spec at /docs and router/src/http/server.rs, v1.9, read
 * 2026-11; docs/engines.md). TEI serves one model and ignores any model name. It has two embedding routes:
 * - `POST /v1/embeddings`, the OpenAI API: {input, model (ignored), encoding_format, dimensions?} →
 *   `{"object": "list", "data": [{"object": "embedding", "embedding", "index"}], "model", "usage"}`, always
 *   L2-normalised. The `tei` dialect (the adapter's, hence the ingress route's) uses it, so every embed model
 *   answers the same OpenAI API at /models/<name>/v1/embeddings and the official `openai` client works on all.
 * - `POST /embed`, TEI's own: {inputs: [str], normalize: true, dimensions?} → bare `[[floats], ...]`; the
 *   `tei-native` dialect, for callers that want TEI's own body (`retrieval-stack verify --dialect tei-native`).
 * Rerank has no OpenAI form: `POST /rerank` {query, texts, raw_scores: false, return_text: false} → bare
 * `[{"index", "score"}]` sorted by score; no `top_n` (the caller truncates). `GET /health`: 200, or 503
 * `{"error", "error_type": "Unhealthy"}`.
 * Every route refuses more than `--max-client-batch-size` inputs (default 32) with a 413, and reports the tokens
 * it computed in the `x-compute-tokens` response header (router/src/http/server.rs, ResponseMetadata).
 */
const TEI_MAX_CLIENT_BATCH_SIZE = 32;

const computeTokens = (_body: unknown, header: (name: string) => string | undefined): number | undefined => {
  const n = Number(header("x-compute-tokens"));
  return Number.isInteger(n) && n >= 0 && header("x-compute-tokens") !== undefined ? n : undefined;
};
const teiNativeEmbed: EndpointDialect<EmbedRequest, number[][]> = {
  path: () => "/embed",
  build: (r) => ({ inputs: [...r.inputs], normalize: true, ...optional("dimensions", r.dimensions) }),
  parse: (body) => parseVectorList(body, "/embed"),
  maxBatch: TEI_MAX_CLIENT_BATCH_SIZE,
  tokens: computeTokens,
};

const teiRerank: EndpointDialect<RerankRequest, RerankResult[]> = {
  path: () => "/rerank",
  build: (r) => ({ query: r.query, texts: [...r.documents], raw_scores: false, return_text: false }),
  parse: (body) => parseBareScoreList(body, "/rerank"),
  maxBatch: TEI_MAX_CLIENT_BATCH_SIZE,
  tokens: computeTokens,
};

/** TEI as deployed: OpenAI embeddings at /v1/embeddings, native rerank at /rerank. */
export const teiDialect: HttpDialect = {
  name: "tei",
  healthPath: () => "/health",
  embed: { ...openaiEmbeddings("/v1"), maxBatch: TEI_MAX_CLIENT_BATCH_SIZE, tokens: computeTokens },
  rerank: teiRerank,
  rerankHonoursTopN: false,
};

/** TEI's native routes only: /embed with `inputs` and a bare list back (same server, same rerank). */
export const teiNativeDialect: HttpDialect = { ...teiDialect, name: "tei-native", embed: teiNativeEmbed };
