import { badRequest } from "./errors";

/**
 * The public request shapes. Embeddings: OpenAI's (`input` string or list of strings, `model`,
 * `encoding_format` float|base64, `dimensions`, `user`). Rerank: Cohere v2, Jina and vLLM send the same core
 * (`model`, `query`, `documents` as strings or `{text}`, `top_n`, `return_documents`); fields only one of them
 * knows (Cohere's `max_tokens_per_doc`, Jina's `truncation`) are accepted and not forwarded.
 */
interface EmbeddingsRequest {
  readonly model: string;
  readonly inputs: string[];
  readonly encoding: "float" | "base64";
  readonly dimensions?: number;
}

interface RerankCall {
  readonly model: string;
  readonly query: string;
  readonly documents: string[];
  readonly topN?: number;
  readonly returnDocuments: boolean;
}

type Json = Record<string, unknown>;

function object(body: unknown): Json {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest("The request body must be a JSON object.");
  return body as Json;
}

/**
 * What a model name may be: it is echoed in errors, audit lines and metric labels, so it is checked before any
 * of them sees it (a 10 MiB `model` is refused here, never repeated back).
 */
const MODEL_NAME = /^[A-Za-z0-9][\w.:/@+-]{0,127}$/;

function modelOf(b: Json): string {
  if (typeof b.model !== "string" || b.model === "")
    throw badRequest("'model' is required: a model name from GET /v1/models.", "model");
  if (!MODEL_NAME.test(b.model))
    throw badRequest(
      "'model' must be a model name from GET /v1/models (at most 128 letters, digits or . _ : / @ + -).",
      "model",
      "invalid_model_name",
    );
  return b.model;
}

export function parseEmbeddings(body: unknown): EmbeddingsRequest {
  const b = object(body);
  const model = modelOf(b);
  const input = b.input;
  let inputs: string[];
  if (typeof input === "string") inputs = [input];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "string"))
    inputs = input as string[];
  else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === "number" || Array.isArray(x)))
    throw badRequest("'input' as token ids is not supported: send the texts.", "input");
  else throw badRequest("'input' must be a non-empty string or list of strings.", "input");
  const format = b.encoding_format ?? "float";
  if (format !== "float" && format !== "base64")
    throw badRequest('\'encoding_format\' must be "float" or "base64".', "encoding_format");
  let dimensions: number | undefined;
  if (b.dimensions !== undefined && b.dimensions !== null) {
    if (typeof b.dimensions !== "number" || !Number.isInteger(b.dimensions) || b.dimensions < 1)
      throw badRequest("'dimensions' must be a positive integer.", "dimensions");
    dimensions = b.dimensions;
  }
  return { model, inputs, encoding: format, ...(dimensions ? { dimensions } : {}) };
}

/** `return_documents` defaults: Cohere v2 false; Jina and vLLM return them. */
export function parseRerank(body: unknown, defaultReturnDocuments: boolean): RerankCall {
  const b = object(body);
  const model = modelOf(b);
  if (typeof b.query !== "string" || b.query === "") throw badRequest("'query' must be a non-empty string.", "query");
  if (!Array.isArray(b.documents) || b.documents.length === 0)
    throw badRequest("'documents' must be a non-empty list of strings or {\"text\": ...} objects.", "documents");
  const documents = b.documents.map((d, i) => {
    if (typeof d === "string") return d;
    if (d && typeof d === "object" && typeof (d as Json).text === "string") return (d as Json).text as string;
    throw badRequest(`'documents[${i}]' must be a string or {"text": "..."}.`, "documents");
  });
  let topN: number | undefined;
  if (b.top_n !== undefined && b.top_n !== null) {
    if (typeof b.top_n !== "number" || !Number.isInteger(b.top_n) || b.top_n < 0)
      throw badRequest("'top_n' must be a non-negative integer.", "top_n");
    // vLLM reads 0 as "all".
    if (b.top_n > 0) topN = b.top_n;
  }
  const rd = b.return_documents;
  if (rd !== undefined && rd !== null && typeof rd !== "boolean")
    throw badRequest("'return_documents' must be true or false.", "return_documents");
  return { model, query: b.query, documents, ...(topN ? { topN } : {}), returnDocuments: rd ?? defaultReturnDocuments };
}

/** Little-endian float32, base64: what OpenAI's clients decode when they ask for encoding_format "base64". */
export function base64Float32(vector: readonly number[]): string {
  const buf = Buffer.allocUnsafe(vector.length * 4);
  for (let i = 0; i < vector.length; i++) buf.writeFloatLE(vector[i]!, i * 4);
  return buf.toString("base64");
}
