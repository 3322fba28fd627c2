import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisLimiter } from "../images/gateway/src/limits";
import { FallbackLimiter, replicaShare } from "../images/gateway/src/store-fallback";
import { startRedis, type RedisServer } from "./fixtures/redis-server";

/**
 * Limits when the shared store goes away (fail-open, the default): a real redis-server on 127.0.0.1 is stopped
 * under a FallbackLimiter, which then limits in memory at the configured rate divided by the replicas, says so
 * (events -> metric, log) and goes back to the store when it returns.
 */
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
}, 30_000);
afterAll(async () => {
  await redis?.stop();
});

const limits = { requestsPerSecond: 0.01, burst: 5 };
const none = { documents: 0, tokens: 0 };

describe("a store outage with onDown fail-open", () => {
  it("one replica's share: rate / replicas and (burst + 1) / replicas requests at once", () => {
    expect(replicaShare({ requestsPerSecond: 50, burst: 100, dailyInputTokens: 1000 }, 4)).toEqual({
      requestsPerSecond: 12.5,
      burst: 24,
      dailyInputTokens: 250,
    });
    expect(replicaShare(limits, 1)).toEqual(limits);
  });

  it("falls back to per-replica memory limits, raises the signal, and returns to the store when it is back", async () => {
    const events: string[] = [];
    const store = new RedisLimiter(redis.url, { onRedis: () => {} }, `t${Date.now()}`);
    const limiter = new FallbackLimiter(store, 2, {
      onFallback: (a) => events.push(a ? "fallback" : "store"),
      onFallbackAdmit: () => events.push("admit-from-memory"),
    });
    try {
      await new Promise((r) => setTimeout(r, 200)); // ioredis connects
      // Store up: the key's 6 requests (1 + burst 5) are shared by the fleet.
      const up = [];
      for (let i = 0; i < 7; i++) up.push((await limiter.admit("team-a", limits, none)).ok);
      expect(up).toEqual([true, true, true, true, true, true, false]);
      expect(limiter.fallingBack).toBe(false);

      await redis.stop();
      // Store down: not everything (fail-closed) and not nothing (unlimited), but this replica's half of the
      // key's limits: (5 + 1) / 2 = 3 requests, then refused with a Retry-After.
      const down = [];
      for (let i = 0; i < 5; i++) down.push(await limiter.admit("team-b", limits, none));
      expect(down.map((a) => a.ok)).toEqual([true, true, true, false, false]);
      const refused = down[3]!;
      expect(refused.ok === false && refused.quota).toBe("rate");
      expect(limiter.fallingBack).toBe(true);
      expect(events.slice(0, 2)).toEqual(["fallback", "admit-from-memory"]);

      redis = await startRedis(redis.port);
      let back = false;
      for (let i = 0; i < 50 && !back; i++) {
        await new Promise((r) => setTimeout(r, 100));
        await limiter.admit("team-c", { requestsPerSecond: 100, burst: 100 }, none);
        back = !limiter.fallingBack;
      }
      expect(back).toBe(true);
      expect(events.at(-1)).toBe("store");
    } finally {
      await limiter.close();
    }
  }, 30_000);
});
