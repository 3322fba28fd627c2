import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { createHash } from "node:crypto";
import { closedPortUrl, startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { fakeEmbedding } from "./fixtures/fake-model";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { gatewayStack, KEY_A, KEY_B, teiEmbed } from "./gateway-stack";

/**
 * The gateway end to end, as a user starts it (`npm run gateway -- --stack ... --upstream ...`), in front of fake
 * engines that answer like vLLM, TEI, KServe V1/V2, SGLang and Xinference, over real sockets on 127.0.0.1.
 */
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const DOCS = [
  "Scrapy is a web crawling framework for Python.",
  "asyncio with aiohttp runs many HTTP requests concurrently in Python.",
  "Bananas are rich in potassium.",
  "requests is a synchronous HTTP library.",
];
const QUERY = "How do I make many concurrent HTTP requests in Python?";

let gw: GatewayProcess;
const fakes: Record<string, FakeServer> = {};

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY_A}`, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}

beforeAll(async () => {
  const specs: [string, Parameters<typeof startFakeServer>[0]][] = [
    ["emb-vllm", { dialect: "vllm", servedModel: "emb-vllm", dims: 1024 }],
    ["emb-tei", { dialect: "tei", servedModel: "emb-tei", dims: 512 }],
    ["emb-kv1", { dialect: "kserve-v1", servedModel: "emb-kv1", dims: 768 }],
    ["emb-kv2", { dialect: "kserve-v2", servedModel: "emb-kv2", dims: 768 }],
    ["rr-vllm", { dialect: "vllm", servedModel: "rr-vllm" }],
    ["rr-tei", { dialect: "tei", servedModel: "rr-tei" }],
    ["rr-sglang", { dialect: "sglang", servedModel: "rr-sglang" }],
    ["rr-xinf", { dialect: "xinference", servedModel: "rr-xinf" }],
    ["emb-hang", { dialect: "tei", servedModel: "emb-hang", fault: "hang" }],
    ["emb-html", { dialect: "tei", servedModel: "emb-html", fault: "html" }],
  ];
  await Promise.all(specs.map(async ([name, o]) => (fakes[name] = await startFakeServer(o))));
  const dead = await closedPortUrl();
  const dir = tempDir();
  const stack = writeStack(
    dir,
    gatewayStack(
      {
        keys: { "team-a": { sha256: [sha(KEY_A)] } },
        maxInputs: 100,
        maxDocuments: 60,
        maxBodyBytes: 200_000,
        upstreamTimeoutSeconds: 1,
        attempts: 1,
        aliases: {
          reranker: {
            targets: [
              { model: "rr-vllm", weight: 1 },
              { model: "rr-tei", weight: 1 },
            ],
          },
          embedder: { targets: [{ model: "emb-tei" }], dimensions: 512 },
        },
        rerankCache: { "rr-sglang": { maxEntries: 100, ttlSeconds: 60 } },
        playground: false,
      },
      [teiEmbed("emb-down"), teiEmbed("emb-hang"), teiEmbed("emb-html")],
    ),
  );
  gw = await startGateway([
    "--stack",
    stack,
    ...Object.entries(fakes).map(([m, f]) => `--upstream=${m}=${f.url}`),
    `--upstream=emb-down=${dead}`,
    "--api-key",
    KEY_B,
  ]);
}, 90_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

describe("embeddings through the official openai client", () => {
  const client = () => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: KEY_A, maxRetries: 0 });

  it("float vectors of every embedding dialect (vLLM, TEI, KServe V1 :predict, KServe V2 /infer)", async () => {
    for (const [model, dims] of [
      ["emb-vllm", 1024],
      ["emb-tei", 512],
      ["emb-kv1", 768],
      ["emb-kv2", 768],
    ] as const) {
      const r = await client().embeddings.create({ model, input: ["你好", "hello"], encoding_format: "float" });
      expect(r.model).toBe(model);
      expect(r.data.map((d) => d.index)).toEqual([0, 1]);
      expect(r.data[0]!.embedding).toHaveLength(dims);
      expect(r.data[1]!.embedding[3]).toBeCloseTo(fakeEmbedding("hello", dims)[3]!, 6);
    }
    expect(fakes["emb-kv1"]!.log.at(-1)!.path).toBe("/v1/models/emb-kv1:predict");
    expect(fakes["emb-kv2"]!.log.at(-1)!.path).toBe("/v2/models/emb-kv2/infer");
  });

  it("base64 (the client's default): re-encoded from the engine's floats, decoded to full-length vectors", async () => {
    const r = await client().embeddings.create({ model: "emb-tei", input: "hello" });
    expect(r.data[0]!.embedding).toHaveLength(512);
    expect(r.data[0]!.embedding[7]).toBeCloseTo(fakeEmbedding("hello", 512)[7]!, 6);
    const raw = await post("/v1/embeddings", { model: "emb-tei", input: "hello", encoding_format: "base64" });
    expect(typeof raw.json.data[0].embedding).toBe("string");
    expect(Buffer.from(raw.json.data[0].embedding, "base64").readFloatLE(0)).toBeCloseTo(
      fakeEmbedding("hello", 512)[0]!,
      6,
    );
    // TEI's own token count (x-compute-tokens) is the usage.
    expect(raw.json.usage.prompt_tokens).toBe(8);
  });

  it("TEI batching: 70 inputs go as 32 + 32 + 6 and come back in the caller's order", async () => {
    const inputs = Array.from({ length: 70 }, (_, i) => `text ${i}`);
    const before = fakes["emb-tei"]!.log.length;
    const r = await post("/v1/embeddings", { model: "emb-tei", input: inputs, encoding_format: "float" });
    expect(r.status).toBe(200);
    const calls = fakes["emb-tei"]!.log.slice(before).map((l) => (l.body as { input: string[] }).input.length);
    expect(calls.sort((a, b) => b - a)).toEqual([32, 32, 6]);
    expect(r.json.data[69].embedding[0]).toBeCloseTo(fakeEmbedding("text 69", 512)[0]!, 6);
    expect(r.json.usage.prompt_tokens).toBe(70 * 8);
  });

  it("an embedding alias answers with the model behind it", async () => {
    const r = await client().embeddings.create({ model: "embedder", input: "x", encoding_format: "float" });
    expect(r.model).toBe("emb-tei");
  });
});

describe("rerank in every request shape and dialect", () => {
  const check = (json: any, n: number) => {
    const scores = json.results.map((r: any) => r.relevance_score);
    expect([...scores].sort((a: number, b: number) => b - a)).toEqual(scores);
    expect(json.results).toHaveLength(n);
    expect(DOCS[json.results[0].index]).toMatch(/asyncio/);
  };

  it("Cohere v2 shape on /v2/rerank: strings, top_n, no documents unless asked", async () => {
    for (const model of ["rr-vllm", "rr-tei", "rr-sglang", "rr-xinf"]) {
      const r = await post("/v2/rerank", { model, query: QUERY, documents: DOCS, top_n: 2 });
      expect(r.status, r.text).toBe(200);
      check(r.json, 2);
      expect(r.json.model).toBe(model);
      expect(r.json.results[0].document).toBeUndefined();
    }
  });

  it("Jina shape on /v1/rerank: {text} documents, documents returned; vLLM shape on /rerank", async () => {
    const jina = await post("/v1/rerank", {
      model: "rr-xinf",
      query: QUERY,
      documents: DOCS.map((text) => ({ text })),
    });
    check(jina.json, 4);
    expect(jina.json.results[0].document.text).toMatch(/asyncio/);
    expect(jina.json.usage.total_tokens).toBe(40); // Xinference's meta.tokens.input_tokens
    const vllm = await post("/rerank", { model: "rr-vllm", query: QUERY, documents: DOCS, top_n: 0 });
    check(vllm.json, 4);
  });

  it("TEI: 50 documents are split 32 + 18 and merged with the caller's indices", async () => {
    const docs = Array.from({ length: 50 }, (_, i) => (i === 47 ? DOCS[1]! : `filler ${i} about bananas`));
    const before = fakes["rr-tei"]!.log.length;
    const r = await post("/v1/rerank", { model: "rr-tei", query: QUERY, documents: docs, top_n: 3 });
    expect(r.status, r.text).toBe(200);
    expect(fakes["rr-tei"]!.log.slice(before).map((l) => (l.body as { texts: string[] }).texts.length)).toEqual([
      32, 18,
    ]);
    expect(r.json.results[0].index).toBe(47);
    expect(r.json.results[0].document.text).toBe(DOCS[1]);
    expect(r.json.results).toHaveLength(3);
    expect(r.json.usage.total_tokens).toBe(500);
  });

  it("a weighted rerank alias sends traffic to both versions and names what answered", async () => {
    const served = new Set<string>();
    for (let i = 0; i < 30; i++)
      served.add((await post("/v1/rerank", { model: "reranker", query: QUERY, documents: DOCS })).json.model);
    expect([...served].sort()).toEqual(["rr-tei", "rr-vllm"]);
  });

  it("the rerank cache answers a repeated call without the engine", async () => {
    const before = fakes["rr-sglang"]!.log.length;
    const a = await post("/v1/rerank", { model: "rr-sglang", query: "cache me", documents: DOCS, top_n: 1 });
    const b = await post("/v1/rerank", { model: "rr-sglang", query: "cache me", documents: DOCS, top_n: 1 });
    expect(fakes["rr-sglang"]!.log.length - before).toBe(1);
    expect(b.json.results).toEqual(a.json.results);
    const metrics = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/retrieval_gateway_rerank_cache_total\{model="rr-sglang",result="hit"\} 1/);
  });
});

describe("the rerank cache cannot mix two requests", () => {
  it("requests that differ only in where a \\u0000 falls, or in top_n / return_documents, never share an entry", async () => {
    const one = await post("/v1/rerank", { model: "rr-sglang", query: "q\u0000a", documents: ["b"] });
    const two = await post("/v1/rerank", { model: "rr-sglang", query: "q", documents: ["a\u0000b"] });
    const three = await post("/v1/rerank", { model: "rr-sglang", query: "q", documents: ["a", "b"] });
    expect([one.status, two.status, three.status]).toEqual([200, 200, 200]);
    expect(one.json.results.map((r: any) => r.index)).toEqual([0]);
    expect(two.json.results.map((r: any) => r.index)).toEqual([0]);
    expect(three.json.results.map((r: any) => r.index).sort()).toEqual([0, 1]);
    const withDocs = await post("/v1/rerank", { model: "rr-sglang", query: "q", documents: ["a", "b"], top_n: 1 });
    const noDocs = await post("/v2/rerank", { model: "rr-sglang", query: "q", documents: ["a", "b"], top_n: 1 });
    expect(withDocs.json.results).toHaveLength(1);
    expect(withDocs.json.results[0].document).toBeDefined();
    expect(noDocs.json.results[0].document).toBeUndefined();
  });
});

describe("errors: the OpenAI shape and the right status, never an engine page", () => {
  const shape = (json: any) => {
    expect(Object.keys(json)).toEqual(["error"]);
    expect(Object.keys(json.error).sort()).toEqual(["code", "message", "param", "type"]);
  };
  it.each([
    [
      "unknown model (404, lists the models)",
      "/v1/embeddings",
      { model: "nope", input: "x" },
      404,
      /emb-vllm.*rr-xinf/,
    ],
    ["wrong task (400)", "/v1/embeddings", { model: "rr-vllm", input: "x" }, 400, /rerank model/],
    ["wrong task on rerank (400)", "/v1/rerank", { model: "emb-tei", query: "q", documents: ["a"] }, 400, /embedding/],
    [
      "too many inputs (400 naming the limit)",
      "/v1/embeddings",
      { model: "emb-tei", input: Array(101).fill("x") },
      400,
      /at most 100/,
    ],
    [
      "too many documents (400)",
      "/v1/rerank",
      { model: "rr-tei", query: "q", documents: Array(61).fill("d") },
      400,
      /at most 60/,
    ],
    ["malformed JSON (400)", "/v1/embeddings", '{"model": "emb-tei", "input": [', 400, /not valid JSON/],
    [
      "body too large (413)",
      "/v1/embeddings",
      { model: "emb-tei", input: "x".repeat(300_000) },
      413,
      /larger than 200000/,
    ],
    [
      "dimensions on a fixed-size model (400)",
      "/v1/embeddings",
      { model: "emb-tei", input: "x", dimensions: 64 },
      400,
      /Matryoshka/,
    ],
    ["engine down (503)", "/v1/embeddings", { model: "emb-down", input: "x" }, 503, /unavailable/],
    ["engine timeout (504)", "/v1/embeddings", { model: "emb-hang", input: "x" }, 504, /did not answer within 1 s/],
    ["engine HTML error page (503, no HTML)", "/v1/embeddings", { model: "emb-html", input: "x" }, 503, /answered 502/],
  ])("%s", async (_name, path, body, status, message) => {
    const r = await post(path, body);
    expect(r.status).toBe(status);
    shape(r.json);
    expect(r.json.error.message).toMatch(message);
    expect(r.text).not.toMatch(/<html|at .*\.ts:\d+/i);
  });

  it("invalid and missing keys are 401; the second named key works", async () => {
    expect(
      (await post("/v1/embeddings", { model: "emb-tei", input: "x" }, { authorization: "Bearer wrong-key-0000000000" }))
        .status,
    ).toBe(401);
    const none = await fetch(`${gw.url}/v1/models`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as any).error.type).toBe("authentication_error");
    expect(
      (await post("/v1/embeddings", { model: "emb-tei", input: "x" }, { authorization: `Bearer ${KEY_B}` })).status,
    ).toBe(200);
  });
});

describe("models, ids, audit and metrics", () => {
  it("GET /v1/models lists every model with task, dims, max tokens and owner, and the aliases", async () => {
    const r = await fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${KEY_A}` } });
    const body = (await r.json()) as { data: any[] };
    const tei = body.data.find((m) => m.id === "emb-tei");
    expect(tei).toMatchObject({ object: "model", owned_by: "tei", task: "embed", dims: 512, max_tokens: 512 });
    expect(body.data.find((m) => m.id === "reranker")).toMatchObject({ task: "rerank", alias_of: "rr-vllm,rr-tei" });
  });

  it("x-request-id and traceparent reach the engine, come back, and are in the audit line (no texts, no keys)", async () => {
    const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const r = await post(
      "/v1/embeddings",
      { model: "emb-vllm", input: "secret text 42" },
      { "x-request-id": "req-123", traceparent: tp },
    );
    expect(r.headers.get("x-request-id")).toBe("req-123");
    expect(r.headers.get("traceparent")).toBe(tp);
    const generated = await post("/v1/embeddings", { model: "emb-vllm", input: "y" });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    for (let i = 0; i < 50 && !gw.audit().some((l) => l.request_id === "req-123"); i++)
      await new Promise((res) => setTimeout(res, 100));
    const line = gw.audit().find((l) => l.request_id === "req-123")!;
    expect(line).toMatchObject({
      key: "team-a",
      model: "emb-vllm",
      route: "/v1/embeddings",
      status: 200,
      traceparent: tp,
      inputs: 1,
      input_tokens: 8,
    });
    expect(line.latency_ms).toBeGreaterThan(0);
    expect(line.bytes_in).toBeGreaterThan(0);
    expect(gw.stdout()).not.toMatch(/secret text 42|key-a-0123/);
    const engineSaw = fakes["emb-vllm"]!.log.at(-2)!;
    expect(engineSaw.body).toMatchObject({ model: "emb-vllm", input: ["secret text 42"] });
  });

  it("metrics count per key name and model, with bounded labels", async () => {
    await post("/v1/embeddings", { model: `random-${Date.now()}`, input: "x" });
    const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
    expect(text).toMatch(
      /retrieval_gateway_requests_total\{key="team-a",model="emb-tei",route="\/v1\/embeddings",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /retrieval_gateway_requests_total\{key="team-a",model="unknown",route="\/v1\/embeddings",status="404"\}/,
    );
    expect(text).not.toMatch(/random-\d+/);
    expect(text).toMatch(/retrieval_gateway_inputs_total\{key="team-a",model="emb-tei"\} \d+/);
    expect(text).toMatch(/retrieval_gateway_documents_total\{key="team-a",model="rr-tei"\} \d+/);
    expect(text).toMatch(/retrieval_gateway_input_tokens_total\{key="team-a",model="rr-xinf"\} \d+/);
    expect(text).toMatch(
      /retrieval_gateway_request_duration_seconds_bucket\{model="emb-tei",route="\/v1\/embeddings",le="0.05"\}/,
    );
    expect(text).toMatch(
      /retrieval_gateway_upstream_duration_seconds_count\{model="emb-tei",upstream="http:\/\/127.0.0.1:\d+"\}/,
    );
    expect(text).toMatch(/retrieval_gateway_breaker_state\{model="emb-vllm"\} 0/);
  });

  it("with the playground off, /playground is a plain 404 (no stand-in page)", async () => {
    const r = await fetch(`${gw.url}/playground`);
    expect(r.status).toBe(404);
  });
});
