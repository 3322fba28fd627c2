import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { fakeScore } from "./fixtures/fake-model";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { gatewayStack, KEY_A } from "./gateway-stack";
import { agreement } from "../components/fingerprint/ranking";

/**
 * Shadow traffic through the real gateway process (`npm run gateway`), over real sockets: one primary reranker
 * and shadows that agree, partly agree, disagree, or are slow. Checks the metric values against the agreement
 * computed here from the same deterministic scores, and that a slow shadow adds nothing to the caller's latency.
 */
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const QUERY = "How do I make many concurrent HTTP requests in Python?";
const DOCS = [
  "asyncio with aiohttp runs many HTTP requests concurrently in Python.",
  "requests is a synchronous HTTP library for Python.",
  "Scrapy is a web crawling framework for Python.",
  "HTTP/2 multiplexes many requests over one connection.",
  "Python threads can run blocking HTTP calls concurrently.",
  "Bananas are rich in potassium.",
  "The Great Wall is an ancient defensive structure.",
  "Green tea is best brewed at eighty degrees.",
  "A load balancer spreads requests across backends.",
  "Go's goroutines make concurrent network code simple.",
  "Concurrency is not parallelism.",
  "Volcanoes erupt when magma rises through the crust.",
];
/** Partly agrees: documents 0-3 keep their scores, the others are pushed around by index. */
const partly = (s: number, i: number) => (i < 4 ? s : s + ((i * 37) % 11) / 40);
/** Disagrees: the primary order reversed (ties, which the primary breaks by index, reversed too). */
const reverse = (s: number, i: number) => -s + i * 1e-9;

const order = (scores: number[]) =>
  scores
    .map((score, index) => ({ index, score }))
    .sort((a, b) => b.score - a.score || a.index - b.index)
    .map((x) => String(x.index));
const primaryScores = DOCS.map((d) => fakeScore(QUERY, d));
const expected = (rescore: (s: number, i: number) => number) =>
  agreement(order(primaryScores), order(primaryScores.map((s, i) => rescore(s, i))));

let gw: GatewayProcess;
const fakes: Record<string, FakeServer> = {};
const CALLS = 12;

async function rerankVia(model: string) {
  const started = performance.now();
  const res = await fetch(`${gw.url}/v1/rerank`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY_A}` },
    body: JSON.stringify({ model, query: QUERY, documents: DOCS, top_n: 3 }),
  });
  const json = (await res.json()) as { results: { index: number }[] };
  return { status: res.status, ms: performance.now() - started, json };
}

async function metrics(): Promise<Map<string, number>> {
  const text = await (await fetch(`${gw.metricsUrl}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n"))
    if (line.startsWith("retrieval_gateway_shadow_")) {
      const at = line.lastIndexOf(" ");
      out.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  return out;
}

const series = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;

beforeAll(async () => {
  const specs: [string, Parameters<typeof startFakeServer>[0]][] = [
    ["rr-vllm", { dialect: "vllm", servedModel: "rr-vllm" }],
    ["rr-tei", { dialect: "tei", servedModel: "rr-tei" }],
    ["rr-sglang", { dialect: "sglang", servedModel: "rr-sglang", rescore: partly }],
    ["rr-xinf", { dialect: "xinference", servedModel: "rr-xinf", rescore: reverse }],
    ["rr-slow", { dialect: "vllm", servedModel: "rr-slow", fault: "slow", slowMs: 1500 }],
  ];
  await Promise.all(specs.map(async ([name, o]) => (fakes[name] = await startFakeServer(o))));
  const primary = { targets: [{ model: "rr-vllm", weight: 100 }] };
  const stack = writeStack(
    tempDir(),
    gatewayStack(
      {
        keys: { "team-a": { sha256: [sha(KEY_A)] } },
        upstreamTimeoutSeconds: 5,
        attempts: 1,
        aliases: {
          "rr-agree": { ...primary, shadow: { model: "rr-tei", sampleRate: 1 } },
          "rr-partly": { ...primary, shadow: { model: "rr-sglang", sampleRate: 1 } },
          "rr-disagree": { ...primary, shadow: { model: "rr-xinf", sampleRate: 1 } },
          "rr-slowshadow": {
            ...primary,
            shadow: { model: "rr-slow", sampleRate: 1, maxInFlight: 2, timeoutSeconds: 0.5 },
          },
        },
        playground: false,
      },
      [
        {
          name: "rr-slow",
          model: "BAAI/bge-reranker-base",
          engine: "vllm",
          task: "rerank",
          replicas: { min: 1, max: 1 },
          gpu: { nodeGroup: "l4" },
          slo: { p99LatencyMs: 1000 },
        },
      ],
    ),
  );
  gw = await startGateway([
    "--stack",
    stack,
    ...Object.entries(fakes).map(([m, f]) => `--upstream=${m}=${f.url}`),
    "--api-key",
    KEY_A,
  ]);
}, 90_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
});

describe("shadow traffic through the gateway", () => {
  it("copies every sampled call and exports the agreement of agreeing, partly agreeing and disagreeing shadows", async () => {
    for (const alias of ["rr-agree", "rr-partly", "rr-disagree"])
      for (let i = 0; i < CALLS; i++) {
        const r = await rerankVia(alias);
        expect(r.status).toBe(200);
        // The caller gets the primary's answer, whatever the shadow says.
        expect(r.json.results.map((x) => x.index)).toEqual(order(primaryScores).slice(0, 3).map(Number));
      }
    await expect
      .poll(
        async () =>
          (await metrics()).get(
            series("retrieval_gateway_shadow_compared_total", { alias: "rr-disagree", shadow: "rr-xinf" }),
          ),
        { timeout: 10_000 },
      )
      .toBe(CALLS);
    const m = await metrics();
    const cases = [
      ["rr-agree", "rr-tei", expected((s) => s)],
      ["rr-partly", "rr-sglang", expected(partly)],
      ["rr-disagree", "rr-xinf", expected(reverse)],
    ] as const;
    for (const [alias, shadow, want] of cases) {
      const labels = { alias, shadow };
      const compared = m.get(series("retrieval_gateway_shadow_compared_total", labels))!;
      expect(compared).toBe(CALLS);
      expect(m.get(series("retrieval_gateway_shadow_calls_total", { ...labels, outcome: "compared" }))).toBe(CALLS);
      const mean = (measure: string) =>
        m.get(series("retrieval_gateway_shadow_agreement_sum", { ...labels, measure }))! / compared;
      expect(mean("kendall_tau")).toBeCloseTo(want.kendallTau, 6);
      expect(mean("top1")).toBeCloseTo(want.top1, 6);
      expect(mean("top3")).toBeCloseTo(want.top3, 6);
      expect(mean("top10")).toBeCloseTo(want.top10, 6);
      expect(mean("ndcg_at_10")).toBeCloseTo(want.ndcgAt10, 6);
    }
    // The three cases really differ: full agreement, partial, reversed.
    expect(expected((s) => s).kendallTau).toBe(1);
    expect(expected(partly).kendallTau).toBeGreaterThan(0);
    expect(expected(partly).kendallTau).toBeLessThan(0.9);
    expect(expected(reverse).kendallTau).toBe(-1);
    // Only numbers leave the gateway: neither the query nor a document is in its output.
    expect(gw.stdout() + gw.stderr()).not.toContain("concurrent HTTP requests");
    expect(gw.stdout() + gw.stderr()).not.toContain("Bananas");
  }, 60_000);

  it("a slow shadow adds no latency for the caller; copies beyond maxInFlight are dropped and counted", async () => {
    // Timing on a loaded 2-core machine is noisy: compare medians of the same calls with and without a shadow.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const direct: number[] = [];
    const shadowed: number[] = [];
    for (let i = 0; i < 10; i++) {
      direct.push((await rerankVia("rr-vllm")).ms);
      const r = await rerankVia("rr-slowshadow");
      expect(r.status).toBe(200);
      shadowed.push(r.ms);
    }
    console.log(
      `caller latency, median of 10: direct ${median(direct).toFixed(1)} ms, with a 1.5 s shadow ${median(shadowed).toFixed(1)} ms`,
    );
    expect(median(shadowed)).toBeLessThan(median(direct) + 100);
    expect(Math.max(...shadowed)).toBeLessThan(1500);
    const labels = { alias: "rr-slowshadow", shadow: "rr-slow" };
    await expect
      .poll(
        async () =>
          (await metrics()).get(series("retrieval_gateway_shadow_calls_total", { ...labels, outcome: "timeout" })),
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(1);
    const m = await metrics();
    const outcome = (o: string) =>
      m.get(series("retrieval_gateway_shadow_calls_total", { ...labels, outcome: o })) ?? 0;
    expect(outcome("busy")).toBeGreaterThanOrEqual(1);
    expect(outcome("compared")).toBe(0);
    expect(outcome("busy") + outcome("timeout") + outcome("failed")).toBeLessThanOrEqual(10);
  }, 60_000);
});
