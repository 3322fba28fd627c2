import { afterAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import {
  DialectError,
  DIALECTS,
  kserveDialect,
  kserveV1Dialect,
  kserveV2Dialect,
  openaiDialect,
  sglangDialect,
  teiDialect,
  teiNativeDialect,
  vllmDialect,
  xinferenceDialect,
} from "../components/serving/dialects";
import { ENGINE_ADAPTERS } from "../components/serving/engines";
import { routeTable } from "../components/ingress/routes";
import { sampleBody } from "../plan/summary-ingress";
import { IngressSchema } from "../components/config";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { parseModel } from "./fixtures/serving";

// Bodies below are the engines' documented shapes (docs/engines.md), quirks included.
const embedReq = { model: "bge", inputs: ["a", "b"] };
const rerankReq = { model: "rr", query: "q", documents: ["d0", "d1", "d2"] };
const openaiBody = {
  id: "embd-1",
  object: "list",
  created: 1,
  model: "bge",
  data: [
    { index: 1, object: "embedding", embedding: [0, 1] },
    { index: 0, object: "embedding", embedding: [1, 0] },
  ],
  usage: { prompt_tokens: 2, total_tokens: 2, completion_tokens: 0, prompt_tokens_details: null },
};

function dialectError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DialectError);
    return (e as Error).message;
  }
  throw new Error("expected a DialectError");
}

describe("request builders", () => {
  it("vLLM embeddings: OpenAI body with float encoding, dimensions only when set", () => {
    expect(vllmDialect.embed!.path("bge")).toBe("/v1/embeddings");
    expect(vllmDialect.embed!.build(embedReq)).toEqual({ model: "bge", input: ["a", "b"], encoding_format: "float" });
    expect(vllmDialect.embed!.build({ ...embedReq, dimensions: 256 })).toMatchObject({ dimensions: 256 });
  });

  it("vLLM rerank sends top_n only when asked", () => {
    expect(vllmDialect.rerank!.build(rerankReq)).toEqual({ model: "rr", query: "q", documents: ["d0", "d1", "d2"] });
    expect(vllmDialect.rerank!.build({ ...rerankReq, topN: 2 })).toMatchObject({ top_n: 2 });
  });

  it("TEI embeds through its OpenAI route /v1/embeddings; rerank stays native: /rerank with texts, no top_n", () => {
    expect(teiDialect.embed!.path("x")).toBe("/v1/embeddings");
    expect(teiDialect.embed!.openaiBasePath).toBe("/v1");
    expect(teiDialect.embed!.build(embedReq)).toEqual({ model: "bge", input: ["a", "b"], encoding_format: "float" });
    expect(teiDialect.rerank!.path("x")).toBe("/rerank");
    expect(teiDialect.rerank!.build({ ...rerankReq, topN: 1 })).toEqual({
      query: "q",
      texts: ["d0", "d1", "d2"],
      raw_scores: false,
      return_text: false,
    });
    expect(teiDialect.rerankHonoursTopN).toBe(false);
  });

  it("tei-native keeps TEI's own /embed with inputs (a separate dialect, same rerank)", () => {
    expect(teiNativeDialect.embed!.path("x")).toBe("/embed");
    expect(teiNativeDialect.embed!.openaiBasePath).toBeUndefined();
    expect(teiNativeDialect.embed!.build(embedReq)).toEqual({ inputs: ["a", "b"], normalize: true });
    expect(teiNativeDialect.rerank).toBe(teiDialect.rerank);
    expect(DIALECTS["tei-native"]).toBe(teiNativeDialect);
  });

  it("KServe: OpenAI routes under /openai/v1, V1 :predict with instances, V2 infer with a BYTES tensor", () => {
    expect(kserveDialect.embed!.path("bge")).toBe("/openai/v1/embeddings");
    expect(kserveDialect.embed!.openaiBasePath).toBe("/openai/v1");
    expect(kserveDialect.rerank!.path("rr")).toBe("/openai/v1/rerank");
    expect(kserveV1Dialect.embed!.path("bge")).toBe("/v1/models/bge:predict");
    expect(kserveV1Dialect.embed!.build(embedReq)).toEqual({ instances: ["a", "b"] });
    expect(kserveV2Dialect.embed!.path("bge")).toBe("/v2/models/bge/infer");
    expect(kserveV2Dialect.embed!.build(embedReq)).toEqual({
      inputs: [{ name: "input-0", shape: [2], datatype: "BYTES", data: ["a", "b"] }],
    });
    expect(kserveV2Dialect.healthPath("bge")).toBe("/v2/health/ready");
  });

  it("every dialect is registered under its own name", () => {
    for (const [name, d] of Object.entries(DIALECTS)) expect(d.name).toBe(name);
    expect(Object.keys(DIALECTS)).toEqual(
      expect.arrayContaining(["vllm", "sglang", "tei", "kserve", "kserve-v1", "kserve-v2", "xinference", "openai"]),
    );
  });
});

describe("response parsers", () => {
  it("OpenAI embeddings come back in index order, whatever the server's order", () => {
    expect(vllmDialect.embed!.parse(openaiBody, embedReq)).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it('KServe HF backend\'s top-level object "embedding" is accepted', () => {
    expect(kserveDialect.embed!.parse({ ...openaiBody, object: "embedding" }, embedReq)).toHaveLength(2);
  });

  it("TEI's OpenAI body (no id/created, usage without completion tokens) reads in index order", () => {
    const tei = {
      object: "list",
      data: [
        { object: "embedding", embedding: [0, 1], index: 1 },
        { object: "embedding", embedding: [1, 0], index: 0 },
      ],
      model: "BAAI/bge-small-zh-v1.5",
      usage: { prompt_tokens: 4, total_tokens: 4 },
    };
    expect(teiDialect.embed!.parse(tei, embedReq)).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it("TEI /embed bare [[...]] (tei-native) and KServe V1 predictions", () => {
    expect(
      teiNativeDialect.embed!.parse(
        [
          [1, 2],
          [3, 4],
        ],
        embedReq,
      ),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(
      kserveV1Dialect.embed!.parse(
        {
          predictions: [
            [1, 2],
            [3, 4],
          ],
        },
        embedReq,
      ),
    ).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it("KServe V2 reshapes the flat row-major tensor by its shape", () => {
    const body = {
      model_name: "bge",
      outputs: [{ name: "output-0", shape: [2, 3], datatype: "FP64", data: [1, 2, 3, 4, 5, 6] }],
    };
    expect(kserveV2Dialect.embed!.parse(body, embedReq)).toEqual([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const bad = { outputs: [{ name: "output-0", shape: [2, 3], datatype: "FP32", data: [1, 2, 3] }] };
    expect(dialectError(() => kserveV2Dialect.embed!.parse(bad, embedReq))).toMatch(
      /expected 2×3 = 6 numbers.*got a list of 3/,
    );
  });

  it("vLLM rerank: results with relevance_score and document {text}", () => {
    const body = {
      id: "rerank-1",
      model: "rr",
      usage: { total_tokens: 9 },
      results: [
        { index: 1, document: { text: "d1" }, relevance_score: 0.9 },
        { index: 0, document: { text: "d0" }, relevance_score: 0.1 },
      ],
    };
    expect(vllmDialect.rerank!.parse(body, rerankReq)).toEqual([
      { index: 1, score: 0.9 },
      { index: 0, score: 0.1 },
    ]);
  });

  it("SGLang rerank: a bare list with score and a string document", () => {
    const body = [
      { score: 0.99, document: "d2", index: 2 },
      { score: 0.2, document: "d0", index: 0 },
    ];
    expect(sglangDialect.rerank!.parse(body, rerankReq)).toEqual([
      { index: 2, score: 0.99 },
      { index: 0, score: 0.2 },
    ]);
  });

  it("TEI rerank: bare list with score, text optional", () => {
    expect(
      teiDialect.rerank!.parse(
        [
          { index: 0, score: 0.7, text: "d0" },
          { index: 1, score: 0.3 },
        ],
        rerankReq,
      ),
    ).toEqual([
      { index: 0, score: 0.7 },
      { index: 1, score: 0.3 },
    ]);
  });

  it("Xinference rerank: document as {text}, as a string or null", () => {
    const body = {
      id: "x",
      results: [
        { index: 0, relevance_score: 0.8, document: { text: "d0" } },
        { index: 1, relevance_score: 0.5, document: "d1" },
        { index: 2, relevance_score: 0.1, document: null },
      ],
      meta: { api_version: null, billed_units: null, tokens: null, warnings: null },
    };
    expect(xinferenceDialect.rerank!.parse(body, rerankReq).map((r) => r.index)).toEqual([0, 1, 2]);
  });

  it("KServe rerank: document as a string with relevance_score", () => {
    const body = { id: "k", results: [{ index: 0, document: "d0", relevance_score: 0.4 }] };
    expect(kserveDialect.rerank!.parse(body, rerankReq)).toEqual([{ index: 0, score: 0.4 }]);
  });
});

describe("parser errors say what was expected and what came back", () => {
  it("a Cohere body given to the SGLang parser names the wrong dialect", () => {
    const msg = dialectError(() => sglangDialect.rerank!.parse({ results: [] }, rerankReq));
    expect(msg).toContain("expected a bare list [{index, score}]");
    expect(msg).toContain("wrong dialect");
  });

  it("an SGLang body given to the vLLM parser names the wrong dialect", () => {
    const msg = dialectError(() => vllmDialect.rerank!.parse([{ score: 1, index: 0, document: "d" }], rerankReq));
    expect(msg).toMatch(/expected an object \{"results".*got a list of 1.*SGLang\/TEI shape/);
  });

  it("relevance_score vs score is called out", () => {
    const msg = dialectError(() => vllmDialect.rerank!.parse({ results: [{ index: 0, score: 0.5 }] }, rerankReq));
    expect(msg).toBe(
      '/v1/rerank.results[0].relevance_score: expected a number, got nothing (field absent) (this body uses "score": wrong dialect?)',
    );
  });

  it("null inside a vector (NaN serialised by orjson) is located", () => {
    const body = { data: [{ index: 0, embedding: [0.1, null, 0.3] }] };
    expect(dialectError(() => openaiDialect.embed!.parse(body, embedReq))).toBe(
      "/v1/embeddings.data[0].embedding[1]: expected a number, got null",
    );
  });

  it("an HTML page or a string is not a body", () => {
    expect(dialectError(() => teiNativeDialect.embed!.parse("<html>502</html>", embedReq))).toMatch(
      /expected a list of vectors.*got the string "<html>502<\/html>"/,
    );
    expect(dialectError(() => teiDialect.embed!.parse([[1, 2]], embedReq))).toMatch(
      /^\/v1\/embeddings: expected an OpenAI embeddings object.*got a list of 1/,
    );
  });

  it("a non-integer index is refused", () => {
    expect(dialectError(() => teiDialect.rerank!.parse([{ index: "0", score: 1 }], rerankReq))).toMatch(
      /index: expected an integer index, got the string "0"/,
    );
  });

  it("KServe health: 200 with ready=false is not healthy", () => {
    expect(dialectError(() => kserveDialect.parseHealth!({ name: "bge", ready: false }, "bge"))).toMatch(
      /expected "ready": true, got false/,
    );
    expect(() => kserveDialect.parseHealth!({ name: "bge", ready: true }, "bge")).not.toThrow();
  });

  it("Xinference health: the server is up but the model uid is not launched", () => {
    const body = { object: "list", data: [{ id: "other-model", object: "model" }] };
    expect(dialectError(() => xinferenceDialect.parseHealth!(body, "bge"))).toBe(
      '/v1/models: expected the model uid "bge" to be launched, got [other-model]',
    );
    expect(() => xinferenceDialect.parseHealth!({ bge: { model_type: "embedding" } }, "bge")).not.toThrow();
  });
});

describe("one OpenAI embeddings API for every engine at the public route", () => {
  const servers: FakeServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((x) => x.close()));
  });
  const embedModels = Object.values(ENGINE_ADAPTERS).map((a) =>
    parseModel({
      name: `${a.name}-embed`,
      model: "BAAI/bge-small-zh-v1.5",
      engine: a.name,
      task: "embed",
      replicas: { min: 1, max: 1 },
      slo: { p99LatencyMs: 500 },
    }),
  );

  it("every engine's embed route is the OpenAI one: /models/<name>/v1/embeddings -> <openaiBasePath>/embeddings", () => {
    const routes = routeTable(embedModels, IngressSchema.parse({}));
    expect(routes).toHaveLength(Object.keys(ENGINE_ADAPTERS).length);
    for (const r of routes) {
      const embed = ENGINE_ADAPTERS[embedModels.find((m) => m.name === r.model)!.engine].dialect.embed!;
      expect(r.publicPath).toBe(`/models/${r.model}/v1/embeddings`);
      expect(embed.openaiBasePath, r.model).toBeDefined();
      expect(r.enginePath).toBe(`${embed.openaiBasePath}/embeddings`);
    }
    expect(routes.find((r) => r.model === "tei-embed")!.enginePath).toBe("/v1/embeddings");
  });

  it("plan.md's sample calls: TEI embed sends the OpenAI body, TEI rerank keeps texts", () => {
    const tei = (task: "embed" | "rerank") =>
      parseModel({
        name: `bge-${task}`,
        model: task === "embed" ? "BAAI/bge-small-zh-v1.5" : "BAAI/bge-reranker-base",
        engine: "tei",
        task,
        replicas: { min: 1, max: 1 },
        slo: { p99LatencyMs: 500 },
      });
    expect(sampleBody(tei("embed"))).toEqual({
      model: "bge-embed",
      input: ["What is retrieval-augmented generation?"],
      encoding_format: "float",
    });
    expect(sampleBody(tei("rerank"))).toMatchObject({ query: "What is asyncio?", texts: expect.any(Array) });
  });

  it.each(["vllm", "sglang", "tei", "kserve", "xinference"] as const)(
    "the official openai client embeds against a %s server at its openaiBasePath",
    async (engine) => {
      const server = await startFakeServer({ dialect: engine, servedModel: `${engine}-embed`, dims: 512 });
      servers.push(server);
      const base = ENGINE_ADAPTERS[engine].dialect.embed!.openaiBasePath!;
      const client = new OpenAI({ baseURL: `${server.url}${base}`, apiKey: "unused", maxRetries: 0, timeout: 5000 });
      const res = await client.embeddings.create({
        model: `${engine}-embed`,
        input: ["今天天气怎么样?", "机器学习算法原理"],
        encoding_format: "float",
      });
      expect(res.data.map((d) => [d.index, d.embedding.length])).toEqual([
        [0, 512],
        [1, 512],
      ]);
      expect(server.log.map((l) => `${l.method} ${l.path}`)).toEqual([`POST ${base}/embeddings`]);
    },
  );

  it("the fake TEI answers both embedding routes as TEI does, batch limit included", async () => {
    const server = await startFakeServer({ dialect: "tei", dims: 4 });
    servers.push(server);
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const openai = await post("/v1/embeddings", { input: ["a", "b"], model: "anything" });
    expect(openai.status).toBe(200);
    expect(Object.keys(openai.body).sort()).toEqual(["data", "model", "object", "usage"]);
    expect(openai.body.data.map((d: any) => [d.object, d.index])).toEqual([
      ["embedding", 0],
      ["embedding", 1],
    ]);
    const native = await post("/embed", { inputs: ["a", "b"], normalize: true });
    expect(native.body).toEqual(openai.body.data.map((d: any) => d.embedding));
    const big = Array.from({ length: 33 }, (_, i) => `t${i}`);
    expect(await post("/v1/embeddings", { input: big })).toEqual({
      status: 413,
      body: { message: "batch size 33 > maximum allowed batch size 32", code: 413, type: "Validation" },
    });
    expect(await post("/embed", { inputs: big })).toEqual({
      status: 413,
      body: { error: "batch size 33 > maximum allowed batch size 32", error_type: "Validation" },
    });
  });

  it("Xinference rerank asks return_len and reads meta.tokens as xinference v3.2.1 fills it", async () => {
    const server = await startFakeServer({ dialect: "xinference", servedModel: "rr" });
    servers.push(server);
    const rerank = xinferenceDialect.rerank!;
    const post = async (body: unknown) =>
      (await (
        await fetch(`${server.url}${rerank.path("rr")}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        })
      ).json()) as any;
    const built = rerank.build(rerankReq);
    expect(built).toMatchObject({ return_len: true, return_documents: false });
    const body = await post(built);
    expect(body.meta).toEqual({
      api_version: null,
      billed_units: null,
      tokens: { input_tokens: 30, output_tokens: 30 },
      warnings: null,
    });
    expect(body.results.map((r: any) => r.document)).toEqual([null, null, null]);
    expect(rerank.tokens!(body, () => undefined)).toBe(30);
    // Without return_len Xinference leaves meta.tokens null, so there is no usage to read.
    const { return_len: _, ...withoutLen } = built as Record<string, unknown>;
    expect(rerank.tokens!(await post(withoutLen), () => undefined)).toBeUndefined();
  });
});
