import type * as http from "node:http";
import type { RuntimeConfig } from "../../../components/gateway/runtime-config";
import type { GatewayLimits } from "../../../components/config/gateway";
import type { Authenticator, Caller } from "./auth";
import type { RequestContext } from "./context";
import { badRequest, GatewayError, unavailable } from "./errors";
import type { BoundedLabel } from "./labels";
import { RedisDownError, type Limiter } from "./limits";
import type { GatewayMetrics } from "./metrics";
import type { ModelRoute, ModelRoutes } from "./model-routes";
import { preferWaitMs } from "./wake-queue";

export type Task = "embed" | "rerank";

/**
 * What every task call passes before the engine: the caller (key or token), the model (aliases resolved), the
 * task and batch size, the caller's limits and quotas, and the model's breaker. Also where usage is counted
 * after an answer, against the same limiter.
 */
export class Admission {
  private readonly keyLimits = new WeakMap<Caller, GatewayLimits>();

  constructor(
    private readonly config: Pick<RuntimeConfig, "limits" | "maxInputs" | "maxDocuments" | "redis">,
    private readonly auth: Authenticator,
    private readonly routes: ModelRoutes,
    private readonly limiter: Limiter,
    private readonly metrics: GatewayMetrics,
    private readonly modelLabel: BoundedLabel,
    private readonly keyLabel: BoundedLabel,
  ) {}

  async admit(
    req: http.IncomingMessage,
    ctx: RequestContext,
    name: string,
    task: Task,
    count: number,
  ): Promise<ModelRoute> {
    ctx.model = name;
    ctx.caller = this.auth.verifiedCaller(req.headers) ?? (await this.auth.authenticate(req.headers));
    if (ctx.caller.models && !ctx.caller.models.includes(name))
      throw new GatewayError(
        403,
        "permission_error",
        "model_not_allowed",
        `Key ${ctx.caller.name} may not call ${name}; it may call ${ctx.caller.models.join(", ")}.`,
        "model",
      );
    const route = this.routes.resolve(name);
    ctx.servedBy = route.model.name;
    if (route.model.task !== task)
      throw badRequest(
        `${name} is a${route.model.task === "embed" ? "n embedding" : " rerank"} model; call ${route.model.task === "embed" ? "POST /v1/embeddings" : "POST /v1/rerank"} with it.`,
        "model",
        "wrong_task",
      );
    const c = this.config;
    const max = task === "embed" ? c.maxInputs : c.maxDocuments;
    if (count > max)
      throw badRequest(
        `${count} ${task === "embed" ? "inputs" : "documents"} in one request; ${name} takes at most ${max}. Split the request.`,
        task === "embed" ? "input" : "documents",
        task === "embed" ? "too_many_inputs" : "too_many_documents",
      );
    await this.checkLimits(ctx.caller, name, count);
    const served = await this.servable(route, this.routes.fallbackOf(name), preferWaitMs(req.headers.prefer));
    ctx.servedBy = served.model.name;
    return served;
  }

  /**
   * The route that serves the call: the model when its breaker lets calls through and it has (or gets, within
   * the wake wait) a ready pod; else the alias' fallback model, when it names one that can serve; else 503.
   */
  private async servable(route: ModelRoute, fallback: ModelRoute | undefined, preferWait?: number): Promise<ModelRoute> {
    const usable = (r: ModelRoute) => r.breaker.allow();
    if (!usable(route)) {
      if (fallback && fallback.group.endpoints.ready > 0 && usable(fallback)) return fallback;
      throw unavailable(`${route.model.name} is failing; calls are paused for a moment (circuit open).`, "circuit_open", {
        "retry-after": String(route.breaker.retryAfterSeconds()),
      });
    }
    if (!route.wake) return route;
    try {
      await route.wake.ready(route.group.endpoints, preferWait);
      return route;
    } catch (e) {
      route.breaker.release();
      if (fallback && fallback.group.endpoints.ready > 0 && usable(fallback)) return fallback;
      throw e;
    }
  }

  private async checkLimits(caller: Caller, name: string, count: number): Promise<void> {
    const limits = caller.limits || caller.internal ? this.limitsOf(caller) : this.config.limits;
    let admission;
    try {
      admission = await this.limiter.admit(caller.name, limits, count);
    } catch (e) {
      if (!(e instanceof RedisDownError)) throw e;
      if (this.config.redis.onDown === "fail-closed")
        throw unavailable(
          "Limits cannot be checked right now (the limit store is down); try again shortly.",
          "limits_unavailable",
          { "retry-after": "1" },
        );
      this.metrics.failOpen.inc();
      admission = { ok: true as const };
    }
    if (admission.ok) return;
    this.metrics.quotaRejections.inc({
      key: this.keyLabel.of(caller.name),
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
      `Over the ${what} of key ${caller.name}. Retry after ${admission.retryAfterSeconds} s.`,
      null,
      { "retry-after": String(admission.retryAfterSeconds) },
    );
  }

  /**
   * A named key's limits over the defaults, merged once per key. Our own callers (internal) get their own rate
   * and burst and no daily quota: the customers' limits and quotas are not theirs.
   */
  private limitsOf(caller: Caller): GatewayLimits {
    let l = this.keyLimits.get(caller);
    if (!l) {
      const d = this.config.limits;
      l = caller.internal
        ? {
            requestsPerSecond: caller.limits?.requestsPerSecond ?? d.requestsPerSecond,
            burst: caller.limits?.burst ?? d.burst,
          }
        : { ...d, ...caller.limits };
      this.keyLimits.set(caller, l);
    }
    return l;
  }

  /** Usage of a served request: metrics per key and model, and the tokens charged to the caller's daily quota. */
  count(ctx: RequestContext, model: string, tokens: number, n: { inputs?: number; documents?: number }): void {
    const key = this.keyLabel.of(ctx.caller!.name);
    const labels = { key, model: this.modelLabel.of(model) };
    if (tokens > 0) {
      this.metrics.inputTokens.inc(labels, tokens);
      void this.limiter.chargeTokens(ctx.caller!.name, tokens);
    }
    if (n.inputs) this.metrics.inputs.inc(labels, n.inputs);
    if (n.documents) this.metrics.documents.inc(labels, n.documents);
  }
}

/** Runs the engine call under the model's breaker: engine failures count, caller errors (4xx) do not. */
export function guarded<T>(route: ModelRoute, call: Promise<T>): Promise<T> {
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
