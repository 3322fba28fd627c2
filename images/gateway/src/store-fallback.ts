import type { GatewayLimits } from "../../../components/config/gateway";
import { MemoryLimiter, RedisDownError, type Admission, type Limiter } from "./limits";

/**
 * Limits that survive a store outage (redis.onDown fail-open, the default, as Envoy's rate-limit service with
 * failure_mode_deny false and Kong's rate-limiting `fault_tolerant` do): while the shared store cannot be reached,
 * each replica keeps limiting in its own memory at the configured rate and quotas divided by the replicas, so the
 * fleet stays near each key's limit instead of refusing everything (fail-closed) or admitting everything.
 * Memory charges every request and token always, so the fallback starts from this replica's share of the day.
 */
export interface FallbackEvents {
  /** The store became unreachable (true) or reachable again (false). */
  onFallback(active: boolean): void;
  /** A request was judged by the in-memory limits instead of the store. */
  onFallbackAdmit(): void;
}

/** A key's limits as one of `replicas` gateways applies them alone (at least 1 request of burst). */
export function replicaShare(limits: GatewayLimits, replicas: number): GatewayLimits {
  const n = Math.max(1, replicas);
  return {
    requestsPerSecond: limits.requestsPerSecond / n,
    burst: Math.max(0, Math.floor((limits.burst + 1) / n) - 1),
    ...(limits.dailyInputTokens !== undefined ? { dailyInputTokens: Math.ceil(limits.dailyInputTokens / n) } : {}),
    ...(limits.dailyDocuments !== undefined ? { dailyDocuments: Math.ceil(limits.dailyDocuments / n) } : {}),
  };
}

export class FallbackLimiter implements Limiter {
  private active = false;
  private readonly shares = new WeakMap<GatewayLimits, GatewayLimits>();

  constructor(
    private readonly store: Limiter,
    private readonly replicas: number,
    private readonly events: FallbackEvents,
    private readonly memory: MemoryLimiter = new MemoryLimiter(),
  ) {}

  /** Is this replica limiting from memory now? */
  get fallingBack(): boolean {
    return this.active;
  }

  async admit(key: string, limits: GatewayLimits, documents: number): Promise<Admission> {
    let share = this.shares.get(limits);
    if (!share) this.shares.set(limits, (share = replicaShare(limits, this.replicas)));
    try {
      const a = await this.store.admit(key, limits, documents);
      this.set(false);
      // Keep the memory's day counts current, so a fallback does not start this replica's day from zero.
      if (a.ok) void this.memory.admit(key, share, documents);
      return a;
    } catch (e) {
      if (!(e instanceof RedisDownError)) throw e;
      this.set(true);
      this.events.onFallbackAdmit();
      return this.memory.admit(key, share, documents);
    }
  }

  async chargeTokens(key: string, tokens: number): Promise<void> {
    await Promise.all([this.store.chargeTokens(key, tokens), this.memory.chargeTokens(key, tokens)]);
  }

  async close(): Promise<void> {
    await Promise.all([this.store.close(), this.memory.close()]);
  }

  private set(active: boolean): void {
    if (active === this.active) return;
    this.active = active;
    this.events.onFallback(active);
  }
}
