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
  /** Throws DialectError with a message that says what was expected and what came back. */
  parse(body: unknown, request: Req): Res;
}

export interface HttpDialect {
  /** Engine health endpoint (200 = serving). */
  healthPath(model: string): string;
  embed?: EndpointDialect<EmbedRequest, number[][]>;
  rerank?: EndpointDialect<RerankRequest, RerankResult[]>;
  /** Whether the rerank endpoint honours topN itself (else the client truncates). */
  readonly rerankHonoursTopN?: boolean;
}

export class DialectError extends Error {
  override readonly name = "DialectError";
}
