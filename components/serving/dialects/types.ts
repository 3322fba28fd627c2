/**
 * The HTTP dialect of one engine: where its embedding, rerank and health endpoints are, and how to turn a
 * neutral request into its JSON and its JSON back into vectors or scores. Pure: no I/O. The verifier, the
 * ingress routes and the alert/dashboards read these declarations; no caller branches on the engine name.
 */
export interface EmbedRequest {
  readonly model: string;
  readonly inputs: readonly string[];
  /** Matryoshka output size; only sent when set. */
  readonly dimensions?: number;
}

export interface RerankRequest {
  readonly model: string;
  readonly query: string;
  readonly documents: readonly string[];
  /** Keep only the best N results; undefined means all. */
  readonly topN?: number;
}

export interface RerankResult {
  /** Index into the request's documents. */
  readonly index: number;
  readonly score: number;
}

export interface EndpointDialect<Req, Res> {
  /** Path under the engine's base URL, e.g. "/v1/embeddings". May depend on the served model name. */
  path(model: string): string;
  build(request: Req): unknown;
  /**
   * Turns the parsed JSON body into the neutral result, in the server's order. Checks the shape and the types
   * (numbers are numbers, indices are integers), not the meaning (dimension, ranges, ordering: the caller's
   * business). Throws DialectError with a message that says what was expected and what came back.
   */
  parse(body: unknown, request: Req): Res;
  /**
   * The endpoint speaks the OpenAI embeddings API (`POST <prefix>/embeddings`, OpenAI request and response),
   * so the official `openai` client can call it with baseURL = base URL + this prefix (e.g. "/v1").
   */
  readonly openaiBasePath?: string;
  /**
   * Most inputs (embed) or documents (rerank) the engine takes in one call; a caller with more splits the call
   * and merges the answers (TEI refuses more than its --max-client-batch-size, 32 by default, with a 413).
   */
  readonly maxBatch?: number;
  /**
   * Input tokens the engine reports for this call, from its body or a response header (`header(name)`, lower
   * case); undefined when the engine reports none. The gateway counts usage from it.
   */
  tokens?(body: unknown, header: (name: string) => string | undefined): number | undefined;
}

/** Where the engine lists the model names it serves (answers "is my model loaded under this name?"). */
export interface ModelListDialect {
  path(model: string): string;
  /** The served model names/ids in the body; throws DialectError on an unexpected shape. */
  parse(body: unknown): string[];
}

export interface HttpDialect {
  /** Dialect name for reports, e.g. "vllm", "kserve-v2". */
  readonly name: string;
  /** Engine health endpoint (200 = serving). */
  healthPath(model: string): string;
  /**
   * Extra meaning of a 200 health body (KServe `{ready: true}`, Xinference: the model is in the list).
   * Throws DialectError when the engine answers 200 but is not ready for `model`. Absent: status alone decides.
   */
  parseHealth?(body: unknown, model: string): void;
  /** Served-model listing, when the engine has one. */
  models?: ModelListDialect;
  embed?: EndpointDialect<EmbedRequest, number[][]>;
  rerank?: EndpointDialect<RerankRequest, RerankResult[]>;
  /** Whether the rerank endpoint honours topN itself (else the client truncates). */
  readonly rerankHonoursTopN?: boolean;
}

export class DialectError extends Error {
  override readonly name = "DialectError";
}
