import type { RuntimeConfig, RuntimeModel } from "../../../components/gateway/runtime-config";
import { Breaker, BREAKER_GAUGE } from "./breaker";
import { RerankCache } from "./cache";
import { dialectOf } from "./engine";
import type { GatewayMetrics } from "./metrics";
import { UpstreamGroup } from "./upstream";

/** What serves one deployed model: its engine replicas, its breaker and its optional rerank cache. */
export interface ModelRoute {
  readonly model: RuntimeModel;
  readonly group: UpstreamGroup;
  readonly breaker: Breaker;
  readonly cache?: RerankCache;
}

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
      this.routes.set(model.name, {
        model,
        group: new UpstreamGroup(model.name, model.upstreams, config.upstreamTimeoutMs, config.attempts),
        breaker,
        ...(model.cache ? { cache: new RerankCache(model.cache.maxEntries, model.cache.ttlSeconds) } : {}),
      });
    }
  }

  /** Every name a caller may put in `model`: deployed models, then aliases. */
  names(): string[] {
    return [...this.routes.keys(), ...Object.keys(this.config.aliases)];
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
