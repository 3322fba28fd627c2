import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { startRedis, type RedisServer } from "./fixtures/redis-server";
import { gatewayStack } from "./gateway-stack";

/**
 * Limits and quotas per key, exact across two gateway processes that share a real redis-server on 127.0.0.1;
 * what each Redis-down policy does; and the in-memory limits of a single replica.
 */
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const KEYS = {
  rate: "rate-key-0123456789abcdef",
  docs: "docs-key-0123456789abcdef",
  tokens: "tokens-key-0123456789abcdef",
};
const keysConfig = {
  "team-rate": { sha256: [sha(KEYS.rate)], limits: { requestsPerSecond: 0.1, burst: 3 } },
  "team-docs": { sha256: [sha(KEYS.docs)], limits: { dailyDocuments: 10 } },
  "team-tokens": { sha256: [sha(KEYS.tokens)], limits: { dailyInputTokens: 30 } },
};

let redis: RedisServer;
let tei: FakeServer;
let rr: FakeServer;
let g1: GatewayProcess;
let g2: GatewayProcess;
let open: GatewayProcess;
let memory: GatewayProcess;

async function start(onDown: "fail-open" | "fail-closed", redisUrl?: string): Promise<GatewayProcess> {
  const stack = writeStack(tempDir(), gatewayStack({ keys: keysConfig, redis: { onDown } }));
  return startGateway([
    "--stack",
    stack,
    `--upstream=emb-tei=${tei.url}`,
    `--upstream=rr-tei=${rr.url}`,
    ...(redisUrl ? ["--redis", redisUrl] : []),
  ]);
}

beforeAll(async () => {
  redis = await startRedis();
  tei = await startFakeServer({ dialect: "tei", servedModel: "emb-tei", dims: 512 });
  rr = await startFakeServer({ dialect: "tei", servedModel: "rr-tei" });
  [g1, g2, open, memory] = await Promise.all([
    start("fail-closed", redis.url),
    start("fail-closed", redis.url),
    start("fail-open", redis.url),
    start("fail-closed"),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([g1, g2, open, memory].filter(Boolean).map((g) => g.stop()));
  await Promise.all([tei?.close(), rr?.close(), redis?.stop()]);
});

const embed = (g: GatewayProcess, key: string) =>
  fetch(`${g.url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "emb-tei", input: "hello", encoding_format: "float" }),
  });
const rerank = (g: GatewayProcess, key: string, n: number) =>
  fetch(`${g.url}/v1/rerank`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "rr-tei", query: "q", documents: Array.from({ length: n }, (_, i) => `doc ${i}`) }),
  });

describe("limits shared in Redis across two gateway processes", () => {
  it("requests/s with burst: 1 + 3 burst requests in total, then 429 with Retry-After, whichever replica", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await embed(i % 2 ? g2 : g1, KEYS.rate)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]);
    const r = await embed(g2, KEYS.rate);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const body = (await r.json()) as any;
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    const metrics = await (await fetch(`${g2.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(
      /retrieval_gateway_quota_rejections_total\{key="team-rate",model="emb-tei",quota="rate"\} 2/,
    );
  });

  it("daily documents: 4 + 4 documents pass on two replicas, the next 4 would exceed 10 and are refused", async () => {
    expect((await rerank(g1, KEYS.docs, 4)).status).toBe(200);
    expect((await rerank(g2, KEYS.docs, 4)).status).toBe(200);
    const r = await rerank(g1, KEYS.docs, 4);
    expect(r.status).toBe(429);
    expect(((await r.json()) as any).error.code).toBe("documents_limit_exceeded");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(r.headers.get("retry-after"))).toBeLessThanOrEqual(86400);
    expect((await rerank(g2, KEYS.docs, 2)).status).toBe(200); // exactly 10
  });

  it("daily input tokens: reserved before the call, settled to the engine's usage; refused when the next would not fit", async () => {
    // Each call reserves its bound (13 for one short input), then settles to the 8 tokens TEI's fake reports:
    // 0 -> 8 -> 16 -> 24; the fourth would need 24 + 13 > 30 and is refused, and the day never exceeds 30.
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await embed(i % 2 ? g2 : g1, KEYS.tokens)).status);
      await new Promise((r) => setTimeout(r, 50)); // the settle of another replica lands
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe("when Redis is down", () => {
  it("fail-closed refuses with 503; fail-open serves, counts it and reports redis_up 0", async () => {
    await redis.stop();
    const closed = await embed(g1, KEYS.docs);
    expect(closed.status).toBe(503);
    expect(((await closed.json()) as any).error.code).toBe("limits_unavailable");
    const served = await embed(open, KEYS.docs);
    expect(served.status).toBe(200);
    const metrics = await (await fetch(`${open.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/retrieval_gateway_limit_fail_open_total 1/);
    expect(metrics).toMatch(/retrieval_gateway_redis_up 0/);
  });
});

describe("a single replica without Redis", () => {
  it("keeps the limits in memory", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await embed(memory, KEYS.rate)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
  });
});
