import type { HttpDialect, ModelListDialect } from "./types";
import { cohereRerank, openaiEmbeddings } from "./openai";
import { DialectError } from "./types";
import { describe, expectRecord, fail, isRecord } from "./shape";

/**
 * Xinference's served models: `GET /v1/models` → `{"object": "list", "data": [{"id": "<model uid>", ...}]}`
 * (older releases: an object keyed by model uid). Both are read.
 */
const xinferenceModels: ModelListDialect = {
  path: () => "/v1/models",
  parse: (body) => {
    const root = expectRecord(body, "/v1/models", 'an object {"data": [{"id"}]} or {"<uid>": {...}}');
    if (Array.isArray(root.data))
      return root.data.map((m, i) => {
        const id = isRecord(m) ? (m.id ?? m.model_uid) : m;
        if (typeof id !== "string" || id === "")
          fail(`/v1/models.data[${i}]`, 'a model {"id"} or its uid (a string)', m);
        return id;
      });
    return Object.keys(root);
  },
};

/**
 * Xinference (xinference/api/restful_api.py, read 2026-11; docs/engines.md). The HTTP server is up
 * before the model is launched, so health means "my model uid is in /v1/models", not just a 200.
 * - `POST /v1/embeddings` {model: <uid>, input}: OpenAI shape plus `model_replica`;
 * - `POST /v1/rerank` {model, query, documents, top_n, return_documents} →
 *   `{"id", "results": [{"index", "relevance_score", "document": {"text"} | "<text>" | null}], "meta"}`;
 *   `document` is null unless `return_documents` is true ({text} from the sentence-transformers and vLLM backends,
 *   a bare string from llama.cpp). `meta.billed_units` is always null; `meta.tokens` is null unless the request
 *   says `return_len: true`, then {input_tokens, output_tokens: the same count}, which is where the gateway reads
 *   the usage.
 */
export const xinferenceDialect: HttpDialect = {
  name: "xinference",
  healthPath: () => "/v1/models",
  parseHealth: (body, model) => {
    const served = xinferenceModels.parse(body);
    if (!served.includes(model)) {
      throw new DialectError(
        `/v1/models: expected the model uid "${model}" to be launched, got ${served.length ? `[${served.join(", ")}]` : describe(body)}`,
      );
    }
  },
  models: xinferenceModels,
  embed: openaiEmbeddings("/v1"),
  // return_len confirmed 2026-12-02 at xorbitsai/inference tag v3.2.1 (5bd49b2, the pinned image): RerankRequest in
  // xinference/api/schemas/requests.py has `return_len: Optional[bool] = False`, which api/restful_api.py rerank()
  // passes on to the model; model/rerank/{sentence_transformers,vllm,llama_cpp}/core.py then set
  // meta.tokens = RerankTokens(input_tokens=n, output_tokens=n) (xinference/types.py), else tokens=None.
  rerank: cohereRerank("/v1/rerank", { return_documents: false, return_len: true }),
  rerankHonoursTopN: true,
};
