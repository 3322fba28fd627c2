import type { RuntimeConfig } from "../../../components/gateway/runtime-config";
import type { GatewayLimits } from "../../../components/config/gateway";
import type { Caller } from "./auth";
import type { RequestContext } from "./context";
import { badRequest, GatewayError, NoPodBehindService, unavailable, UpstreamInvalid } from "./errors";
import type { BoundedLabel } from "./labels";
import { RedisDownError, type Limiter } from "./limits";
import type { GatewayMetrics } from "./metrics";
import type { ModelRoute, ModelRoutes } from "./model-routes";
import { preferWaitMs } from "./wake-queue";
import type { SpentBudgets } from "./budget";

type Task = "embed" | "rerank";

/**
 * What every task call passes before the engine, once its caller is known (server.ts authenticates from the
 * headers, before the body): the model (within the caller's scope, aliases resolved), the task and batch size,
 * and the caller's limits and quotas, reserved. When the request ends, finish() settles the reservation: to the
 * usage when served, to nothing when not, and counts the usage metrics of served requests only.
 */
export class Admission {
  private readonly keyLimits = new WeakMap<Caller, GatewayLimits>();

  constructor(
    private readonly config: Pick<RuntimeConfig, "limits" | "maxInputs" | "maxDocuments" | "redis">,
    private readonly routes: ModelRoutes,
    private readonly limiter: Limiter,
    private readonly metrics: GatewayMetrics,
    private readonly modelLabel: BoundedLabel,
    private readonly keyLabel: BoundedLabel,
    /** cost.refuseOverBudget: keys whose monthly GPU budget is spent get a 429 before any limit is reserved. */
    private readonly spentBudgets?: SpentBudgets,
  ) {}

  /** Names a caller may call: its scope, else every model and alias. */
  visible(caller: Caller | undefined): string[] {
    const all = this.routes.names();
    return caller?.models ? all.filter((n) => caller.models!.has(n)) : all;
  }

  /** The route of a model the caller may call; any other name is a 404 that lists only what it may call. */
  route(caller: Caller, name: string): ModelRoute {
    if (!caller.models || caller.models.has(name)) {
      const route = this.routes.resolve(name);
      if (route) return route;
    }
    throw new GatewayError(
      404,
      "not_found_error",
      "model_not_found",
      `The model '${name}' does not exist. Models: ${this.visible(caller).join(", ")}.`,
      "model",
    );
  }

  /** The model of a task request (scope, alias, task, batch size); limits come after the handler's own checks. */
  admit(ctx: RequestContext, name: string, task: Task, count: number): ModelRoute {
    const caller = ctx.caller!;
    ctx.model = name;
    const route = this.route(caller, name);
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
    return route;
  }

  /**
   * The route that serves an admitted call: the model itself, once it has a ready pod (a model with none holds the
   * call in its wake queue, up to its wait; `Prefer: wait=N` shortens it); the alias' fallback model instead while
   * the model's breaker is open or it has no ready pod past the wait, when the alias names one that can serve.
   */
  async ready(ctx: RequestContext, route: ModelRoute, prefer: string | string[] | undefined): Promise<ModelRoute> {
    const fallback = this.routes.fallbackOf(ctx.model);
    // ready counts the discovered pods, or the Service while discovery is down (0 when a probe found it empty).
    const canServe = (r: ModelRoute) => r.breaker.current !== "open" && r.group.endpoints.ready > 0;
    const use = (r: ModelRoute) => {
      ctx.servedBy = r.model.name;
      return r;
    };
    if (route.breaker.current === "open" && fallback && canServe(fallback)) return use(fallback);
    if (!route.wake) return route;
    try {
      await route.wake.ready(route.group.endpoints, preferWaitMs(prefer));
      return route;
    } catch (e) {
      if (fallback && canServe(fallback)) return use(fallback);
      throw e;
    }
  }

  /**
   * Runs an admitted call; when it finds no pod behind the model's Service (discovery unavailable, the model scaled
   * to zero or starting: NoPodBehindService), the request waits in the model's wake queue, counted in the waiting
   * gauge that wakes the model, until a probe of the Service finds a pod, and is then sent once more. Past the wait
   * or with the queue full: 503 with Retry-After, as with discovery.
   */
  async whileWaking<T>(route: ModelRoute, prefer: string | string[] | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof NoPodBehindService) || !route.wake) throw e;
      await route.wake.ready(route.group.endpoints, preferWaitMs(prefer));
      return await call();
    }
  }

  /** Reserves the request's documents and token bound against the caller's limits (429 when they do not fit). */
  async reserve(ctx: RequestContext, count: number, tokenBound: () => number): Promise<void> {
    const caller = ctx.caller!;
    const overBudget = this.spentBudgets?.refusal(caller.name);
    if (overBudget) throw overBudget;
    const limits = caller.limits || caller.internal ? this.limitsOf(caller) : this.config.limits;
    let admission;
    try {
      admission = await this.limiter.admit(caller.name, limits, {
        documents: count,
        tokens: limits.dailyInputTokens !== undefined ? tokenBound() : 0,
      });
    } catch (e) {
      if (!(e instanceof RedisDownError)) throw e;
      if (this.config.redis.onDown === "fail-closed")
        throw unavailable(
          "Limits cannot be checked right now (the limit store is down); try again shortly.",
          "limits_unavailable",
          { "retry-after": "1" },
        );
      this.metrics.failOpen.inc();
      return;
    }
    if (admission.ok) {
      ctx.reservation = admission.reservation;
      return;
    }
    this.metrics.quotaRejections.inc({
      key: this.keyLabel.of(caller.name),
      model: this.modelLabel.of(ctx.model),
      quota: admission.quota,
    });
    const what = { rate: "request rate", tokens: "daily input-token quota", documents: "daily document quota" }[
      admission.quota
    ];
    throw new GatewayError(
      429,
      "rate_limit_error",
      `${admission.quota}_limit_exceeded`,
      `Over the ${what} of ${caller.via === "key" ? "key " : ""}${caller.name}. Retry after ${admission.retryAfterSeconds} s.`,
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

  /**
   * The end of a task request: a served one (status 200, ctx.usage set) is counted in the usage metrics and
   * settled to its usage (tokens the engine reported; when it reports none, the reserved bound stays charged);
   * any other is settled to nothing, so a request that was not served is never charged.
   */
  finish(ctx: RequestContext, served: boolean): void {
    const u = served ? ctx.usage : undefined;
    if (u) {
      const labels = { key: this.keyLabel.of(ctx.caller!.name), model: this.modelLabel.of(u.model) };
      if (u.tokens) this.metrics.inputTokens.inc(labels, u.tokens);
      if (u.inputs) this.metrics.inputs.inc(labels, u.inputs);
      if (u.documents) this.metrics.documents.inc(labels, u.documents);
    }
    const r = ctx.reservation;
    if (!r) return;
    ctx.reservation = undefined;
    void this.limiter.settle(
      r,
      u ? { documents: r.documents, tokens: u.tokens ?? r.tokens } : { documents: 0, tokens: 0 },
    );
  }
}

/** Errors that are the engine's doing (counted by the breaker); our own overload and the caller's are not. */
function isEngineFault(e: unknown): boolean {
  if (e instanceof NoPodBehindService) return false; // no pod yet is not a failing engine (it may be waking)
  return e instanceof UpstreamInvalid || (e instanceof GatewayError && e.status >= 500 && e.code !== "overloaded");
}

/**
 * Runs one engine call under the model's breaker, which is asked last, right before the call (after every check
 * of the caller's request, so that a caller's 400 never holds the half-open trial), and told every outcome: the
 * engine's failures count, anything else gives the trial back.
 */
export async function guarded<T>(
  route: ModelRoute,
  onInvalid: (e: UpstreamInvalid) => void,
  call: () => Promise<T>,
): Promise<T> {
  if (!route.breaker.allow())
    throw unavailable(`${route.model.name} is failing; calls are paused for a moment (circuit open).`, "circuit_open", {
      "retry-after": String(route.breaker.retryAfterSeconds()),
    });
  let out: T;
  try {
    out = await call();
  } catch (e) {
    if (e instanceof UpstreamInvalid) onInvalid(e);
    if (isEngineFault(e)) route.breaker.failure();
    else route.breaker.release();
    throw e;
  }
  route.breaker.success();
  return out;
}
