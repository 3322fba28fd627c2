import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { Redis } from "ioredis";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { startRedis, type RedisServer } from "./fixtures/redis-server";
import { gatewayStack, teiEmbed } from "./gateway-stack";

/**
 * Quotas and usage that add up (issue #21): 50 concurrent callers on two gateway processes sharing a real
 * redis-server; requests that are not served are not charged; usage metrics and audit lines count exactly the
 * requests served.
 */
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const TOKENS_KEY = "quota-tokens-0123456789abcdef";
const DOCS_KEY = "quota-docs-0123456789abcdef";
const FREE_KEY = "quota-free-0123456789abcdef";
const day = () => Math.floor(Date.now() / 86_400_000);

let redis: RedisServer;
let client: Redis;
const fakes: Record<string, FakeServer> = {};
let g1: GatewayProcess;
let g2: GatewayProcess;

beforeAll(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  fakes["emb-tei"] = await startFakeServer({ dialect: "tei", servedModel: "emb-tei", dims: 512 });
  fakes["rr-tei"] = await startFakeServer({ dialect: "tei", servedModel: "rr-tei" });
  fakes["e-5xx"] = await startFakeServer({ dialect: "tei", servedModel: "e-5xx", fault: "5xx" });
  fakes["e-400"] = await startFakeServer({ dialect: "tei", servedModel: "e-400", fault: "400-internal" });
  const stack = writeStack(
    tempDir(),
    gatewayStack(
      {
        keys: {
          "team-tokens": { sha256: [sha(TOKENS_KEY)], limits: { dailyInputTokens: 100, burst: 1000 } },
          "team-docs": { sha256: [sha(DOCS_KEY)], limits: { dailyDocuments: 100, burst: 1000 } },
          "team-free": { sha256: [sha(FREE_KEY)], limits: { dailyDocuments: 1000, burst: 1000 } },
        },
        attempts: 1,
        breaker: { failures: 2, cooldownSeconds: 60 },
      },
      [teiEmbed("e-5xx"), teiEmbed("e-400")],
    ),
  );
  const upstreams = Object.entries(fakes).map(([n, f]) => `--upstream=${n}=${f.url}`);
  [g1, g2] = await Promise.all([
    startGateway(["--stack", stack, ...upstreams, "--redis", redis.url]),
    startGateway(["--stack", stack, ...upstreams, "--redis", redis.url]),
  ]);
}, 90_000);

afterAll(async () => {
  await Promise.all([g1, g2].filter(Boolean).map((g) => g.stop()));
  client?.disconnect();
  await Promise.all([...Object.values(fakes).map((f) => f.close()), redis?.stop()]);
});

const post = (g: GatewayProcess, path: string, key: string, body: unknown) =>
  fetch(`${g.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify(body),
  });
const counter = async (key: string, what: "tokens" | "documents") =>
  Number((await client.get(`retrieval-gateway:{${key}}:${what}:${day()}`)) ?? 0);
const settled = () => new Promise((r) => setTimeout(r, 300));

describe("daily quotas under concurrency", () => {
  it("50 concurrent embedding calls against 100 tokens: the day never exceeds 100, and counts what was served", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post(i % 2 ? g2 : g1, "/v1/embeddings", TOKENS_KEY, { model: "emb-tei", input: "hello" }).then((r) => r.status),
      ),
    );
    const served = statuses.filter((s) => s === 200).length;
    expect(statuses.filter((s) => s !== 200 && s !== 429)).toEqual([]);
    await settled();
    // TEI's fake reports 8 tokens per input; each call reserved its bound (13) first.
    expect(served * 8).toBeLessThanOrEqual(100);
    expect(served).toBeGreaterThanOrEqual(7); // 100 / 13: at least the calls whose bounds fit at once
    expect(await counter("team-tokens", "tokens")).toBe(served * 8);
  });

  it("50 concurrent reranks of 3 documents against 100 documents: at most 33 served, the counter exact", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post(i % 2 ? g2 : g1, "/v1/rerank", DOCS_KEY, { model: "rr-tei", query: "q", documents: ["a", "b", "c"] }).then(
          (r) => r.status,
        ),
      ),
    );
    const served = statuses.filter((s) => s === 200).length;
    expect(served).toBe(33);
    await settled();
    expect(await counter("team-docs", "documents")).toBe(99);
  });
});

describe("a request that is not served is not charged", () => {
  it("engine 5xx, open breaker, engine 400 and the gateway's own 400 leave the day's documents as they were", async () => {
    const before = await counter("team-free", "documents");
    const codes: string[] = [];
    for (const [model, extra] of [
      ["e-5xx", {}],
      ["e-5xx", {}],
      ["e-5xx", {}], // the breaker is open now: circuit_open
      ["e-400", {}],
      ["emb-tei", { dimensions: 3 }], // the gateway's own 400
    ] as const) {
      const r = await post(g1, "/v1/embeddings", FREE_KEY, { model, input: ["a", "b", "c", "d", "e"], ...extra });
      codes.push(((await r.json()) as any).error.code);
    }
    expect(codes).toEqual([
      "upstream_unavailable",
      "upstream_unavailable",
      "circuit_open",
      "upstream_rejected",
      "invalid_request",
    ]);
    await settled();
    expect(await counter("team-free", "documents")).toBe(before);
    expect((await post(g1, "/v1/embeddings", FREE_KEY, { model: "emb-tei", input: ["a", "b"] })).status).toBe(200);
    await settled();
    expect(await counter("team-free", "documents")).toBe(before + 2);
  });

  it("usage metrics and audit lines count exactly the requests served", async () => {
    const served = async (g: GatewayProcess) => {
      const text = await (await fetch(`${g.metricsUrl}/metrics`)).text();
      const m = /retrieval_gateway_documents_total\{key="team-docs",model="rr-tei"\} (\d+)/.exec(text);
      return Number(m?.[1] ?? 0);
    };
    expect((await served(g1)) + (await served(g2))).toBe(99);
    for (let i = 0; i < 30 && g1.audit().length + g2.audit().length < 100; i++) await settled();
    const lines = [...g1.audit(), ...g2.audit()].filter((l) => l.key === "team-docs");
    expect(lines.filter((l) => l.status === 200).reduce((s, l) => s + (l.documents ?? 0), 0)).toBe(99);
    expect(lines.filter((l) => l.status !== 200).every((l) => l.documents === undefined)).toBe(true);
  });
});
