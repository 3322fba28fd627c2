import type {
  EmbedRequest,
  EndpointDialect,
  HttpDialect,
  ModelListDialect,
  RerankRequest,
  RerankResult,
} from "./types";
import { countAt, expectArray, expectRecord, fail, optional, parseOpenAIEmbeddings, parseResultsObject } from "./shape";

/**
 * The shapes several engines share: the OpenAI embeddings API and the Cohere/Jina rerank API. Engines reuse
 * these builders with their own prefix and add their quirks in their own file.
 */

/**
 * `POST <prefix>/embeddings` {model, input, encoding_format: "float", dimensions?} →
 * `{"object": "list", "data": [{"index", "object": "embedding", "embedding"}], "model", "usage"}`.
 * `encoding_format` is sent explicitly: the `openai` client otherwise asks for base64.
 */
export function openaiEmbeddings(prefix = "/v1"): EndpointDialect<EmbedRequest, number[][]> {
  return {
    path: () => `${prefix}/embeddings`,
    openaiBasePath: prefix,
    build: (r) => ({
      model: r.model,
      input: [...r.inputs],
      encoding_format: "float",
      ...optional("dimensions", r.dimensions),
    }),
    parse: (body) => parseOpenAIEmbeddings(body, `${prefix}/embeddings`),
    tokens: (body) => countAt(body, "usage", "prompt_tokens") ?? countAt(body, "usage", "total_tokens"),
  };
}

/**
 * Cohere/Jina-style rerank: `POST <path>` {model, query, documents, top_n?} →
 * `{"results": [{"index", "relevance_score", "document"?}]}` sorted by score. `document` may be `{text}`, a
 * string or null depending on the engine; it is not read.
 */
export function cohereRerank(
  path = "/v1/rerank",
  extra: Record<string, unknown> = {},
): EndpointDialect<RerankRequest, RerankResult[]> {
  return {
    path: () => path,
    build: (r) => ({
      model: r.model,
      query: r.query,
      documents: [...r.documents],
      ...optional("top_n", r.topN),
      ...extra,
    }),
    parse: (body) => parseResultsObject(body, path),
    // vLLM and Jina: usage.total_tokens; Cohere: meta.billed_units.input_tokens; Xinference: meta.tokens.input_tokens.
    tokens: (body) =>
      countAt(body, "usage", "total_tokens") ??
      countAt(body, "meta", "tokens", "input_tokens") ??
      countAt(body, "meta", "billed_units", "input_tokens"),
  };
}

/** `GET <prefix>/models` → `{"object": "list", "data": [{"id": "<served name>", ...}]}`. */
export function openaiModelList(prefix = "/v1"): ModelListDialect {
  return {
    path: () => `${prefix}/models`,
    parse: (body) => {
      const where = `${prefix}/models`;
      const data = expectArray(
        expectRecord(body, where, 'an object {"data": [{"id"}]}').data,
        `${where}.data`,
        "a list of {id}",
      );
      return data.map((m, i) => {
        const id = expectRecord(m, `${where}.data[${i}]`, "an object {id}").id;
        // A served name is a string: anything else is named, never printed as "undefined" or joined whole.
        if (typeof id !== "string" || id === "") fail(`${where}.data[${i}].id`, "the served model name (a string)", id);
        return id;
      });
    },
  };
}

/**
 * Any OpenAI-compatible server with a Cohere-compatible rerank (the `--engine openai` of the CLI, and the
 * project's own gateway): `/v1/embeddings`, `/v1/rerank`, `/v1/models`. Health is the model list: OpenAI has
 * no health endpoint, and a 200 there proves the server answers authenticated requests.
 */
export const openaiDialect: HttpDialect = {
  name: "openai",
  healthPath: () => "/v1/models",
  models: openaiModelList("/v1"),
  embed: openaiEmbeddings("/v1"),
  rerank: cohereRerank("/v1/rerank"),
  rerankHonoursTopN: true,
};
