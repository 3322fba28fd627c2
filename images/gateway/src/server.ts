import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { RuntimeConfig } from "../../../components/gateway/runtime-config";
import { Admission } from "./admission";
import { stdoutAudit, type AuditSink } from "./audit";
import { Authenticator } from "./auth";
import { readJsonBody } from "./body";
import { newContext, type RequestContext } from "./context";
import { asGatewayError, GatewayError } from "./errors";
import type { ApiDeps, ApiHandler } from "./handlers/api";
import { embeddingsHandler } from "./handlers/embeddings";
import { modelList } from "./handlers/models";
import { RERANK_ROUTES, rerankHandler } from "./handlers/rerank";
import { BoundedLabel } from "./labels";
import { MemoryLimiter, RedisLimiter, type Limiter } from "./limits";
import { FallbackLimiter } from "./store-fallback";
import { KeyFileWatcher } from "./key-reload";
import { inClusterApi, SliceWatcher, type KubeApi } from "./discovery";
import { GatewayMetrics } from "./metrics";
import { ModelRoutes } from "./model-routes";
import { playgroundFile } from "./playground";
import { plainError, Responder } from "./respond";

/**
 * The retrieval gateway: one HTTP server for every model of a stack (docs/gateway.md). This file is the
 * lifecycle (start, drain) and the route table; each request then passes the stages in their own modules:
 * context.ts (ids), body.ts (reading), admission.ts (key, model, limits, breaker), handlers/ (one per API),
 * respond.ts (answer, metrics, audit line). Routes: POST /v1/embeddings, POST /v1/rerank | /rerank |
 * /v2/rerank, GET /v1/models, GET /metrics, GET /healthz, GET /readyz, GET /playground (when enabled and built).
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
  /**
   * The mounted key Secret's file (GATEWAY_KEYS_FILE): its keys join config.keys and are re-read every
   * keysPollMs (default 5 s) while the gateway runs (key-reload.ts).
   */
  readonly keysFile?: string;
  readonly keysPollMs?: number;
  /**
   * Where the models' EndpointSlices are read (per-pod routing, discovery.ts). Default: the in-cluster API when
   * running in a pod with a service account token; false: no discovery (every model through its upstreams).
   */
  readonly kubeApi?: KubeApi | false;
}

export class Gateway {
  readonly metrics = new GatewayMetrics();
  private readonly routes: ModelRoutes;
  private readonly auth: Authenticator;
  private readonly limiter: Limiter;
  private readonly server: http.Server;
  private readonly responder: Responder;
  private readonly log: (m: string) => void;
  /** POST routes of the API. */
  private readonly api = new Map<string, ApiHandler>();
  private readonly keyWatcher?: KeyFileWatcher;
  private readonly sliceWatchers: SliceWatcher[] = [];
  private inFlight = 0;
  private draining = false;
  private drained?: () => void;

  constructor(private readonly options: GatewayOptions) {
    const c = options.config;
    this.log = options.log ?? ((m) => process.stderr.write(`${m}\n`));
    this.routes = new ModelRoutes(c, this.metrics);
    const modelLabel = new BoundedLabel(new Set(this.routes.names()), 0, "unknown");
    const keyLabel = new BoundedLabel(
      new Set([...c.keys.map((k) => k.name), "anonymous", "unauthenticated"]),
      200,
      "other",
    );
    this.keyWatcher = options.keysFile
      ? new KeyFileWatcher(
          options.keysFile,
          {
            onKeys: (keys) => {
              this.auth.replaceKeys([...c.keys, ...keys]);
              this.keysLoaded(c.keys.length + keys.length);
              this.log(`keys reloaded: ${c.keys.length + keys.length} in force`);
            },
            onRejected: (reason) => {
              this.metrics.keysReloadFailures.inc();
              this.log(`key file update refused, the last good keys stay in force: ${reason}`);
            },
          },
          options.keysPollMs,
        )
      : undefined;
    const fileKeys = this.keyWatcher?.start() ?? [];
    this.auth = new Authenticator({ ...c, keys: [...c.keys, ...fileKeys] });
    this.keysLoaded(c.keys.length + fileKeys.length);
    this.metrics.redisUp.set({}, c.redis.url ? 0 : 1);
    this.limiter = c.redis.url ? this.storeLimiter(c.redis.url, c.redis) : new MemoryLimiter();
    this.responder = new Responder(this.metrics, options.audit ?? stdoutAudit, modelLabel, keyLabel);
    const deps: ApiDeps = {
      admission: new Admission(c, this.auth, this.routes, this.limiter, this.metrics, modelLabel, keyLabel),
      metrics: this.metrics,
    };
    this.api.set("/v1/embeddings", embeddingsHandler(deps));
    for (const [path, defaultDocs] of Object.entries(RERANK_ROUTES))
      this.api.set(path, rerankHandler(deps, defaultDocs));
    this.startDiscovery(options.kubeApi === undefined ? inClusterApi() : options.kubeApi || undefined);
    this.server = http.createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 65_000;
  }

  /** One EndpointSlice watch per model that names its Service: its ready pods become its endpoints. */
  private startDiscovery(api: KubeApi | undefined): void {
    for (const route of this.routes.all()) {
      const d = route.model.discovery;
      if (!d || !api) continue;
      this.metrics.readyPods.set({ model: route.model.name }, -1);
      const w = new SliceWatcher(
        api,
        { model: route.model.name, ...d },
        (urls) => {
          route.group.endpoints.update(urls);
          route.group.admission?.drain();
          this.metrics.readyPods.set({ model: route.model.name }, urls?.length ?? -1);
        },
        this.log,
      );
      w.start();
      this.sliceWatchers.push(w);
    }
  }

  private keysLoaded(count: number): void {
    this.metrics.keysLoaded.set({ what: "count" }, count);
    this.metrics.keysLoaded.set({ what: "timestamp" }, Math.floor(Date.now() / 1000));
  }

  /**
   * Limits in the shared store; with onDown fail-open (the default) wrapped so that a store outage falls back to
   * per-replica limits in memory (store-fallback.ts) instead of admitting everything or refusing everything.
   */
  private storeLimiter(url: string, r: RuntimeConfig["redis"]): Limiter {
    const store = new RedisLimiter(url, { onRedis: (up) => this.metrics.redisUp.set({}, up ? 1 : 0) });
    if (r.onDown === "fail-closed") return store;
    this.metrics.limitStoreFallback.set({}, 0);
    return new FallbackLimiter(store, r.replicas, {
      onFallback: (active) => {
        this.metrics.limitStoreFallback.set({}, active ? 1 : 0);
        this.log(
          active
            ? `limit store unreachable: limiting in this replica's memory at 1/${r.replicas} of each key's limits until it is back`
            : "limit store reachable again: limits shared again",
        );
      },
      onFallbackAdmit: () => this.metrics.failOpen.inc(),
    });
  }

  listen(port: number, host = "127.0.0.1"): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject).listen(port, host, () => resolve((this.server.address() as AddressInfo).port));
    });
  }

  /** Stop taking requests, wait for the in-flight ones (up to drainTimeoutMs), then close pools and Redis. */
  async shutdown(): Promise<void> {
    this.draining = true;
    this.keyWatcher?.stop();
    await Promise.all(this.sliceWatchers.map((w) => w.stop()));
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0)
      await Promise.race([
        new Promise<void>((r) => (this.drained = r)),
        new Promise<void>((r) => setTimeout(r, this.options.drainTimeoutMs ?? 30_000).unref()),
      ]);
    this.server.closeAllConnections();
    await closed;
    await this.routes.close();
    await this.limiter.close();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const ctx = newContext(req);
    res.setHeader("x-request-id", ctx.id);
    res.setHeader("traceparent", ctx.traceparent);
    if (this.draining) res.setHeader("connection", "close");
    const method = req.method ?? "GET";
    if (method === "GET") return this.handleGet(ctx.route, req, res);
    const handler = method === "POST" ? this.api.get(ctx.route) : undefined;
    if (!handler) {
      req.resume();
      return plainError(
        res,
        new GatewayError(
          404,
          "not_found_error",
          "not_found",
          `No route ${method} ${ctx.route}. The API: POST /v1/embeddings, POST /v1/rerank, GET /v1/models.`,
        ),
      );
    }
    this.inFlight++;
    this.metrics.inFlight.set({}, this.inFlight);
    try {
      const body = await readJsonBody(req, ctx, this.options.config.maxBodyBytes);
      this.responder.send(res, 200, await handler(body, req, ctx), ctx);
    } catch (e) {
      this.fail(req, res, ctx, e);
    } finally {
      this.inFlight--;
      this.metrics.inFlight.set({}, this.inFlight);
      if (this.draining && this.inFlight === 0) this.drained?.();
    }
  }

  private fail(req: http.IncomingMessage, res: http.ServerResponse, ctx: RequestContext, e: unknown): void {
    const err = asGatewayError(e);
    if (!(e instanceof GatewayError))
      this.log(`request ${ctx.id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    if (err.status === 413 && !req.complete) res.setHeader("connection", "close");
    ctx.error = err.code;
    this.responder.send(res, err.status, err.body(), ctx, err.headers);
    if (err.status === 413 && !req.complete) req.resume();
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
        () =>
          res
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify(modelList(this.options.config, this.routes))),
        (e: unknown) => plainError(res, asGatewayError(e)),
      );
      return;
    }
    if (this.options.config.playground && (path === "/playground" || path.startsWith("/playground/"))) {
      const f = playgroundFile(this.options.playgroundDir, path);
      if (f) return void res.writeHead(200, { "content-type": f.type, "cache-control": "no-cache" }).end(f.body);
    }
    plainError(res, new GatewayError(404, "not_found_error", "not_found", `No route GET ${path}.`));
  }
}
