import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import type { AuditLine } from "../images/gateway/src/audit";
import { Gateway } from "../images/gateway/src/server";
import { sha256Hex } from "../images/gateway/src/auth";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";

/**
 * A property-based fuzz of the HTTP API (fast-check, bounded in runs and time): random and hostile bodies,
 * headers, routes and model names never produce a 5xx from the gateway itself, a crash, an unbounded log or
 * audit line, or a 200 with an invalid answer. The gateway runs in this process (its audit lines and log are
 * captured) in front of fake TEI engines that answer correctly.
 */
const KEY = "fuzz-key-0123456789abcdef";
const DIMS = 512;
let gw: Gateway;
let url: string;
let tei: FakeServer;
let rr: FakeServer;
const audit: string[] = [];
const logs: string[] = [];

beforeAll(async () => {
  tei = await startFakeServer({ dialect: "tei", servedModel: "emb", dims: DIMS });
  rr = await startFakeServer({ dialect: "tei", servedModel: "rr" });
  const config = RuntimeConfigSchema.parse({
    models: [
      { name: "emb", task: "embed", dialect: "tei", upstreams: [tei.url], dims: DIMS, maxTokens: 512, ownedBy: "tei" },
      { name: "rr", task: "rerank", dialect: "tei", upstreams: [rr.url], maxTokens: 512, ownedBy: "tei" },
    ],
    keys: [{ name: "fuzz", sha256: [sha256Hex(KEY)] }],
    limits: { requestsPerSecond: 100000, burst: 100000 },
    redis: { onDown: "fail-closed" },
    maxBodyBytes: 1024 * 1024,
    maxInputs: 32,
    maxDocuments: 32,
    upstreamTimeoutMs: 5000,
    attempts: 1,
    breaker: { failures: 1000, cooldownMs: 1000 },
    metricsPort: 0,
  });
  gw = new Gateway({
    config,
    audit: (l: AuditLine) => audit.push(JSON.stringify(l)),
    log: (m) => logs.push(m),
  });
  url = `http://127.0.0.1:${await gw.listen(0)}`;
});

afterAll(async () => {
  await gw?.shutdown();
  await Promise.all([tei?.close(), rr?.close()]);
});

const printable = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 200,
});
const hostileText = fc.oneof(
  fc.string({ maxLength: 50 }),
  fc.string({ unit: "grapheme", maxLength: 50 }),
  fc.constantFrom("\u0000", "\u202e", "a\u0000b", "%s%n", "../../etc/passwd", "<script>x</script>"),
  fc.nat({ max: 20000 }).map((n) => "m".repeat(n)),
);
const model = fc.oneof(fc.constantFrom("emb", "rr", "nope", ""), hostileText);
const texts = fc.oneof(hostileText, fc.array(hostileText, { maxLength: 40 }), fc.jsonValue({ maxDepth: 4 }));
const body = fc.oneof(
  fc
    .record(
      {
        model,
        input: texts,
        encoding_format: fc.constantFrom("float", "base64", "x", undefined),
        dimensions: fc.oneof(fc.constant(undefined), fc.integer({ min: -5, max: 4096 }), fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    )
    .map((x) => JSON.stringify(x)),
  fc
    .record(
      {
        model,
        query: hostileText,
        documents: fc.oneof(texts, fc.array(fc.record({ text: hostileText }), { maxLength: 40 })),
        top_n: fc.oneof(fc.integer({ min: -3, max: 100 }), fc.jsonValue({ maxDepth: 1 })),
        return_documents: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    )
    .map((x) => JSON.stringify(x)),
  fc.jsonValue({ maxDepth: 6 }).map((x) => JSON.stringify(x) ?? "null"),
  fc.nat({ max: 3000 }).map((n) => "[".repeat(n)),
  fc.string({ maxLength: 300 }),
);
/** Requests that should be served: the right route, model and key, with hostile texts. */
const valid = fc.oneof(
  fc.record({
    method: fc.constant("POST"),
    path: fc.constant("/v1/embeddings"),
    auth: fc.constant(`Bearer ${KEY}`),
    contentType: fc.constant("application/json"),
    body: fc
      .record({
        model: fc.constant("emb"),
        input: fc.oneof(hostileText, fc.array(hostileText, { minLength: 1, maxLength: 32 })),
        encoding_format: fc.constantFrom("float", "base64"),
      })
      .map((x) => JSON.stringify(x)),
  }),
  fc.record({
    method: fc.constant("POST"),
    path: fc.constantFrom("/v1/rerank", "/v2/rerank", "/rerank"),
    auth: fc.constant(`Bearer ${KEY}`),
    contentType: fc.constant("application/json"),
    body: fc
      .record(
        {
          model: fc.constant("rr"),
          query: hostileText.filter((q) => q.length > 0),
          documents: fc.array(fc.oneof(hostileText, fc.record({ text: hostileText })), { minLength: 1, maxLength: 32 }),
          top_n: fc.integer({ min: 0, max: 40 }),
          return_documents: fc.boolean(),
        },
        { requiredKeys: ["model", "query", "documents"] },
      )
      .map((x) => JSON.stringify(x)),
  }),
);
const random = fc.record({
  method: fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "DELETE"),
  path: fc.oneof(
    fc.constantFrom("/v1/embeddings", "/v1/rerank", "/v2/rerank", "/rerank", "/v1/models"),
    printable.map((p) => `/${p}`),
  ),
  auth: fc.oneof(
    fc.constant(`Bearer ${KEY}`),
    fc.constant(undefined),
    printable,
    printable.map((p) => `Bearer ${p}`),
  ),
  contentType: fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded"),
  body,
});
const request = fc.oneof({ arbitrary: valid, weight: 2 }, { arbitrary: random, weight: 3 });

/** What a 200 must be: a valid answer for the request it answers. */
function checkAnswer(path: string, sent: string, answer: any): void {
  const req = JSON.parse(sent);
  if (path === "/v1/embeddings") {
    const n = typeof req.input === "string" ? 1 : req.input.length;
    expect(answer.data).toHaveLength(n);
    answer.data.forEach((d: any, i: number) => {
      expect(d.index).toBe(i);
      if (typeof d.embedding === "string")
        expect(Buffer.from(d.embedding, "base64").length).toBe((req.dimensions ?? DIMS) * 4);
      else {
        expect(d.embedding).toHaveLength(req.dimensions ?? DIMS);
        expect(d.embedding.every(Number.isFinite)).toBe(true);
      }
    });
  } else if (path !== "/v1/models") {
    const docs = req.documents.length;
    const indices = answer.results.map((r: any) => r.index);
    expect(new Set(indices).size).toBe(indices.length);
    expect(indices.every((i: number) => Number.isInteger(i) && i >= 0 && i < docs)).toBe(true);
    expect(answer.results.every((r: any) => Number.isFinite(r.relevance_score))).toBe(true);
    expect(answer.results.length).toBeLessThanOrEqual(docs);
  }
}

describe("fuzz: the HTTP API under random and hostile input", () => {
  it("never a 5xx of its own, a crash, an unbounded line, or a 200 with an invalid answer", async () => {
    let served = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { "content-type": r.contentType };
        if (r.auth !== undefined) headers.authorization = r.auth;
        const res = await fetch(`${url}${r.path}`, {
          method: r.method,
          headers,
          ...(r.method === "GET" ? {} : { body: r.body }),
        });
        const text = await res.text();
        expect(res.status, `${r.method} ${r.path}: ${text.slice(0, 300)}`).toBeLessThan(500);
        expect(text.length).toBeLessThan(r.method === "GET" ? 100_000 : 2_000_000);
        if (res.status === 200 && r.method === "POST") {
          served++;
          checkAnswer(r.path, r.body, JSON.parse(text));
        }
      }),
      {
        numRuns: Number(process.env.FUZZ_RUNS ?? 300),
        interruptAfterTimeLimit: 40_000,
        seed: Number(process.env.FUZZ_SEED ?? Date.now() % 100000),
      },
    );
    expect(served).toBeGreaterThan(0); // the generators reach the engines, not only the refusals
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    for (const line of audit) expect(line.length).toBeLessThanOrEqual(4096);
    for (const line of logs) expect(line.length).toBeLessThan(2000);
  }, 60_000);
});
