import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rerank } from "../images/gateway/src/engine";
import { GatewayError } from "../images/gateway/src/errors";
import { UpstreamGroup } from "../images/gateway/src/upstream";
import type { RuntimeModel } from "../components/gateway/runtime-config";

/**
 * The gateway's reading of an engine's ranking, over a real socket: whatever order the engine answers in, the
 * caller gets the ranking sorted (ties by index), and a ranking that does not name each document once is refused
 * (502) instead of being passed on.
 */
/** What the engine answers next: a value (as JSON) or raw text. */
let answer: unknown = {};
let server: http.Server;
let group: UpstreamGroup;
let base = "";
const model = (name: string, dialect: string): RuntimeModel => ({
  name,
  task: "rerank",
  dialect,
  upstreams: [base],
  matryoshka: false,
  maxTokens: 512,
  ownedBy: dialect,
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    req
      .resume()
      .on("end", () =>
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(typeof answer === "string" ? answer : JSON.stringify(answer)),
      );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  group = new UpstreamGroup("rr", [base], 5000, 1);
});
afterAll(async () => {
  await group.close();
  await new Promise((r) => server.close(r));
});

const docs = ["a", "b", "c", "d"];
const vllm = (results: { index: number; relevance_score: number }[]) => ({
  id: "x",
  results,
  usage: { total_tokens: 9 },
});
const call = { headers: {}, maxBytes: 1 << 20 };

describe("an engine's ranking", () => {
  it("comes back sorted by score, ties by index, whatever order the engine used", async () => {
    answer = vllm([
      { index: 2, relevance_score: 0.1 },
      { index: 0, relevance_score: 0.5 },
      { index: 3, relevance_score: 0.9 },
      { index: 1, relevance_score: 0.5 },
    ]);
    const r = await rerank(group, model("rr", "vllm"), "q", docs, call);
    expect(r.value).toEqual([
      { index: 3, score: 0.9 },
      { index: 0, score: 0.5 },
      { index: 1, score: 0.5 },
      { index: 2, score: 0.1 },
    ]);
    expect(r.tokens).toBe(9);
  });

  it("a sorted answer is kept as it is", async () => {
    answer = vllm(docs.map((_, i) => ({ index: i, relevance_score: 1 - i / 10 })));
    const r = await rerank(group, model("rr", "vllm"), "q", docs, call);
    expect(r.value.map((x) => x.index)).toEqual([0, 1, 2, 3]);
  });

  it("a ranking with a repeated, negative or out-of-range index, or a non-finite score, is a 502", async () => {
    for (const bad of [
      vllm([
        { index: 0, relevance_score: 0.5 },
        { index: 0, relevance_score: 0.4 },
      ]),
      vllm([{ index: -1, relevance_score: 0.5 }]),
      vllm([{ index: 4, relevance_score: 0.5 }]),
      '{"results": [{"index": 1, "relevance_score": 1e999}]}', // JSON.parse reads it as Infinity
    ]) {
      answer = bad;
      const e = await rerank(group, model("rr", "vllm"), "q", docs, call).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(GatewayError);
      expect((e as GatewayError).status).toBe(502);
    }
  });
});

describe("rerank cache keys", () => {
  it("are a length-prefixed encoding: no two different requests share a key", async () => {
    const { RerankCache } = await import("../images/gateway/src/cache");
    const k = (query: string, documents: string[], topN?: number, returnDocuments = true) =>
      RerankCache.key({ model: "m", query, documents, topN, returnDocuments });
    const keys = [
      k("q\u0000a", ["b"]),
      k("q", ["a\u0000b"]),
      k("q", ["a", "b"]),
      k("q", ["a", "b"], 1),
      k("q", ["a", "b"], undefined, false),
      k("q", ["ab"]),
      k("q", ["a", "b", ""]),
      k("1:q", []),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(k("q", ["a", "b"])).toBe(k("q", ["a", "b"]));
  });
});
