import type { HttpDialect, RerankResult } from "../serving/dialects/types";
import { DialectError } from "../serving/dialects/types";
import { HttpFailure, requestJson, type HttpOptions } from "./http";
import { openaiEmbeddingsCall } from "./openai-http";

export interface Timed<T> {
  readonly value: T;
  readonly ms: number;
  readonly attempts: number;
}

/**
 * One model behind one dialect: the calls the checks make. OpenAI-shaped embedding endpoints go through the
 * official `openai` client; everything else through fetch. Both end in the dialect's parser, so a wrong body
 * reads the same whatever the transport. Throws HttpFailure (transport) or DialectError (shape).
 */
export class EngineClient {
  /** The last embed/rerank body, as JSON came back (the load generator's calibration server replays it). */
  lastBody: unknown;

  constructor(
    readonly baseUrl: string,
    readonly dialect: HttpDialect,
    readonly servedModel: string,
    private readonly http: HttpOptions,
  ) {}

  /** Same client against another base URL (the load generator's calibration server). */
  withBaseUrl(baseUrl: string): EngineClient {
    return new EngineClient(baseUrl, this.dialect, this.servedModel, this.http);
  }

  /** Same client with other HTTP options (the load test sends each request once: no retries). */
  withHttp(http: Partial<HttpOptions>): EngineClient {
    return new EngineClient(this.baseUrl, this.dialect, this.servedModel, { ...this.http, ...http });
  }

  async health(): Promise<Timed<string>> {
    const path = this.dialect.healthPath(this.servedModel);
    const res = await requestJson(this.baseUrl, path, undefined, this.http);
    this.dialect.parseHealth?.(res.body, this.servedModel);
    return { value: `HTTP ${res.status} from GET ${path}`, ms: res.ms, attempts: res.attempts };
  }

  /** Served model names, or undefined when the dialect has no listing. */
  async servedModels(): Promise<Timed<string[]> | undefined> {
    const models = this.dialect.models;
    if (!models) return undefined;
    const res = await requestJson(this.baseUrl, models.path(this.servedModel), undefined, this.http);
    return { value: models.parse(res.body), ms: res.ms, attempts: res.attempts };
  }

  async embed(inputs: readonly string[], dimensions?: number): Promise<Timed<number[][]>> {
    const endpoint = this.dialect.embed;
    if (!endpoint) throw new DialectError(`the ${this.dialect.name} dialect has no embedding endpoint`);
    const request = { model: this.servedModel, inputs, dimensions };
    const body = endpoint.build(request);
    const res =
      endpoint.openaiBasePath !== undefined
        ? await openaiEmbeddingsCall(this.baseUrl, endpoint.openaiBasePath, body as Record<string, unknown>, this.http)
        : await requestJson(this.baseUrl, endpoint.path(this.servedModel), body, this.http);
    this.lastBody = res.body;
    return { value: endpoint.parse(res.body, request), ms: res.ms, attempts: res.attempts };
  }

  async rerank(query: string, documents: readonly string[], topN?: number): Promise<Timed<RerankResult[]>> {
    const endpoint = this.dialect.rerank;
    if (!endpoint) throw new DialectError(`the ${this.dialect.name} dialect has no rerank endpoint`);
    const request = { model: this.servedModel, query, documents, topN };
    const res = await requestJson(this.baseUrl, endpoint.path(this.servedModel), endpoint.build(request), this.http);
    this.lastBody = res.body;
    return { value: endpoint.parse(res.body, request), ms: res.ms, attempts: res.attempts };
  }
}

/** A thrown error as the "got" cell of a check. */
export function describeError(error: unknown): string {
  if (error instanceof HttpFailure)
    return error.attempts > 1 ? `${error.message} (after ${error.attempts} attempts)` : error.message;
  if (error instanceof DialectError) return `unexpected body: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
