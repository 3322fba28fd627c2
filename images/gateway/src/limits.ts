import { Redis } from "ioredis";
import type { GatewayLimits } from "../../../components/config/gateway";

/**
 * Per-key limits: a token bucket of `requestsPerSecond` refilled continuously holding `burst + 1` requests, and
 * daily (UTC) quotas of input tokens and documents. Redis makes them exact across gateway replicas (one Lua
 * script checks and takes atomically, with Redis' own clock); a single replica may keep them in memory.
 * Documents are known before the call and are charged with the admission; tokens are known only from the
 * engine's answer, so they are charged after it and a key is refused once its day's tokens are spent (the last
 * admitted request may overshoot by its own tokens).
 */
export type Quota = "rate" | "tokens" | "documents";

export type Admission =
  { readonly ok: true } | { readonly ok: false; readonly quota: Quota; readonly retryAfterSeconds: number };

export interface Limiter {
  admit(key: string, limits: GatewayLimits, documents: number): Promise<Admission>;
  chargeTokens(key: string, tokens: number): Promise<void>;
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

  async admit(key: string, limits: GatewayLimits, documents: number): Promise<Admission> {
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: capacity(limits), at: now };
    b.tokens = Math.min(capacity(limits), b.tokens + ((now - b.at) * limits.requestsPerSecond) / 1000);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens < 1)
      return { ok: false, quota: "rate", retryAfterSeconds: Math.ceil((1 - b.tokens) / limits.requestsPerSecond) };
    const day = utcDay(now);
    const tokensKey = `t:${key}:${day}`;
    const docsKey = `d:${key}:${day}`;
    if (limits.dailyInputTokens !== undefined && (this.daily.get(tokensKey) ?? 0) >= limits.dailyInputTokens)
      return { ok: false, quota: "tokens", retryAfterSeconds: untilMidnight(now) };
    if (limits.dailyDocuments !== undefined && (this.daily.get(docsKey) ?? 0) + documents > limits.dailyDocuments)
      return { ok: false, quota: "documents", retryAfterSeconds: untilMidnight(now) };
    b.tokens -= 1;
    this.daily.set(docsKey, (this.daily.get(docsKey) ?? 0) + documents);
    return { ok: true };
  }

  async chargeTokens(key: string, tokens: number): Promise<void> {
    const k = `t:${key}:${utcDay(this.now())}`;
    this.daily.set(k, (this.daily.get(k) ?? 0) + tokens);
  }

  async close(): Promise<void> {}
}

/**
 * KEYS: bucket, documents of the day, tokens of the day. ARGV: rate/s, capacity, documents, document quota,
 * token quota (0 = none). Returns {0} admitted, {1, retry ms} rate, {2} documents, {3} tokens, plus Redis' time.
 */
const ADMIT_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local docs, docq, tokq = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(b[1]), tonumber(b[2])
if tokens == nil then tokens, at = cap, now end
tokens = math.min(cap, tokens + (now - at) * rate / 1000)
if tokens < 1 then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
  return {1, math.ceil((1 - tokens) * 1000 / rate), now}
end
if tokq > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') >= tokq then return {3, 0, now} end
if docq > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') + docs > docq then return {2, 0, now} end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(cap * 1000 / rate) + 1000)
if docs > 0 then
  redis.call('INCRBY', KEYS[2], docs)
  redis.call('EXPIRE', KEYS[2], 172800)
end
return {0, 0, now}
`;

export interface RedisLimiterEvents {
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

  async admit(key: string, limits: GatewayLimits, documents: number): Promise<Admission> {
    let reply: [number, number, number];
    try {
      const day = utcDay(Date.now());
      reply = (await this.redis.eval(
        ADMIT_LUA,
        3,
        ...this.keys(key, day),
        limits.requestsPerSecond,
        capacity(limits),
        documents,
        limits.dailyDocuments ?? 0,
        limits.dailyInputTokens ?? 0,
      )) as [number, number, number];
      this.events.onRedis(true);
    } catch (e) {
      this.events.onRedis(false);
      throw new RedisDownError(e);
    }
    const [code, retryMs, now] = reply;
    if (code === 0) return { ok: true };
    if (code === 1) return { ok: false, quota: "rate", retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)) };
    return { ok: false, quota: code === 2 ? "documents" : "tokens", retryAfterSeconds: untilMidnight(now) };
  }

  async chargeTokens(key: string, tokens: number): Promise<void> {
    if (tokens <= 0) return;
    const [, , tokensKey] = this.keys(key, utcDay(Date.now()));
    try {
      await this.redis.multi().incrby(tokensKey, tokens).expire(tokensKey, 172800).exec();
      this.events.onRedis(true);
    } catch {
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
