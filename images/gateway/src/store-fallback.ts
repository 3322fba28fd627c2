import type { GatewayLimits } from "../../../components/config/gateway";
import { MemoryLimiter, RedisDownError, type Admission, type Demand, type Limiter, type Reservation } from "./limits";

/**
 * Limits that survive a store outage (redis.onDown fail-open, the default, as Envoy's rate-limit service with
 * failure_mode_deny false and Kong's rate-limiting `fault_tolerant` do): while the shared store cannot be reached,
 * each replica keeps limiting in its own memory at the configured rate and quotas divided by the replicas, so the
 * fleet stays near each key's limit instead of refusing everything (fail-closed) or admitting everything.
 * Memory charges every request and token always, so the fallback starts from this replica's share of the day.
 */
interface FallbackEvents {
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
  /** Store reservation -> the memory's shadow of it; memory reservations (made during an outage) -> themselves. */
  private readonly shadows = new WeakMap<Reservation, Reservation | "memory">();

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

  async admit(key: string, limits: GatewayLimits, demand: Demand): Promise<Admission> {
    let share = this.shares.get(limits);
    if (!share) this.shares.set(limits, (share = replicaShare(limits, this.replicas)));
    try {
      const a = await this.store.admit(key, limits, demand);
      this.set(false);
      // Keep the memory's day counts current, so a fallback does not start this replica's day from zero.
      if (a.ok) {
        const shadow = await this.memory.admit(key, share, demand);
        if (shadow.ok) this.shadows.set(a.reservation, shadow.reservation);
      }
      return a;
    } catch (e) {
      if (!(e instanceof RedisDownError)) throw e;
      this.set(true);
      this.events.onFallbackAdmit();
      const a = await this.memory.admit(key, share, demand);
      if (a.ok) this.shadows.set(a.reservation, "memory");
      return a;
    }
  }

  async settle(r: Reservation, used: { documents: number; tokens: number }): Promise<void> {
    const shadow = this.shadows.get(r);
    if (shadow === "memory") return this.memory.settle(r, used);
    await Promise.all([this.store.settle(r, used), ...(shadow ? [this.memory.settle(shadow, used)] : [])]);
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
