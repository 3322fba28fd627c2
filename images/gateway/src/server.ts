import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { RuntimeConfig } from "../../../components/gateway/runtime-config";
import { Admission } from "./admission";
import { SpentBudgets } from "./budget";
import { stdoutAudit, type AuditSink } from "./audit";
import { Authenticator, type Caller } from "./auth";
import { MAX_JSON_DEPTH, readJsonBody } from "./body";
import { ByteBudget } from "./byte-budget";
import { AuthThrottle, ClientAddress } from "./client-address";
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
import { allAddresses, SliceWatcher } from "./discovery";
import { inClusterKubeApi, type KubeApi } from "../../common/kube-api";
import { GatewayMetrics } from "./metrics";
import { ModelRoutes } from "./model-routes";
import { shadowMirror, type ShadowMirror } from "./shadow";
import { playgroundFile } from "./playground";
import { plainError, Responder } from "./respond";
import { API_HEADERS, PLAYGROUND_HEADERS } from "./security-headers";

/**
 * The retrieval gateway: one HTTP server for every model of a stack (docs/gateway.md). This file is the
 * lifecycle (start, connections, drain) and the route table; each request then passes the stages in their own
 * modules: context.ts (ids, client address), auth.ts (key or token, from the headers alone, before any body
 * byte is read), body.ts (bounded reading), admission.ts (model scope, limits, breaker), handlers/ (one per API),
 * respond.ts (answer, metrics, audit line). Routes: POST /v1/embeddings, POST /v1/rerank | /rerank | /v2/rerank,
 * GET /v1/models, GET /healthz, GET /readyz, GET /playground (when enabled and built); GET /metrics only on the
 * metrics port (config.metricsPort), which the callers' Service does not expose.
 */
interface GatewayOptions {
  readonly config: RuntimeConfig;
  readonly audit?: AuditSink;
  /** Where the playground's static files are (only read when config.playground is on). */
  readonly playgroundDir?: string;
  /** How long shutdown waits for in-flight requests (default: config.drainTimeoutMs). */
  readonly drainTimeoutMs?: number;
  /** Errors that are not the caller's (a bug, an engine's error text): one line each on stderr. */
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
  private readonly admission: Admission;
  /** Keys whose monthly GPU budget is spent (config.budgets: cost.refuseOverBudget). */
  private readonly spentBudgets?: SpentBudgets;
  private readonly limiter: Limiter;
  private readonly server: http.Server;
  private readonly metricsServer: http.Server;
  private readonly responder: Responder;
  private readonly log: (m: string) => void;
  private readonly budget: ByteBudget;
  private readonly clients: ClientAddress;
  private readonly throttle: AuthThrottle;
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  /** Open connections per client address (not counting trusted proxies). */
  private readonly openPerClient = new Map<string, number>();
  /** POST routes of the API. */
  private readonly api = new Map<string, ApiHandler>();
  private readonly keyWatcher?: KeyFileWatcher;
  private readonly sliceWatchers: SliceWatcher[] = [];
  /** Shadow copies (shadow.ts); the drain waits for them too. */
  private readonly shadow?: ShadowMirror;
  private inFlight = 0;
  private draining = false;
  private drained?: () => void;
  /** The port /metrics listens on, once listening. */
  metricsPort = 0;

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
    this.budget = new ByteBudget(c.maxBytesInFlight);
    this.clients = new ClientAddress(c.trustedProxies);
    this.throttle = new AuthThrottle(c.authFailuresPerMinute);
    this.metrics.redisUp.set({}, c.redis.url ? 0 : 1);
    this.limiter = c.redis.url ? this.storeLimiter(c.redis.url, c.redis) : new MemoryLimiter();
    this.responder = new Responder(this.metrics, options.audit ?? stdoutAudit, modelLabel, keyLabel);
    if (c.budgets)
      this.spentBudgets = new SpentBudgets({
        source: c.budgets.file ? { file: c.budgets.file } : { prometheus: c.budgets.prometheus! },
        refreshMs: c.budgets.refreshMs,
        log: this.log,
      });
    this.admission = new Admission(c, this.routes, this.limiter, this.metrics, modelLabel, keyLabel, this.spentBudgets);
    const deps: ApiDeps = {
      admission: this.admission,
      metrics: this.metrics,
      budget: this.budget,
      maxAnswerBytes: c.maxAnswerBytes,
      log: this.log,
      shadow: (this.shadow = shadowMirror(c, this.routes, this.metrics)),
    };
    this.api.set("/v1/embeddings", embeddingsHandler(deps));
    for (const [path, defaultDocs] of Object.entries(RERANK_ROUTES))
      this.api.set(path, rerankHandler(deps, defaultDocs));
    const kubeApi = options.kubeApi === undefined ? inClusterKubeApi() : options.kubeApi || undefined;
    this.startDiscovery(kubeApi);
    this.startProxyDiscovery(kubeApi);
    // Connection limits (docs/gateway.md, "Security and failure behaviour"): headers and whole request within
    // their timeouts (checked every second), idle keep-alive closed, open connections capped in all and per client.
    const cc = c.connections;
    this.server = http.createServer(
      {
        headersTimeout: cc.headersTimeoutMs,
        requestTimeout: cc.requestTimeoutMs,
        keepAliveTimeout: cc.keepAliveTimeoutMs,
        connectionsCheckingInterval: 1000,
      },
      (req, res) => void this.handle(req, res),
    );
    this.server.maxConnections = cc.maxConnections;
    this.server.on("connection", (socket: Socket) => this.countConnection(socket));
    this.server.on("drop", () => this.metrics.refused.inc({ reason: "connections" }));
    this.metricsServer = http.createServer((req, res) => {
      req.resume();
      if ((req.url ?? "/").split("?")[0] !== "/metrics")
        return void res.writeHead(404, { ...API_HEADERS, "content-type": "text/plain" }).end("not found\n");
      this.metrics.eventLoopDelay.set({}, this.loopDelay.max / 1e9);
      this.loopDelay.reset();
      this.metrics.bufferedBytes.set({}, this.budget.inUse);
      res
        .writeHead(200, { ...API_HEADERS, "content-type": "text/plain; version=0.0.4; charset=utf-8" })
        .end(this.metrics.text());
    });
    this.loopDelay.enable();
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

  /**
   * The ingress controller's pods are the proxies whose X-Forwarded-For names the client (failed-auth throttling
   * and the per-client connection cap count that client). Learnt from the controller Service's EndpointSlices, so
   * no CIDR has to be configured; while they cannot be read only config.trustedProxies is trusted, which is safe
   * (XFF is never taken from a peer that is not known to be a proxy) and visible: the gauge is -1 and the log says
   * so (every client behind the ingress then shares its pods' addresses for throttling, never for valid keys).
   */
  private startProxyDiscovery(api: KubeApi | undefined): void {
    const d = this.options.config.proxyDiscovery;
    if (!d) return;
    this.metrics.discoveredProxies.set({}, -1);
    const whileUnavailable = `X-Forwarded-For is trusted only from trustedProxies (${this.options.config.trustedProxies.join(", ") || "none"}) until the API answers`;
    if (!api) {
      this.log(`ingress controller discovery: no Kubernetes API (not in a pod); ${whileUnavailable}`);
      return;
    }
    const w = new SliceWatcher(
      api,
      {
        model: `the ingress controller (${d.namespace}/${d.service})`,
        ...d,
        portName: "",
        select: allAddresses,
        whileUnavailable,
      },
      (addresses) => {
        this.clients.setDiscovered(addresses);
        this.metrics.discoveredProxies.set({}, addresses?.length ?? -1);
      },
      this.log,
    );
    w.start();
    this.sliceWatchers.push(w);
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

  /** Listens for callers on `port` and for Prometheus on config.metricsPort; resolves with the callers' port. */
  async listen(port: number, host = "127.0.0.1"): Promise<number> {
    const on = (server: http.Server, p: number) =>
      new Promise<number>((resolve, reject) => {
        server.once("error", reject).listen(p, host, () => resolve((server.address() as AddressInfo).port));
      });
    // The first refresh runs in the background: a slow Prometheus must not hold the listener back.
    void this.spentBudgets?.start();
    const main = await on(this.server, port);
    this.metricsPort = await on(this.metricsServer, this.options.config.metricsPort);
    return main;
  }

  /**
   * Stop taking requests, wait for the in-flight ones and then for the shadow copies still running (together up to
   * the drain time: config.drainTimeoutMs, the value the pod's terminationGracePeriodSeconds is derived from; copies
   * still running then are counted as cut off), then close pools and Redis. Returns what the drain did.
   */
  async shutdown(): Promise<{ shadowWaited: number; shadowCutOff: number }> {
    const drainMs = this.options.drainTimeoutMs ?? this.options.config.drainTimeoutMs;
    const drainEnds = Date.now() + drainMs;
    this.draining = true;
    this.keyWatcher?.stop();
    await Promise.all(this.sliceWatchers.map((w) => w.stop()));
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0)
      await Promise.race([
        new Promise<void>((r) => (this.drained = r)),
        new Promise<void>((r) => setTimeout(r, drainMs).unref()),
      ]);
    // The copies of answered calls run on after their callers left; they get what is left of the budget.
    const shadow = (await this.shadow?.drain(drainEnds - Date.now())) ?? { waited: 0, cutOff: 0 };
    this.server.closeAllConnections();
    await closed;
    await new Promise<void>((r) => this.metricsServer.close(() => r()));
    this.loopDelay.disable();
    this.spentBudgets?.stop();
    await this.routes.close();
    await this.limiter.close();
    return { shadowWaited: shadow.waited, shadowCutOff: shadow.cutOff };
  }

  private countConnection(socket: Socket): void {
    const addr = (socket.remoteAddress ?? "").replace(/^::ffff:/, "");
    if (this.clients.isTrusted(addr)) return;
    const open = (this.openPerClient.get(addr) ?? 0) + 1;
    if (open > this.options.config.connections.maxPerClient) {
      this.metrics.refused.inc({ reason: "connections" });
      socket.destroy();
      return;
    }
    this.openPerClient.set(addr, open);
    socket.once("close", () => {
      const n = (this.openPerClient.get(addr) ?? 1) - 1;
      if (n <= 0) this.openPerClient.delete(addr);
      else this.openPerClient.set(addr, n);
    });
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const ctx = newContext(req, this.clients.of(req));
    res.setHeader("x-request-id", ctx.id);
    res.setHeader("traceparent", ctx.traceparent);
    if (this.draining) res.setHeader("connection", "close");
    const method = req.method ?? "GET";
    if (method === "GET") return this.handleGet(ctx, req, res);
    const handler = method === "POST" ? this.api.get(ctx.route) : undefined;
    if (!handler) {
      this.discard(req);
      return plainError(
        res,
        new GatewayError(
          404,
          "not_found_error",
          "not_found",
          `No route ${method.slice(0, 16)} ${printable(ctx.route)}. The API: POST /v1/embeddings, POST /v1/rerank, GET /v1/models.`,
        ),
      );
    }
    this.inFlight++;
    this.metrics.inFlight.set({}, this.inFlight);
    let served = false;
    try {
      ctx.caller = await this.authenticate(req, ctx);
      const body = await readJsonBody(req, ctx, {
        maxBytes: this.options.config.maxBodyBytes,
        budget: this.budget,
        maxDepth: MAX_JSON_DEPTH,
        // Twice the larger batch limit: a list a little over it still gets admission's exact message.
        maxItems: 2 * Math.max(this.options.config.maxInputs, this.options.config.maxDocuments),
      });
      const payload = await handler(body, req, ctx);
      this.responder.send(res, 200, payload, ctx);
      served = true;
    } catch (e) {
      await this.fail(req, res, ctx, e);
    } finally {
      this.admission.finish(ctx, served);
      this.budget.give(ctx.held);
      ctx.held = 0;
      this.inFlight--;
      this.metrics.inFlight.set({}, this.inFlight);
      if (this.draining && this.inFlight === 0) this.drained?.();
    }
  }

  /**
   * The caller, from the headers alone. Failures count against the client's address: past its budget further
   * failures are a 429 (and its JWTs are not verified any more); a valid key is never slowed.
   */
  private async authenticate(req: http.IncomingMessage, ctx: RequestContext): Promise<Caller> {
    const known = this.auth.verifiedCaller(req.headers);
    if (known) return known;
    try {
      return await this.auth.authenticate(req.headers, { verifyTokens: this.throttle.allowed(ctx.client) });
    } catch (e) {
      if (!(e instanceof GatewayError) || e.status !== 401) throw e;
      const wait = this.throttle.fail(ctx.client);
      this.metrics.authFailures.inc({ throttled: wait > 0 ? "true" : "false" });
      if (wait > 0)
        throw new GatewayError(
          429,
          "rate_limit_error",
          "too_many_auth_failures",
          `Too many failed authentications from this address; retry after ${wait} s.`,
          null,
          { "retry-after": String(wait) },
        );
      throw e;
    }
  }

  /** Reads and drops what is left of a refused request's body (never buffered), up to maxBodyBytes. */
  private discard(req: http.IncomingMessage): void {
    if (req.complete) return;
    let left = this.options.config.maxBodyBytes;
    req.on("data", (c: Buffer) => {
      left -= c.length;
      if (left < 0) req.destroy();
    });
    req.resume();
  }

  private async fail(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    ctx: RequestContext,
    e: unknown,
  ): Promise<void> {
    const err = asGatewayError(e);
    if (!(e instanceof GatewayError))
      this.log(`request ${ctx.id}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    ctx.error = err.code;
    // A refused request whose body is still arriving (declared within maxBodyBytes) is first read to its end and
    // dropped (never buffered), for at most LINGER_MS: answering and closing while the client still sends makes the
    // kernel reset the connection, and the client may never read our answer (EPIPE/ECONNRESET instead of the 401),
    // which NGINX's lingering close avoids the same way. Larger bodies (413) and slower ones are cut after the answer.
    const declared = Number(req.headers["content-length"] ?? 0);
    const unread =
      !req.complete &&
      !(
        err.status !== 413 &&
        !(declared > this.options.config.maxBodyBytes) &&
        (await this.dropBody(req, this.options.config.maxBodyBytes, LINGER_MS))
      );
    if (unread) res.setHeader("connection", "close");
    this.responder.send(res, err.status, err.body(), ctx, err.headers);
    if (unread) this.discard(req);
  }

  /** Reads and drops a request's body to its end: true when it ended within `maxBytes` and `ms`. */
  private dropBody(req: http.IncomingMessage, maxBytes: number, ms: number): Promise<boolean> {
    if (req.complete) return Promise.resolve(true);
    return new Promise((resolve) => {
      let left = maxBytes;
      const done = (ok: boolean) => {
        clearTimeout(timer);
        req.off("data", onData).off("end", onEnd).off("close", onClose);
        if (!ok) req.pause();
        resolve(ok);
      };
      const onData = (c: Buffer) => {
        left -= c.length;
        if (left < 0) done(false);
      };
      const onEnd = () => done(true);
      const onClose = () => done(req.complete);
      const timer = setTimeout(() => done(false), ms);
      timer.unref?.();
      req.on("data", onData).once("end", onEnd).once("close", onClose);
      req.resume();
    });
  }

  private handleGet(ctx: RequestContext, req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = ctx.route;
    this.discard(req);
    const text = (status: number, body: string) =>
      void res.writeHead(status, { ...API_HEADERS, "content-type": "text/plain" }).end(body);
    if (path === "/healthz") return text(200, "ok\n");
    if (path === "/readyz") return text(this.draining ? 503 : 200, this.draining ? "draining\n" : "ready\n");
    if (path === "/v1/models") {
      void this.authenticate(req, ctx).then(
        (caller) =>
          res
            .writeHead(200, { ...API_HEADERS, "content-type": "application/json" })
            .end(JSON.stringify(modelList(this.options.config, this.routes, new Set(this.admission.visible(caller))))),
        (e: unknown) => plainError(res, asGatewayError(e)),
      );
      return;
    }
    if (this.options.config.playground && (path === "/playground" || path.startsWith("/playground/"))) {
      const f = playgroundFile(this.options.playgroundDir, path);
      if (f)
        return void res
          .writeHead(200, { ...PLAYGROUND_HEADERS, "content-type": f.type, "cache-control": "no-cache" })
          .end(f.body);
    }
    plainError(res, new GatewayError(404, "not_found_error", "not_found", `No route GET ${printable(path)}.`));
  }
}

/** How long a refused request's arriving body is read and dropped before the answer (see fail()). */
const LINGER_MS = 5000;

/** A path as echoed in an error: at most 64 printable ASCII characters. */
const printable = (path: string) => path.slice(0, 64).replace(/[^\x21-\x7e]/g, "?") + (path.length > 64 ? "..." : "");
