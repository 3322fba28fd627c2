import { Redis } from "ioredis";
import type { GatewayLimits } from "../../../components/config/gateway";

/**
 * Per-key limits: a token bucket of `requestsPerSecond` refilled continuously holding `burst + 1` requests, and
 * daily (UTC) quotas of input tokens and documents. Quotas are reserved before the engine call and settled after
 * it (docs/gateway.md, "Quotas"): admission reserves the request's documents and an upper bound of its tokens
 * atomically (one Lua script in Redis, exact across replicas; a single replica may keep them in memory); a served
 * request then settles to what it used (the engine's token count), a request that is not served gives it all
 * back. A key is refused when its reservation does not fit, so the day's usage stays within the quota as long
 * as the engine reports no more tokens than the bound (each in-flight request may exceed by that difference).
 */
type Quota = "rate" | "tokens" | "documents";

/** What admission took from a key's day; settle() moves it to the real usage. */
export interface Reservation {
  readonly key: string;
  readonly day: number;
  readonly documents: number;
  readonly tokens: number;
}

export type Admission =
  | { readonly ok: true; readonly reservation: Reservation }
  | { readonly ok: false; readonly quota: Quota; readonly retryAfterSeconds: number };

export interface Demand {
  readonly documents: number;
  /** An upper bound of the request's input tokens (reserved only when the key has a token quota). */
  readonly tokens: number;
}

export interface Limiter {
  admit(key: string, limits: GatewayLimits, demand: Demand): Promise<Admission>;
  /** Replaces the reservation by the usage (zero for a request that was not served). */
  settle(reservation: Reservation, used: { documents: number; tokens: number }): Promise<void>;
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;
const utcDay = (ms: number) => Math.floor(ms / DAY_MS);
const untilMidnight = (ms: number) => Math.max(1, Math.ceil((DAY_MS - (ms % DAY_MS)) / 1000));
const capacity = (l: GatewayLimits) => l.burst + 1;

export class MemoryLimiter implements Limiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly daily = new Map<string, number>();
  constructor(private readonly now: () => number = Date.now) {}

  async admit(key: string, limits: GatewayLimits, demand: Demand): Promise<Admission> {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: capacity(limits), at: now };
    b.tokens = Math.min(capacity(limits), b.tokens + ((now - b.at) * limits.requestsPerSecond) / 1000);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1)
      return { ok: false, quota: "rate", retryAfterSeconds: Math.ceil((1 - b.tokens) / limits.requestsPerSecond) };
    const day = utcDay(now);
    const tokens = limits.dailyInputTokens !== undefined ? demand.tokens : 0;
    const t = `t:${key}:${day}`;
    const d = `d:${key}:${day}`;
    if (limits.dailyInputTokens !== undefined && (this.daily.get(t) ?? 0) + tokens > limits.dailyInputTokens)
      return { ok: false, quota: "tokens", retryAfterSeconds: untilMidnight(now) };
    if (limits.dailyDocuments !== undefined && (this.daily.get(d) ?? 0) + demand.documents > limits.dailyDocuments)
      return { ok: false, quota: "documents", retryAfterSeconds: untilMidnight(now) };
    b.tokens -= 1;
    this.daily.set(d, (this.daily.get(d) ?? 0) + demand.documents);
    this.daily.set(t, (this.daily.get(t) ?? 0) + tokens);
    return { ok: true, reservation: { key, day, documents: demand.documents, tokens } };
  }

  async settle(r: Reservation, used: { documents: number; tokens: number }): Promise<void> {
    for (const [k, delta] of [
      [`d:${r.key}:${r.day}`, used.documents - r.documents],
      [`t:${r.key}:${r.day}`, used.tokens - r.tokens],
    ] as const)
      if (delta !== 0) this.daily.set(k, Math.max(0, (this.daily.get(k) ?? 0) + delta));
  }

  async close(): Promise<void> {}
}

/**
 * KEYS: bucket, documents of the day, tokens of the day. ARGV: rate/s, capacity, documents, document quota,
 * token quota (0 = none), tokens to reserve. Returns {0} admitted, {1, retry ms} rate, {2} documents, {3} tokens,
 * plus Redis' time. Checks and takes in one step: two replicas can never both take the last of a quota.
 */
const ADMIT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local docs, docq, tokq, toks = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens, at = cap, now end
tokens = math.min(cap, tokens + (now - at) * rate / 1000)
if tokens < 1 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
  return {1, math.ceil((1 - tokens) * 1000 / rate), now}
end
if tokq > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') + toks > tokq then return {3, 0, now} end
if docq > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') + docs > docq then return {2, 0, now} end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(cap * 1000 / rate) + 1000)
if docs > 0 then
  redis.call('INCRBY', KEYS[2], docs)
  redis.call('EXPIRE', KEYS[2], 172800)
end
if toks > 0 then
  redis.call('INCRBY', KEYS[3], toks)
  redis.call('EXPIRE', KEYS[3], 172800)
end
return {0, 0, now}
`;

/** KEYS: documents, tokens of the reservation's day. ARGV: the two deltas (usage minus reservation). */
const SETTLE_LUA = `
for i = 1, 2 do
  local d = tonumber(ARGV[i])
  if d ~= 0 then
    local v = redis.call('INCRBY', KEYS[i], d)
    if v < 0 then redis.call('SET', KEYS[i], 0) end
    redis.call('EXPIRE', KEYS[i], 172800)
  end
end
return 0
`;

interface RedisLimiterEvents {
  /** Each outcome of a Redis call: true reached, false failed (metric retrieval_gateway_redis_up). */
  onRedis(up: boolean): void;
}

/** Redis-backed limits; on a Redis error admit() throws RedisDownError and the caller applies onDown. */
export class RedisLimiter implements Limiter {
  private readonly redis: Redis;
  constructor(
    url: string,
    private readonly events: RedisLimiterEvents,
    private readonly prefix = "retrieval-gateway",
  ) {
    // No offline queue and no per-command retry: a limit check must answer in milliseconds or fail, not wait
    // for a reconnect (ioredis keeps reconnecting in the background).
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
      connectTimeout: 1000,
      retryStrategy: (n) => Math.min(n * 100, 2000),
      lazyConnect: false,
    });
    this.redis.on("error", () => this.events.onRedis(false));
    this.redis.on("ready", () => this.events.onRedis(true));
  }

  private keys(key: string, day: number): [string, string, string] {
    const k = `${this.prefix}:{${key}}`;
    return [`${k}:bucket`, `${k}:documents:${day}`, `${k}:tokens:${day}`];
  }

  async admit(key: string, limits: GatewayLimits, demand: Demand): Promise<Admission> {
    let reply: [number, number, number];
    const day = utcDay(Date.now());
    const tokens = limits.dailyInputTokens !== undefined ? demand.tokens : 0;
    try {
      reply = (await this.redis.eval(
        ADMIT_LUA,
        3,
        ...this.keys(key, day),
        limits.requestsPerSecond,
        capacity(limits),
        demand.documents,
        limits.dailyDocuments ?? 0,
        limits.dailyInputTokens ?? 0,
        tokens,
      )) as [number, number, number];
      this.events.onRedis(true);
    } catch (e) {
      this.events.onRedis(false);
      throw new RedisDownError(e);
    }
    const [code, retryMs, now] = reply;
    if (code === 0) return { ok: true, reservation: { key, day, documents: demand.documents, tokens } };
    if (code === 1) return { ok: false, quota: "rate", retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)) };
    return { ok: false, quota: code === 2 ? "documents" : "tokens", retryAfterSeconds: untilMidnight(now) };
  }

  async settle(r: Reservation, used: { documents: number; tokens: number }): Promise<void> {
    const dDocs = used.documents - r.documents;
    const dTokens = used.tokens - r.tokens;
    if (dDocs === 0 && dTokens === 0) return;
    const [, docs, tokens] = this.keys(r.key, r.day);
    try {
      await this.redis.eval(SETTLE_LUA, 2, docs, tokens, dDocs, dTokens);
      this.events.onRedis(true);
    } catch {
      // The reservation stays: the key is charged its bound instead of its usage (never less than it used).
      this.events.onRedis(false);
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

export class RedisDownError extends Error {
  override readonly name = "RedisDownError";
  constructor(cause: unknown) {
    super(`Redis unreachable: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}
