import * as http from "node:http";
import { randomFillSync, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { RuntimeConfig, RuntimeModel } from "../../../components/gateway/runtime-config";
import type { GatewayLimits } from "../../../components/config/gateway";
import { base64Float32, parseEmbeddings, parseRerank } from "./api";
import { isoNow, stdoutAudit, type AuditSink } from "./audit";
import { Authenticator, type Caller } from "./auth";
import { Breaker, BREAKER_GAUGE } from "./breaker";
import { RerankCache } from "./cache";
import { dialectOf, embed, rerank, type Scored } from "./engine";
import { asGatewayError, badRequest, GatewayError, unavailable } from "./errors";
import { BoundedLabel } from "./labels";
import { MemoryLimiter, RedisDownError, RedisLimiter, type Limiter } from "./limits";
import { GatewayMetrics } from "./metrics";
import { playgroundFile } from "./playground";
import { UpstreamGroup } from "./upstream";

/**
 * The retrieval gateway: one HTTP server for every model of a stack (docs/gateway.md). Routes:
 * POST /v1/embeddings, POST /v1/rerank | /rerank | /v2/rerank, GET /v1/models, GET /metrics, GET /healthz,
 * GET /readyz, GET /playground (when enabled and built).
 */
export interface GatewayOptions {
  readonly config: RuntimeConfig;
  readonly audit?: AuditSink;
  /** Where the playground's static files are (only read when config.playground is on). */
  readonly playgroundDir?: string;
  /** How long shutdown waits for in-flight requests. */
  readonly drainTimeoutMs?: number;
  /** Errors that are not the caller's (a bug, an unreachable Redis): one line each on stderr. */
  readonly log?: (message: string) => void;
}

const RERANK_ROUTES: Readonly<Record<string, boolean>> = {
  "/v1/rerank": true, // Jina and vLLM return the documents unless told not to
  "/rerank": true,
  "/v2/rerank": false, // Cohere v2 returns them only when asked
};

interface Route {
  readonly model: RuntimeModel;
  readonly group: UpstreamGroup;
  readonly breaker: Breaker;
  readonly cache?: RerankCache;
}

/** One request's state; the fields after `bytesIn` are filled along the way and end up in the audit line. */
interface Ctx {
  readonly id: string;
  readonly traceparent: string;
  readonly started: number;
  readonly route: string;
  caller: Caller | undefined;
  model: string;
  servedBy: string | undefined;
  bytesIn: number;
  upstream: string | undefined;
  attempts: number | undefined;
  cache: "hit" | "miss" | undefined;
  inputs: number | undefined;
  documents: number | undefined;
  inputTokens: number | undefined;
  error: string | undefined;
}

/**
 * A new W3C trace context (version 00, sampled): trace id and span id from a pool of random bytes refilled every
 * 256 requests (one randomFillSync instead of two UUIDs and a regex per request).
 */
const TRACE_BYTES = 24;
const traceEntropy = Buffer.allocUnsafe(TRACE_BYTES * 256);
let traceAt = traceEntropy.length;
function newTraceparent(): string {
  if (traceAt + TRACE_BYTES > traceEntropy.length) {
    randomFillSync(traceEntropy);
    traceAt = 0;
  }
  const at = traceAt;
  traceAt += TRACE_BYTES;
  return `00-${traceEntropy.toString("hex", at, at + 16)}-${traceEntropy.toString("hex", at + 16, at + TRACE_BYTES)}-01`;
}
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const REQUEST_ID = /^[\w.:\-]{1,128}$/;

export class Gateway {
  readonly metrics = new GatewayMetrics();
  private readonly routes = new Map<string, Route>();
  private readonly auth: Authenticator;
  private readonly limiter: Limiter;
  private readonly server: http.Server;
  private readonly audit: AuditSink;
  private readonly modelLabel: BoundedLabel;
  private readonly keyLabel: BoundedLabel;
  private readonly log: (m: string) => void;
  private readonly keyLimits = new WeakMap<Caller, GatewayLimits>();
  private inFlight = 0;
  private draining = false;
  private drained?: () => void;

  constructor(private readonly options: GatewayOptions) {
    const c = options.config;
    this.audit = options.audit ?? stdoutAudit;
    this.log = options.log ?? ((m) => process.stderr.write(`${m}\n`));
    for (const model of c.models) {
      dialectOf(model); // unknown dialect: fail at start, not on the first request
      const breaker = new Breaker(c.breaker.failures, c.breaker.cooldownMs, (s) =>
        this.metrics.breakerState.set({ model: model.name }, BREAKER_GAUGE[s]),
      );
      this.metrics.breakerState.set({ model: model.name }, 0);
      this.routes.set(model.name, {
        model,
        group: new UpstreamGroup(model.name, model.upstreams, c.upstreamTimeoutMs, c.attempts),
        breaker,
        ...(model.cache ? { cache: new RerankCache(model.cache.maxEntries, model.cache.ttlSeconds) } : {}),
      });
    }
    const names = new Set([...c.models.map((m) => m.name), ...Object.keys(c.aliases)]);
    this.modelLabel = new BoundedLabel(names, 0, "unknown");
    this.keyLabel = new BoundedLabel(
      new Set([...c.keys.map((k) => k.name), "anonymous", "unauthenticated"]),
      200,
      "other",
    );
    this.auth = new Authenticator(c);
    this.metrics.redisUp.set({}, c.redis.url ? 0 : 1);
    this.limiter = c.redis.url
      ? new RedisLimiter(c.redis.url, { onRedis: (up) => this.metrics.redisUp.set({}, up ? 1 : 0) })
      : new MemoryLimiter();
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  listen(port: number, host = "127.0.0.1"): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject).listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stop taking requests, wait for the in-flight ones (up to drainTimeoutMs), then close pools and Redis. */
  async shutdown(): Promise<void> {
    this.draining = true;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0)
      await Promise.race([
        new Promise<void>((r) => (this.drained = r)),
        new Promise<void>((r) => setTimeout(r, this.options.drainTimeoutMs ?? 30_000).unref()),
      ]);
    this.server.closeAllConnections();
    await closed;
    await Promise.all([...this.routes.values()].map((r) => r.group.close()));
    await this.limiter.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rid = req.headers["x-request-id"];
    const tp = req.headers.traceparent;
    const url = req.url ?? "/";
    const query = url.indexOf("?");
    const ctx: Ctx = {
      id: typeof rid === "string" && REQUEST_ID.test(rid) ? rid : randomUUID(),
      traceparent: typeof tp === "string" && TRACEPARENT.test(tp) ? tp : newTraceparent(),
      started: performance.now(),
      route: query < 0 ? url : url.slice(0, query),
      caller: undefined,
      model: "",
      servedBy: undefined,
      bytesIn: 0,
      upstream: undefined,
      attempts: undefined,
      cache: undefined,
      inputs: undefined,
      documents: undefined,
      inputTokens: undefined,
      error: undefined,
    };
    res.setHeader("x-request-id", ctx.id);
    res.setHeader("traceparent", ctx.traceparent);
    if (this.draining) res.setHeader("connection", "close");
    const method = req.method ?? "GET";
    const path = ctx.route;

    if (method === "GET") return this.handleGet(path, req, res);
    const defaultDocs = RERANK_ROUTES[path];
    if (method !== "POST" || (path !== "/v1/embeddings" && defaultDocs === undefined)) {
      req.resume();
      return this.plainError(
        res,
        new GatewayError(
          404,
          "not_found_error",
          "not_found",
          `No route ${method} ${path}. The API: POST /v1/embeddings, POST /v1/rerank, GET /v1/models.`,
        ),
      );
    }
    this.inFlight++;
    this.metrics.inFlight.set({}, this.inFlight);
    try {
      const body = await this.readBody(req, ctx);
      const payload =
        path === "/v1/embeddings"
          ? await this.embeddings(body, req, ctx)
          : await this.rerank(body, req, ctx, defaultDocs!);
      this.send(res, 200, payload, ctx);
    } catch (e) {
      const err = asGatewayError(e);
      if (!(e instanceof GatewayError))
        this.log(`request ${ctx.id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      if (err.status === 413 && !req.complete) res.setHeader("connection", "close");
      ctx.error = err.code;
      this.send(res, err.status, err.body(), ctx, err.headers);
      if (err.status === 413 && !req.complete) req.resume();
    } finally {
      this.inFlight--;
      this.metrics.inFlight.set({}, this.inFlight);
      if (this.draining && this.inFlight === 0) this.drained?.();
    }
  }

  private handleGet(path: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    if (path === "/healthz") return void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    if (path === "/readyz")
      return void res
        .writeHead(this.draining ? 503 : 200, { "content-type": "text/plain" })
        .end(this.draining ? "draining\n" : "ready\n");
    if (path === "/metrics")
      return void res
        .writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" })
        .end(this.metrics.text());
    if (path === "/v1/models") {
      void this.auth.authenticate(req.headers).then(
        () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(this.modelList())),
        (e: unknown) => this.plainError(res, asGatewayError(e)),
      );
      return;
    }
    if (this.options.config.playground && (path === "/playground" || path.startsWith("/playground/"))) {
      const f = playgroundFile(this.options.playgroundDir, path);
      if (f) return void res.writeHead(200, { "content-type": f.type, "cache-control": "no-cache" }).end(f.body);
    }
    this.plainError(res, new GatewayError(404, "not_found_error", "not_found", `No route GET ${path}.`));
  }

  private modelList() {
    const created = 0;
    const entry = (id: string, m: RuntimeModel, aliasOf?: string) => ({
      id,
      object: "model",
      created,
      owned_by: m.ownedBy,
      task: m.task,
      ...(m.dims ? { dims: m.dims } : {}),
      max_tokens: m.maxTokens,
      ...(aliasOf ? { alias_of: aliasOf } : {}),
    });
    const data = this.options.config.models.map((m) => entry(m.name, m));
    for (const [alias, a] of Object.entries(this.options.config.aliases)) {
      const first = this.routes.get(a.targets[0]!.model)?.model;
      if (first)
        data.push(
          entry(
            alias,
            first,
            a.targets
              .filter((t) => t.weight > 0)
              .map((t) => t.model)
              .join(","),
          ),
        );
    }
    return { object: "list", data };
  }

  private readBody(req: http.IncomingMessage, ctx: Ctx): Promise<unknown> {
    const max = this.options.config.maxBodyBytes;
    const tooLarge = () =>
      new GatewayError(
        413,
        "invalid_request_error",
        "request_too_large",
        `The request body is larger than ${max} bytes.`,
      );
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > max) return Promise.reject(tooLarge());
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let failed = false;
      req.on("data", (c: Buffer) => {
        if (failed) return;
        size += c.length;
        if (size > max) {
          failed = true;
          reject(tooLarge());
          return;
        }
        chunks.push(c);
      });
      req.on("error", (e) => reject(e));
      req.on("end", () => {
        if (failed) return;
        ctx.bytesIn = size;
        try {
          resolve(JSON.parse(Buffer.concat(chunks, size).toString("utf8")));
        } catch {
          reject(badRequest("The request body is not valid JSON.", null, "invalid_json"));
        }
      });
    });
  }

  /** Auth, model resolution (aliases), limits and breaker: what every task call passes before the engine. */
  private async admit(
    req: http.IncomingMessage,
    ctx: Ctx,
    name: string,
    task: "embed" | "rerank",
    count: number,
  ): Promise<Route> {
    ctx.model = name;
    ctx.caller = this.auth.verifiedCaller(req.headers) ?? (await this.auth.authenticate(req.headers));
    const route = this.resolve(name);
    ctx.servedBy = route.model.name;
    if (route.model.task !== task)
      throw badRequest(
        `${name} is a${route.model.task === "embed" ? "n embedding" : " rerank"} model; call ${route.model.task === "embed" ? "POST /v1/embeddings" : "POST /v1/rerank"} with it.`,
        "model",
        "wrong_task",
      );
    const c = this.options.config;
    const max = task === "embed" ? c.maxInputs : c.maxDocuments;
    if (count > max)
      throw badRequest(
        `${count} ${task === "embed" ? "inputs" : "documents"} in one request; ${name} takes at most ${max}. Split the request.`,
        task === "embed" ? "input" : "documents",
        task === "embed" ? "too_many_inputs" : "too_many_documents",
      );
    const limits = ctx.caller.limits ? this.limitsOf(ctx.caller) : c.limits;
    let admission;
    try {
      admission = await this.limiter.admit(ctx.caller.name, limits, count);
    } catch (e) {
      if (!(e instanceof RedisDownError)) throw e;
      if (c.redis.onDown === "fail-closed")
        throw unavailable(
          "Limits cannot be checked right now (the limit store is down); try again shortly.",
          "limits_unavailable",
          { "retry-after": "1" },
        );
      this.metrics.failOpen.inc();
      admission = { ok: true as const };
    }
    if (!admission.ok) {
      this.metrics.quotaRejections.inc({
        key: this.keyLabel.of(ctx.caller.name),
        model: this.modelLabel.of(name),
        quota: admission.quota,
      });
      const what = { rate: "request rate", tokens: "daily input-token quota", documents: "daily document quota" }[
        admission.quota
      ];
      throw new GatewayError(
        429,
        "rate_limit_error",
        `${admission.quota}_limit_exceeded`,
        `Over the ${what} of key ${ctx.caller.name}. Retry after ${admission.retryAfterSeconds} s.`,
        null,
        {
          "retry-after": String(admission.retryAfterSeconds),
        },
      );
    }
    if (!route.breaker.allow())
      throw unavailable(
        `${route.model.name} is failing; calls are paused for a moment (circuit open).`,
        "circuit_open",
        {
          "retry-after": String(route.breaker.retryAfterSeconds()),
        },
      );
    return route;
  }

  /** A named key's limits over the defaults, merged once per key. */
  private limitsOf(caller: Caller): GatewayLimits {
    let l = this.keyLimits.get(caller);
    if (!l) this.keyLimits.set(caller, (l = { ...this.options.config.limits, ...caller.limits }));
    return l;
  }

  private resolve(name: string): Route {
    const direct = this.routes.get(name);
    if (direct) return direct;
    const alias = this.options.config.aliases[name];
    if (alias) {
      const live = alias.targets.filter((t) => t.weight > 0);
      let pick = Math.random() * live.reduce((s, t) => s + t.weight, 0);
      for (const t of live) {
        pick -= t.weight;
        if (pick < 0) return this.routes.get(t.model)!;
      }
      return this.routes.get(live[live.length - 1]!.model)!;
    }
    const known = [...this.routes.keys(), ...Object.keys(this.options.config.aliases)];
    throw new GatewayError(
      404,
      "not_found_error",
      "model_not_found",
      `The model '${name}' does not exist. Models: ${known.join(", ")}.`,
      "model",
    );
  }

  /** Runs the engine call under the breaker: engine failures count, caller errors (4xx) do not. */
  private guarded<T>(route: Route, call: Promise<T>): Promise<T> {
    return call.then(
      (out) => {
        route.breaker.success();
        return out;
      },
      (e: unknown) => {
        if (e instanceof GatewayError && e.status >= 500) route.breaker.failure();
        else route.breaker.release();
        throw e;
      },
    );
  }

  private engineCall(route: Route, ctx: Ctx) {
    return {
      headers: { "x-request-id": ctx.id, traceparent: ctx.traceparent },
      observe: (upstream: string, seconds: number) =>
        this.metrics.upstreamDuration.observe({ model: route.model.name, upstream }, seconds),
    };
  }

  private async embeddings(body: unknown, req: http.IncomingMessage, ctx: Ctx) {
    const r = parseEmbeddings(body);
    const route = await this.admit(req, ctx, r.model, "embed", r.inputs.length);
    const m = route.model;
    if (r.dimensions !== undefined && r.dimensions !== m.dims) {
      if (!m.matryoshka)
        throw badRequest(
          `${m.name} has a fixed size of ${m.dims ?? "?"} dims; 'dimensions' is only for Matryoshka models.`,
          "dimensions",
        );
      if (m.dims && r.dimensions > m.dims)
        throw badRequest(`'dimensions' may be at most ${m.dims} for ${m.name}.`, "dimensions");
    }
    const out = await this.guarded(route, embed(route.group, m, r.inputs, r.dimensions, this.engineCall(route, ctx)));
    const tokens = out.tokens ?? 0;
    this.count(ctx, m.name, tokens, { inputs: r.inputs.length });
    ctx.upstream = out.upstream;
    ctx.attempts = out.attempts;
    ctx.inputs = r.inputs.length;
    ctx.inputTokens = tokens;
    return {
      object: "list",
      data: out.value.map((v, index) => ({
        object: "embedding",
        index,
        embedding: r.encoding === "base64" ? base64Float32(v) : v,
      })),
      model: m.name,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  }

  private async rerank(body: unknown, req: http.IncomingMessage, ctx: Ctx, defaultDocs: boolean) {
    const r = parseRerank(body, defaultDocs);
    const route = await this.admit(req, ctx, r.model, "rerank", r.documents.length);
    const m = route.model;
    let ranking: Scored[] | undefined;
    let tokens = 0;
    const key = route.cache ? RerankCache.key(m.name, r.query, r.documents) : undefined;
    if (route.cache && key) {
      ranking = route.cache.get(key);
      this.metrics.cache.inc({ model: m.name, result: ranking ? "hit" : "miss" });
      ctx.cache = ranking ? "hit" : "miss";
      if (ranking) route.breaker.release();
    }
    if (!ranking) {
      const out = await this.guarded(route, rerank(route.group, m, r.query, r.documents, this.engineCall(route, ctx)));
      ranking = out.value;
      tokens = out.tokens ?? 0;
      if (route.cache && key) route.cache.set(key, ranking);
      ctx.upstream = out.upstream;
      ctx.attempts = out.attempts;
    }
    this.count(ctx, m.name, tokens, { documents: r.documents.length });
    ctx.documents = r.documents.length;
    ctx.inputTokens = tokens;
    const top = r.topN ? ranking.slice(0, r.topN) : ranking;
    return {
      id: ctx.id,
      model: m.name,
      results: top.map((x) => ({
        index: x.index,
        relevance_score: x.score,
        ...(r.returnDocuments ? { document: { text: r.documents[x.index]! } } : {}),
      })),
      usage: { total_tokens: tokens },
      meta: { tokens: { input_tokens: tokens, output_tokens: 0 } },
    };
  }

  private count(ctx: Ctx, model: string, tokens: number, n: { inputs?: number; documents?: number }): void {
    const key = this.keyLabel.of(ctx.caller!.name);
    const labels = { key, model: this.modelLabel.of(model) };
    if (tokens > 0) {
      this.metrics.inputTokens.inc(labels, tokens);
      void this.limiter.chargeTokens(ctx.caller!.name, tokens);
    }
    if (n.inputs) this.metrics.inputs.inc(labels, n.inputs);
    if (n.documents) this.metrics.documents.inc(labels, n.documents);
  }

  private send(
    res: http.ServerResponse,
    status: number,
    payload: unknown,
    ctx: Ctx,
    headers: Readonly<Record<string, string>> = {},
  ): void {
    const text = JSON.stringify(payload);
    const bytesOut = Buffer.byteLength(text);
    res.writeHead(status, { "content-type": "application/json", "content-length": bytesOut, ...headers }).end(text);
    const seconds = (performance.now() - ctx.started) / 1000;
    const model = ctx.model ? this.modelLabel.of(ctx.model) : "unknown";
    const key = ctx.caller ? this.keyLabel.of(ctx.caller.name) : "unauthenticated";
    this.metrics.requests.inc({ key, model, route: ctx.route, status: String(status) });
    this.metrics.duration.observe({ model, route: ctx.route }, seconds);
    // One object shape for every line (absent fields are undefined, which JSON leaves out).
    this.audit({
      time: isoNow(),
      request_id: ctx.id,
      traceparent: ctx.traceparent,
      key: ctx.caller?.name ?? "unauthenticated",
      model: ctx.model,
      served_by: ctx.servedBy !== ctx.model ? ctx.servedBy : undefined,
      route: ctx.route,
      status,
      latency_ms: Math.round(seconds * 100000) / 100,
      bytes_in: ctx.bytesIn,
      bytes_out: bytesOut,
      upstream: ctx.upstream,
      attempts: ctx.attempts,
      cache: ctx.cache,
      inputs: ctx.inputs,
      documents: ctx.documents,
      input_tokens: ctx.inputTokens,
      error: ctx.error,
    });
  }

  private plainError(res: http.ServerResponse, err: GatewayError): void {
    res.writeHead(err.status, { "content-type": "application/json", ...err.headers }).end(JSON.stringify(err.body()));
  }
}
