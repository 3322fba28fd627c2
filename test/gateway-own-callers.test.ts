import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import { verificationLimits } from "../components/gateway/internal-keys";
import { Gateway } from "../images/gateway/src/server";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";

/**
 * The stack's own callers through a real gateway on 127.0.0.1 and a fake TEI engine: the post-deploy verification
 * at prod's settings (200 requests, 8 at once) with its own internal key is never refused and spends no customer
 * quota; the same run with a customer key trips the default 50 req/s limit, as it did in prod. A scoped key
 * calls only its models.
 */
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const CUSTOMER = "customer-key-0123456789abcdef";
const VERIFY = "verify-key-0123456789abcdef";
const SCOPED = "scoped-key-0123456789abcdef";
const PROD = { requests: 200, concurrency: 8 };

let engine: FakeServer;
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  engine = await startFakeServer({ dialect: "tei", servedModel: "emb", dims: 512 });
  const config = RuntimeConfigSchema.parse({
    models: [
      {
        name: "emb",
        task: "embed",
        dialect: "tei",
        upstreams: [engine.url],
        dims: 512,
        maxTokens: 512,
        ownedBy: "tei",
      },
      {
        name: "emb2",
        task: "embed",
        dialect: "tei",
        upstreams: [engine.url],
        dims: 512,
        maxTokens: 512,
        ownedBy: "tei",
      },
    ],
    keys: [
      { name: "api-key-1", sha256: [sha(CUSTOMER)] },
      { name: "verification", sha256: [sha(VERIFY)], internal: true, limits: verificationLimits(PROD) },
      { name: "team-scoped", sha256: [sha(SCOPED)], models: ["emb2"] },
    ],
    // The defaults, plus a daily document quota smaller than the verification run, which it must neither hit nor spend.
    limits: { requestsPerSecond: 50, burst: 100, dailyDocuments: 150 },
    redis: { onDown: "fail-open" },
    maxBodyBytes: 1 << 20,
    maxInputs: 64,
    maxDocuments: 64,
    upstreamTimeoutMs: 5000,
    attempts: 2,
    breaker: { failures: 5, cooldownMs: 1000 },
    metricsPort: 0,
  });
  gateway = new Gateway({ config, audit: () => {}, log: () => {} });
  url = `http://127.0.0.1:${await gateway.listen(0)}`;
}, 30_000);

afterAll(async () => {
  await gateway?.shutdown();
  await engine?.close();
});

const embed = (key: string, model = "emb") =>
  fetch(`${url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, input: "hello" }),
  }).then(async (r) => {
    await r.arrayBuffer();
    return r.status;
  });

/** The verification's latency run: `requests` calls, `concurrency` at once, as fast as the gateway answers. */
async function run(key: string): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  await Promise.all(
    Array.from({ length: PROD.concurrency }, async () => {
      while (next++ < PROD.requests) {
        const s = await embed(key);
        statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}

describe("our own callers", () => {
  it("the verification's own key runs prod's 200 requests at 8 at once without a 429, and spends no customer quota", async () => {
    const own = await run(VERIFY);
    expect(Object.fromEntries(own)).toEqual({ 200: PROD.requests });
    // The customer's key still has its whole day: its 150 documents a day (fewer than the run above) were not touched by the run above.
    expect(await embed(CUSTOMER)).toBe(200);
  });

  it("the same run with a customer key trips the default 50 req/s limit (what prod's first deploy hit)", async () => {
    const customer = await run(CUSTOMER);
    // Burst 100 + 1, then 50/s: the rest of a fast run is refused (rate refusals or the day's 150 documents).
    expect(customer.get(429) ?? 0).toBeGreaterThan(0);
  });

  it("a key scoped to some models calls those; the others answer 404 as if absent", async () => {
    expect(await embed(SCOPED, "emb2")).toBe(200);
    expect(await embed(SCOPED, "emb")).toBe(404);
  });
});
