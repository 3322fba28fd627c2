import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { verifyTarget } from "../images/verifier/src/verify";
import type { VerifyOptions, VerifyTargetInput } from "../components/contracts/verify-target";
import type { TargetReport } from "../images/verifier/src/report";
import { formatReport } from "../images/verifier/src/report";
import { EngineClient } from "../images/verifier/src/client";
import { Deadline, isTransientStatus, readJson, retryDelayMs } from "../images/verifier/src/http";
import { percentile } from "../images/verifier/src/vectors";
import { dialectNamed } from "../components/serving/dialects";
import {
  closedPortUrl,
  startFakeServer,
  type FakeDialect,
  type FakeServer,
  type FakeServerOptions,
} from "./fixtures/engine-server";

// Small loads and quick backoff keep the suite fast; the Retry-After tests use the real policy.
const OPTIONS: VerifyOptions = {
  requests: 8,
  concurrency: 2,
  timeoutSeconds: 10,
  requestTimeoutSeconds: 2,
  maxRetries: 2,
  quality: { enabled: false, minMrrAt10: 0.75 },
  retry: { baseBackoffMs: 10, maxBackoffMs: 50 },
};

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(options: FakeServerOptions): Promise<FakeServer> {
  const s = await startFakeServer(options);
  servers.push(s);
  return s;
}

function target(
  url: string,
  dialect: string,
  task: "embed" | "rerank",
  extra: Partial<VerifyTargetInput> = {},
): VerifyTargetInput {
  return {
    name: `${dialect}-${task}`,
    url,
    dialect,
    task,
    servedModel: "bge",
    modelId: "BAAI/bge-large-zh-v1.5",
    dims: 1024,
    normalized: true,
    sloP99Ms: 2000,
    ...extra,
  };
}

function row(report: TargetReport, check: string) {
  const r = report.checks.find((c) => c.check === check);
  if (!r)
    throw new Error(
      `no row ${check}; have ${report.checks.map((c) => c.check).join(", ")}\n${formatReport({ pass: report.pass, startedAt: "", ms: 0, targets: [report] })}`,
    );
  return r;
}

async function run(
  server: Partial<FakeServerOptions> & { dialect: FakeDialect },
  task: "embed" | "rerank",
  options: Partial<VerifyOptions> = {},
  extra: Partial<VerifyTargetInput> = {},
) {
  const s = await serve(server);
  const report = await verifyTarget(target(s.url, extra.dialect ?? server.dialect, task, extra), {
    ...OPTIONS,
    ...options,
  });
  return { report, server: s };
}

describe("a correct server of every dialect passes", () => {
  const cases: [FakeDialect, "embed" | "rerank"][] = [
    ["vllm", "embed"],
    ["vllm", "rerank"],
    ["sglang", "embed"],
    ["sglang", "rerank"],
    ["tei", "embed"],
    ["tei", "rerank"],
    ["kserve", "embed"],
    ["kserve", "rerank"],
    ["kserve-v1", "embed"],
    ["kserve-v2", "embed"],
    ["xinference", "embed"],
    ["xinference", "rerank"],
    ["openai", "embed"],
    ["openai", "rerank"],
  ];
  it.each(cases)("%s %s", async (dialect, task) => {
    const { report, server } = await run({ dialect }, task);
    expect(
      report.checks.filter((c) => c.status === "fail"),
      formatReport({ pass: report.pass, startedAt: "", ms: 0, targets: [report] }),
    ).toEqual([]);
    expect(report.pass).toBe(true);
    const expectedRows =
      task === "embed"
        ? ["embed.dims", "embed.norm", "embed.similarity.zh", "embed.similarity.en"]
        : ["rerank.best-first", "rerank.indices", "rerank.scores"];
    for (const r of [...expectedRows, "health", "latency.p99", "latency.errors", "latency.loadgen"])
      expect(row(report, r).status).toBe("pass");
    // The engine saw the dialect's own paths; no Authorization header was sent without a key.
    expect(server.log.every((l) => l.auth === undefined)).toBe(true);
  });

  it("the best-first row names the asyncio+aiohttp document first", async () => {
    const { report } = await run({ dialect: "sglang" }, "rerank");
    expect(row(report, "rerank.best-first").got).toMatch(/^document 1 first/);
  });

  it("the load generator is measured against an instant local server and judged against the SLO", async () => {
    const { report } = await run({ dialect: "tei" }, "embed", {}, { sloP99Ms: 2000 });
    expect(row(report, "latency.loadgen")).toMatchObject({
      status: "pass",
      expected: "load generator's own p50 ≤ 200 ms (10 % of SLO)",
    });
    expect(row(report, "latency.loadgen").got).toMatch(
      /^p50 [\d.]+ ms · p99 [\d.]+ ms \(\d+ req\/s\) vs engine \d+ req\/s$/,
    );
    // An SLO so tight that the generator's own cost is a large share of it: the latency verdict is not trusted.
    const tight = await run({ dialect: "tei" }, "embed", {}, { sloP99Ms: 0.001 });
    expect(row(tight.report, "latency.loadgen").status).toBe("fail");
  });

  it("TEI embeds through its OpenAI route; tei-native through /embed; both pass against the same server", async () => {
    const openai = await run({ dialect: "tei" }, "embed");
    expect(openai.report.pass).toBe(true);
    expect(new Set(openai.server.log.filter((l) => l.method === "POST").map((l) => l.path))).toEqual(
      new Set(["/v1/embeddings"]),
    );
    const native = await run({ dialect: "tei" }, "embed", {}, { dialect: "tei-native" });
    expect(native.report.pass).toBe(true);
    expect(new Set(native.server.log.filter((l) => l.method === "POST").map((l) => l.path))).toEqual(
      new Set(["/embed"]),
    );
  });

  it("TEI has no top_n: the row is skipped, not failed, and the server never saw top_n", async () => {
    const { report, server } = await run({ dialect: "tei" }, "rerank");
    expect(row(report, "rerank.top_n").status).toBe("skip");
    expect(server.log.filter((l) => l.path === "/rerank").every((l) => !("top_n" in (l.body as object)))).toBe(true);
  });

  it("sends the API key as a bearer token, through the openai client and fetch alike", async () => {
    const { report, server } = await run({ dialect: "vllm", apiKey: "k".repeat(24) }, "embed", {
      apiKey: "k".repeat(24),
    });
    expect(report.pass).toBe(true);
    expect(new Set(server.log.map((l) => l.auth))).toEqual(new Set([`Bearer ${"k".repeat(24)}`]));
  });

  it("without the key a protected engine fails with its 401", async () => {
    const { report } = await run({ dialect: "vllm", apiKey: "k".repeat(24) }, "embed");
    expect(row(report, "health").got).toMatch(/HTTP 401/);
    expect(report.pass).toBe(false);
  });

  it("quality: MRR@10 over the labelled set passes for a working model and fails for a broken reranker", async () => {
    const good = await run({ dialect: "vllm" }, "rerank", { quality: { enabled: true, minMrrAt10: 0.75 } });
    expect(row(good.report, "quality.mrr@10")).toMatchObject({
      status: "pass",
      expected: "MRR@10 ≥ 0.75 over 36 labelled queries (20 zh, 16 en)",
    });
    const embed = await run({ dialect: "tei" }, "embed", { quality: { enabled: true, minMrrAt10: 0.75 } });
    expect(row(embed.report, "quality.mrr@10").status).toBe("pass");
    const bad = await run({ dialect: "vllm", fault: "random-scores" }, "rerank", {
      quality: { enabled: true, minMrrAt10: 0.75 },
    });
    const q = row(bad.report, "quality.mrr@10");
    expect(q.status).toBe("fail");
    expect(Number(q.got.split(" ")[0])).toBeLessThan(0.75);
  });
});

describe("faults give a failing check that says what was expected and what came back", () => {
  it("connection refused", async () => {
    const url = await closedPortUrl();
    const report = await verifyTarget(target(url, "vllm", "embed"), OPTIONS);
    expect(report.pass).toBe(false);
    expect(row(report, "health")).toMatchObject({ status: "fail", expected: "HTTP 200 from GET /health" });
    expect(row(report, "health").got).toMatch(
      /connection refused by http:\/\/127\.0\.0\.1:\d+\/health.*after 3 attempts/,
    );
  });

  it("unhealthy engine (503 on /health, TEI's Unhealthy body)", async () => {
    const { report } = await run({ dialect: "tei", fault: "unhealthy" }, "embed");
    expect(row(report, "health").got).toMatch(/HTTP 503 Service Unavailable from \/health: "Model is not healthy"/);
    expect(report.checks).toHaveLength(1); // nothing else is attempted against a dead engine
  });

  it("KServe answering 200 with ready=false", async () => {
    const { report } = await run({ dialect: "kserve-v2", fault: "unhealthy" }, "embed");
    expect(row(report, "health").got).toBe('unexpected body: /v2/health/ready: expected "ready": true, got false');
  });

  it("Xinference up without the model launched", async () => {
    const { report } = await run({ dialect: "xinference", fault: "unhealthy" }, "embed");
    expect(row(report, "health").got).toMatch(/expected the model uid "bge" to be launched/);
  });

  it("persistent 5xx: retried, then failed with the engine's message", async () => {
    const { report, server } = await run({ dialect: "vllm", fault: "5xx" }, "embed");
    expect(row(report, "embed.single").got).toBe(
      'HTTP 503 Service Unavailable from /v1/embeddings: "The engine is overloaded" (after 3 attempts)',
    );
    expect(server.log.filter((l) => l.path === "/v1/embeddings").length).toBeGreaterThanOrEqual(3);
  });

  it("a transient 5xx is retried and the check passes", async () => {
    // vllm: the openai client's retries; tei-native: fetch's.
    for (const [dialect, client] of [
      ["vllm", "vllm"],
      ["tei", "tei-native"],
    ] as const) {
      const { report } = await run({ dialect, fault: "5xx-once" }, "embed", {}, { dialect: client });
      expect(row(report, "embed.single").status).toBe("pass");
    }
  });

  it("429 with Retry-After: waited as asked, on both transports, then passes", async () => {
    for (const [dialect, client] of [
      ["openai", "openai"],
      ["tei", "tei-native"],
    ] as const) {
      const started = Date.now();
      const { report } = await run({ dialect, fault: "429-once" }, "embed", { retry: {} }, { dialect: client });
      expect(row(report, "embed.single").status).toBe("pass");
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    }
  });

  it("persistent 429: bounded retries, then a failing row", async () => {
    const { report } = await run({ dialect: "tei", fault: "429" }, "rerank", {
      maxRetries: 1,
      retry: { retryAfterCapMs: 100 },
    });
    expect(row(report, "rerank.best-first").got).toBe(
      'HTTP 429 Too Many Requests from /rerank: "Model is overloaded" (after 2 attempts)',
    );
  });

  it("a 4xx is not retried", async () => {
    const { report, server } = await run({ dialect: "vllm", fault: "unknown-model" }, "embed");
    expect(row(report, "embed.single").got).toBe(
      'HTTP 404 Not Found from /v1/embeddings: "The model `bge` does not exist."',
    );
    // One request per logical call: embed.single, embed.batch, the similarity batch, the latency warm-up.
    expect(server.log.filter((l) => l.path === "/v1/embeddings")).toHaveLength(4);
  });

  it("a model name the server does not serve", async () => {
    const { report } = await run({ dialect: "sglang", fault: "unknown-model" }, "embed");
    expect(row(report, "model.served")).toMatchObject({
      status: "fail",
      expected: '"bge" among the models at GET /v1/models',
      got: "[some-other-model]",
    });
  });

  it("KServe V1 with an unknown model name: the engine's 404", async () => {
    const { report } = await run({ dialect: "kserve-v1", fault: "unknown-model" }, "embed");
    expect(row(report, "health").got).toBe(
      'HTTP 404 Not Found from /v1/models/bge: "Model with name bge does not exist."',
    );
  });

  it("a request that never answers times out per attempt", async () => {
    const started = Date.now();
    const { report } = await run({ dialect: "tei", fault: "hang" }, "embed", {
      requestTimeoutSeconds: 0.2,
      maxRetries: 1,
    });
    expect(row(report, "embed.single").got).toMatch(
      /^no complete response within 200 ms from http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings \(after 2 attempts\)$/,
    );
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("headers then a stalled body also time out, on the fetch and the openai transports", async () => {
    const http = {
      requestTimeoutMs: 200,
      retry: { maxRetries: 0, baseBackoffMs: 0, maxBackoffMs: 0, retryAfterCapMs: 0 },
      deadline: new Deadline(5000),
    };
    // tei-native goes through fetch (TEI's /embed), openai through the openai client.
    for (const [server, dialect] of [
      ["tei", "tei-native"],
      ["openai", "openai"],
    ] as const) {
      const s = await serve({ dialect: server, fault: "stall-body" });
      const client = new EngineClient(s.url, dialectNamed(dialect)!, "bge", http);
      await expect(client.embed(["x"])).rejects.toMatchObject({
        kind: "timeout",
        message: expect.stringMatching(/^no complete response within 200 ms/),
      });
    }
    http.deadline.dispose();
  });

  it("the overall timeout bounds the whole run, whatever the server does", async () => {
    const started = Date.now();
    const { report } = await run({ dialect: "tei", fault: "hang" }, "embed", {
      timeoutSeconds: 1,
      requestTimeoutSeconds: 5,
      maxRetries: 5,
    });
    const elapsed = Date.now() - started;
    expect(report.pass).toBe(false);
    expect(elapsed).toBeLessThan(4000);
    expect(report.checks.map((c) => c.got).join("\n")).toMatch(
      /overall timeout of 1000 ms reached|overall timeout of 1 s reached/,
    );
  });

  it("slow responses fail the latency SLO with the measured percentiles", async () => {
    const { report } = await run({ dialect: "tei", fault: "slow", slowMs: 120 }, "embed", {}, { sloP99Ms: 50 });
    const p99 = row(report, "latency.p99");
    expect(p99.status).toBe("fail");
    expect(p99.expected).toBe("p99 ≤ 50 ms (SLO) over 8 requests at concurrency 2");
    expect(p99.got).toMatch(/^p50 \d+ ms · p95 \d+ ms · p99 \d+ ms, \d+ req\/s$/);
    expect(Number(/p99 (\d+) ms/.exec(p99.got)![1])).toBeGreaterThanOrEqual(120);
  });

  it("malformed JSON", async () => {
    const { report } = await run({ dialect: "vllm", fault: "malformed-json" }, "embed");
    expect(row(report, "embed.single").got).toMatch(
      /^HTTP 200 from \/v1\/embeddings with malformed JSON \(.+\): "\{\\"data\\": \[\{\\"index\\": 0/,
    );
  });

  it("an HTML error page from a proxy", async () => {
    const { report } = await run({ dialect: "sglang", fault: "html" }, "rerank", { maxRetries: 0 });
    expect(row(report, "rerank.best-first").got).toBe(
      'HTTP 502 Bad Gateway from /v1/rerank: an HTML page "502 Bad Gateway"',
    );
  });

  it("an HTML page with status 200", async () => {
    const { report } = await run({ dialect: "kserve", fault: "html-200" }, "embed");
    expect(row(report, "embed.single").got).toBe(
      'HTTP 200 from /openai/v1/embeddings with an HTML page "Sign in" instead of JSON',
    );
  });

  it("wrong dimension (768 where the catalogue says 1024)", async () => {
    const { report } = await run({ dialect: "sglang", fault: "wrong-dims" }, "embed");
    expect(row(report, "embed.dims")).toMatchObject({
      status: "fail",
      expected: "1024 dimensions in every vector (BAAI/bge-large-zh-v1.5)",
      got: "768 in all 9 vectors",
    });
    expect(row(report, "embed.single").status).toBe("fail");
  });

  it("NaN written bare (Python json.dumps) is located, not reported as malformed", async () => {
    const { report } = await run({ dialect: "tei", fault: "nan" }, "embed");
    expect(row(report, "embed.finite")).toMatchObject({
      status: "fail",
      got: "2 non-finite value(s), first NaN at vector 0, position 17",
    });
  });

  it("NaN serialised as null (orjson) is refused by the parser with its position", async () => {
    const { report } = await run({ dialect: "kserve-v1", fault: "null-in-vector" }, "embed");
    expect(row(report, "embed.single").got).toBe(
      "unexpected body: :predict.predictions[0][5]: expected a number, got null",
    );
  });

  it("vectors that are not normalised when the model normalises", async () => {
    const { report } = await run({ dialect: "xinference", fault: "not-normalized" }, "embed");
    expect(row(report, "embed.norm")).toMatchObject({ status: "fail", got: "norms 3.0000 to 3.0000" });
  });

  it("empty results", async () => {
    const embed = await run({ dialect: "vllm", fault: "empty" }, "embed");
    expect(row(embed.report, "embed.single").got).toBe("0 vectors");
    expect(row(embed.report, "embed.dims").status).toBe("skip");
    const rerank = await run({ dialect: "vllm", fault: "empty" }, "rerank");
    expect(row(rerank.report, "rerank.best-first").got).toBe("no results");
    expect(row(rerank.report, "rerank.indices").got).toBe("no results");
  });

  it("duplicated indices", async () => {
    const { report } = await run({ dialect: "tei", fault: "dup-index" }, "rerank");
    expect(row(report, "rerank.indices")).toMatchObject({
      status: "fail",
      expected: "3 results, indices a permutation of 0..2",
      got: "index 1 appears twice",
    });
  });

  it("out-of-range indices", async () => {
    const { report } = await run({ dialect: "xinference", fault: "out-of-range-index" }, "rerank");
    expect(row(report, "rerank.indices").got).toBe("index 7 out of range 0..2");
  });

  it("scores not in descending order", async () => {
    const { report } = await run({ dialect: "sglang", fault: "unsorted" }, "rerank");
    expect(row(report, "rerank.scores").got).toMatch(/^result \d \(0\.\d+\) scores above result \d \(0\.\d+\)$/);
  });

  it("the wrong document first in the rerank example", async () => {
    const { report } = await run({ dialect: "vllm", fault: "wrong-winner" }, "rerank");
    expect(row(report, "rerank.best-first")).toMatchObject({ status: "fail" });
    expect(row(report, "rerank.best-first").got).toMatch(/^document 2 first/);
  });

  it("top_n ignored", async () => {
    const { report } = await run({ dialect: "kserve", fault: "ignore-top-n" }, "rerank");
    expect(row(report, "rerank.top_n").got).toBe("5 results for 2 expected");
  });

  it("the wrong dialect for the server says so", async () => {
    const s = await serve({ dialect: "sglang" });
    const report = await verifyTarget(target(s.url, "vllm", "rerank"), OPTIONS);
    expect(row(report, "rerank.best-first").got).toMatch(
      /expected an object \{"results".*SGLang\/TEI shape: wrong dialect\?/,
    );
  });

  it("a target that is not valid fails one row instead of throwing", async () => {
    const report = await verifyTarget({ ...target("not a url", "vllm", "embed") }, OPTIONS);
    expect(row(report, "target").got).toMatch(/url: must be an http\(s\) URL/);
    const unknown = await verifyTarget(target("http://127.0.0.1:1", "nope", "embed"), OPTIONS);
    expect(row(unknown, "target").got).toBe('unknown dialect "nope"');
    const noRerank = await verifyTarget(target("http://127.0.0.1:1", "kserve-v2", "rerank"), OPTIONS);
    expect(row(noRerank, "target").got).toBe("the kserve-v2 dialect has no rerank endpoint");
  });
});

describe("the load's request (EngineClient.loadCall)", () => {
  it("counts a 2xx whose body is not a complete JSON object as an error, without parsing every answer", async () => {
    let n = 0;
    const good = JSON.stringify({ results: [{ index: 1, relevance_score: 0.9 }] });
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        n++;
        res.writeHead(200, { "content-type": "application/json" }).end(n % 3 === 0 ? good.slice(0, 20) : `${good}\n`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const deadline = new Deadline(10_000);
    const client = new EngineClient(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      dialectNamed("openai")!,
      "m",
      {
        requestTimeoutMs: 2000,
        retry: { maxRetries: 0, baseBackoffMs: 0, maxBackoffMs: 0, retryAfterCapMs: 0 },
        deadline,
      },
    );
    try {
      const call = client.loadCall({ query: "q", documents: ["a", "b"] });
      const outcomes = await Promise.allSettled(Array.from({ length: 9 }, () => call()));
      expect(outcomes.filter((o) => o.status === "rejected")).toHaveLength(3);
      expect(String((outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult).reason.message)).toMatch(
        /^HTTP 200 from \/v1\/rerank with (a body that is not a JSON object or list|malformed JSON)/,
      );
    } finally {
      deadline.dispose();
      await client.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("HTTP helpers", () => {
  const policy = { maxRetries: 2, baseBackoffMs: 250, maxBackoffMs: 4000, retryAfterCapMs: 10_000 };

  it("backoff doubles with at most 25 % jitter; Retry-After (seconds or date) wins, capped", () => {
    expect(retryDelayMs(1, policy, null, () => 0)).toBe(250);
    expect(retryDelayMs(3, policy, null, () => 0)).toBe(1000);
    expect(retryDelayMs(3, policy, null, () => 1)).toBe(750);
    expect(retryDelayMs(10, policy, null, () => 0)).toBe(4000);
    expect(retryDelayMs(1, policy, "2")).toBe(2000);
    expect(retryDelayMs(1, policy, "3600")).toBe(10_000);
    const inFiveSeconds = new Date(Date.now() + 5000).toUTCString();
    expect(retryDelayMs(1, policy, inFiveSeconds)).toBeGreaterThan(3000);
  });

  it("only transient statuses are retried", () => {
    expect([408, 429, 500, 502, 503, 504].every(isTransientStatus)).toBe(true);
    expect([400, 401, 404, 413, 422].some(isTransientStatus)).toBe(false);
  });

  it("bare NaN/Infinity are read as numbers; anything else broken is malformed", () => {
    expect(readJson('{"v": [1, NaN, -Infinity, Infinity]}', 200, 1, "/x")).toEqual({
      v: [1, NaN, -Infinity, Infinity],
    });
    expect(readJson('{"s": "NaN stays a string"}', 200, 1, "/x")).toEqual({ s: "NaN stays a string" });
    expect(() => readJson('{"v": [1, 2', 200, 1, "/x")).toThrow(/malformed JSON/);
    expect(readJson("", 200, 1, "/health")).toBeUndefined();
  });

  it("percentiles are nearest-rank", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99)]).toEqual([50, 95, 99]);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});
