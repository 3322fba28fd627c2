import type { RuntimeConfig, RuntimeModel } from "../../../components/gateway/runtime-config";
import { Breaker, BREAKER_GAUGE } from "./breaker";
import { RerankCache } from "./cache";
import { dialectOf } from "./engine";
import type { GatewayMetrics } from "./metrics";
import type { ServiceProbe } from "./endpoints";
import { UpstreamGroup } from "./upstream";
import { FairQueue } from "./fair-queue";
import { WakeQueue } from "./wake-queue";

/** What serves one deployed model: its engine replicas, its breaker and its optional rerank cache. */
export interface ModelRoute {
  readonly model: RuntimeModel;
  readonly group: UpstreamGroup;
  readonly breaker: Breaker;
  readonly cache?: RerankCache;
  /** Holds requests while the model has no ready pod (when discovery is on and the model has a wake budget). */
  readonly wake?: WakeQueue;
}

/**
 * Probing a model's Service while discovery is down: every 500 ms while it has no pod (a woken model is served
 * within about half a second of its first ready pod), every 5 s while it has one (the first call after a scale to
 * zero finds out at once anyway: a refused connection marks it empty).
 */
const SERVICE_PROBE: ServiceProbe = { downIntervalMs: 500, upIntervalMs: 5000, timeoutMs: 1000 };

/** The model table: every deployed model's route, and the aliases that stand for them. */
export class ModelRoutes {
  private readonly routes = new Map<string, ModelRoute>();

  constructor(
    private readonly config: Pick<RuntimeConfig, "models" | "aliases" | "breaker" | "upstreamTimeoutMs" | "attempts">,
    metrics: GatewayMetrics,
  ) {
    for (const model of config.models) {
      dialectOf(model); // unknown dialect: fail at start, not on the first request
      const breaker = new Breaker(config.breaker.failures, config.breaker.cooldownMs, (s) =>
        metrics.breakerState.set({ model: model.name }, BREAKER_GAUGE[s]),
      );
      metrics.breakerState.set({ model: model.name }, 0);
      // A model found by discovery learns, while discovery is down, whether its Service has a pod by probing it, so
      // that a model scaled to zero holds its requests (wake queue) instead of failing them.
      const group = new UpstreamGroup(
        model.name,
        model.upstreams,
        config.upstreamTimeoutMs,
        config.attempts,
        model.discovery && model.wake ? SERVICE_PROBE : undefined,
      );
      if (model.maxInFlightPerPod)
        group.admission = new FairQueue(
          model.name,
          model.maxInFlightPerPod,
          // Only the discovered pods are counted; behind the Service (pods unknown) nothing is held back.
          () => (group.endpoints.discovered ? group.endpoints.ready : Infinity),
          model.wake?.queueSize ?? 200,
          (n) => metrics.queued.set({ model: model.name }, n),
        );
      this.routes.set(model.name, {
        model,
        group,
        breaker,
        ...(model.cache ? { cache: new RerankCache(model.cache.maxEntries, model.cache.ttlSeconds) } : {}),
        ...(model.wake
          ? {
              wake: new WakeQueue(model.name, model.wake.queueSize, model.wake.maxWaitMs, (n) =>
                metrics.waiting.set({ model: model.name }, n),
              ),
            }
          : {}),
      });
      if (model.wake) metrics.waiting.set({ model: model.name }, 0);
    }
  }

  /** Every name a caller may put in `model`: deployed models, then aliases. */
  names(): string[] {
    return [...this.routes.keys(), ...Object.keys(this.config.aliases)];
  }

  /** The alias' fallback model's route (same task; checked by the config rules), if it names one. */
  fallbackOf(name: string): ModelRoute | undefined {
    const f = this.config.aliases[name]?.fallback;
    return f ? this.routes.get(f) : undefined;
  }

  all(): ModelRoute[] {
    return [...this.routes.values()];
  }

  get(name: string): ModelRoute | undefined {
    return this.routes.get(name);
  }

  /** The route of a model or alias (a weighted pick among an alias' live targets); undefined for any other name. */
  resolve(name: string): ModelRoute | undefined {
    const direct = this.routes.get(name);
    if (direct) return direct;
    const alias = this.config.aliases[name];
    if (!alias) return undefined;
    const live = alias.targets.filter((t) => t.weight > 0);
    let pick = Math.random() * live.reduce((s, t) => s + t.weight, 0);
    for (const t of live) {
      pick -= t.weight;
      if (pick < 0) return this.routes.get(t.model)!;
    }
    return this.routes.get(live[live.length - 1]!.model)!;
  }

  async close(): Promise<void> {
    await Promise.all([...this.routes.values()].map((r) => r.group.close()));
  }
}
