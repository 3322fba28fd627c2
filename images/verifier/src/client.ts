import type { EndpointDialect, HttpDialect, RerankResult } from "../../../components/serving/dialects/types";
import { DialectError } from "../../../components/serving/dialects/types";
import { HttpFailure, prepareRequest, requestJson, sendJson, type HttpOptions } from "./http";
import { officialClientEmbeddings } from "./openai-http";
import { Transport } from "./transport";

/** In the load, one answer in this many is parsed whole by the dialect (the others: status and a complete JSON body). */
const LOAD_PARSE_EVERY = 8;

interface Timed<T> {
  readonly value: T;
  readonly ms: number;
  readonly attempts: number;
}

/**
 * One model behind one dialect: the calls the checks make, all through one keep-alive pool (transport.ts) that
 * the derived clients (load, calibration) share. Every answer ends in the dialect's parser. Throws HttpFailure
 * (transport) or DialectError (shape). `close()` when done: it ends the pool's connections.
 */
export class EngineClient {
  /** The last embed/rerank body, as JSON came back (the load generator's calibration server replays it). */
  lastBody: unknown;
  private readonly http: HttpOptions & { transport: Transport };
  private readonly ownsTransport: boolean;

  constructor(
    readonly baseUrl: string,
    readonly dialect: HttpDialect,
    readonly servedModel: string,
    http: HttpOptions,
  ) {
    this.ownsTransport = http.transport === undefined;
    this.http = { ...http, transport: http.transport ?? new Transport() };
  }

  /** Same client (same pool) against another base URL (the load generator's calibration server). */
  withBaseUrl(baseUrl: string): EngineClient {
    return new EngineClient(baseUrl, this.dialect, this.servedModel, this.http);
  }

  /** Same client (same pool) with other HTTP options (the load test sends each request once: no retries). */
  withHttp(http: Partial<Omit<HttpOptions, "transport">>): EngineClient {
    return new EngineClient(this.baseUrl, this.dialect, this.servedModel, { ...this.http, ...http });
  }

  /** Ends the pool's connections (only the client that made the pool closes it). */
  async close(): Promise<void> {
    if (this.ownsTransport) await this.http.transport.close();
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

  /**
   * An endpoint's call built once (path, headers, JSON body), to send any number of times. `parse` false: the
   * answer is checked for a 2xx status and a complete JSON body only (the load's cheap path), value undefined.
   */
  private prepared<Req, Res>(
    endpoint: EndpointDialect<Req, Res>,
    request: Req,
  ): (parse: boolean) => Promise<Timed<Res | undefined>> {
    const prepared = prepareRequest(
      this.baseUrl,
      endpoint.path(this.servedModel),
      endpoint.build(request),
      this.http.apiKey,
    );
    return (parse) =>
      sendJson(prepared, this.http, parse).then((res) => {
        if (!parse) return { value: undefined, ms: res.ms, attempts: res.attempts };
        this.lastBody = res.body;
        return { value: endpoint.parse(res.body, request), ms: res.ms, attempts: res.attempts };
      });
  }

  private embedCall(inputs: readonly string[], dimensions?: number) {
    const endpoint = this.dialect.embed;
    if (!endpoint) throw new DialectError(`the ${this.dialect.name} dialect has no embedding endpoint`);
    return this.prepared(endpoint, { model: this.servedModel, inputs, dimensions });
  }

  private rerankCall(query: string, documents: readonly string[], topN?: number) {
    const endpoint = this.dialect.rerank;
    if (!endpoint) throw new DialectError(`the ${this.dialect.name} dialect has no rerank endpoint`);
    return this.prepared(endpoint, { model: this.servedModel, query, documents, topN });
  }

  async embed(inputs: readonly string[], dimensions?: number): Promise<Timed<number[][]>> {
    return (await this.embedCall(inputs, dimensions)(true)) as Timed<number[][]>;
  }

  async rerank(query: string, documents: readonly string[], topN?: number): Promise<Timed<RerankResult[]>> {
    return (await this.rerankCall(query, documents, topN)(true)) as Timed<RerankResult[]>;
  }

  /**
   * The load check's request, built once: one embedding of `text`, or one rerank of `query` over `documents`.
   * Every answer must be a 2xx with a complete JSON body; every LOAD_PARSE_EVERY-th one (the first included) is
   * also parsed whole by the dialect. Parsing a 1024-float answer costs ~140 us, more than the rest of a request:
   * parsing each one would measure the JSON parser instead of the engine (scripts/bench-verifier.ts).
   */
  loadCall(
    call: { embed: string; dimensions?: number } | { query: string; documents: readonly string[] },
  ): () => Promise<unknown> {
    const send =
      "embed" in call ? this.embedCall([call.embed], call.dimensions) : this.rerankCall(call.query, call.documents);
    let n = 0;
    return () => send(n++ % LOAD_PARSE_EVERY === 0);
  }

  /** A JSON POST of any body to a path under the base URL (the gateway's shape checks); the parsed answer. */
  async postJson(path: string, body: unknown): Promise<Timed<unknown>> {
    const res = await requestJson(this.baseUrl, path, body, this.http);
    return { value: res.body, ms: res.ms, attempts: res.attempts };
  }

  /**
   * The same texts through the official `openai` client with its defaults (base64 on the wire), for dialects
   * that speak the OpenAI embeddings API; undefined for the others.
   */
  async officialClientEmbed(inputs: readonly string[], dimensions?: number): Promise<number[][] | undefined> {
    const basePath = this.dialect.embed?.openaiBasePath;
    if (basePath === undefined) return undefined;
    return officialClientEmbeddings(
      this.baseUrl,
      basePath,
      { model: this.servedModel, input: [...inputs], ...(dimensions ? { dimensions } : {}) },
      this.http,
    );
  }
}

/** A thrown error as the "got" cell of a check. */
export function describeError(error: unknown): string {
  if (error instanceof HttpFailure)
    return error.attempts > 1 ? `${error.message} (after ${error.attempts} attempts)` : error.message;
  if (error instanceof DialectError) return `unexpected body: ${error.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
