import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { gatewayStack, KEY_A } from "./gateway-stack";
import { ShadowMirror } from "../images/gateway/src/shadow";
import { Counter } from "../images/gateway/src/metrics";

/**
 * The drain waits for shadow copies too (#25 follow-up): on SIGTERM the gateway first waits for its callers, then
 * for the copies of answered calls still running at the shadow, within what is left of the drain budget; copies
 * still running at its end are counted as cut off. Through the real gateway process over real sockets with a slow
 * shadow engine, and the mirror alone against a slow engine for the counter. Wall times here run on a loaded
 * 2-core machine: the bounds are loose on purpose.
 */
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const QUERY = "How do I make many concurrent HTTP requests in Python?";
const DOCS = [
  "asyncio with aiohttp runs many HTTP requests concurrently in Python.",
  "requests is a synchronous HTTP library for Python.",
  "Bananas are rich in potassium.",
  "A load balancer spreads requests across backends.",
];
const fakes: FakeServer[] = [];
const gateways: GatewayProcess[] = [];
afterAll(async () => {
  await Promise.all(gateways.map((g) => (g.child.exitCode === null ? g.stop("SIGKILL") : undefined)));
  await Promise.all(fakes.map((f) => f.close()));
});

async function fake(o: Parameters<typeof startFakeServer>[0]) {
  const f = await startFakeServer(o);
  fakes.push(f);
  return f;
}

async function gatewayWithSlowShadow(shadowMs: number, extra: Record<string, unknown>, primaryMs = 0) {
  const primary = await fake({
    dialect: "vllm",
    servedModel: "rr-main",
    ...(primaryMs ? { fault: "slow" as const, slowMs: primaryMs } : {}),
  });
  const shadow = await fake({ dialect: "vllm", servedModel: "rr-slow", fault: "slow", slowMs: shadowMs });
  const stack = writeStack(
    tempDir(),
    gatewayStack(
      {
        keys: { "team-a": { sha256: [sha(KEY_A)] } },
        aliases: {
          reranker: {
            targets: [{ model: "rr-main", weight: 100 }],
            shadow: { model: "rr-slow", sampleRate: 1, maxInFlight: 4, timeoutSeconds: 8 },
          },
        },
        playground: false,
        ...extra,
      },
      ["rr-main", "rr-slow"].map((name) => ({
        name,
        model: "BAAI/bge-reranker-base",
        engine: "vllm",
        task: "rerank",
        replicas: { min: 1, max: 1 },
        gpu: { nodeGroup: "l4" },
        slo: { p99LatencyMs: 1000 },
      })),
    ),
  );
  const gw = await startGateway([
    "--stack",
    stack,
    `--upstream=rr-main=${primary.url}`,
    `--upstream=rr-slow=${shadow.url}`,
    "--api-key",
    KEY_A,
  ]);
  gateways.push(gw);
  return { gw, shadow };
}

async function rerank(gw: GatewayProcess) {
  const res = await fetch(`${gw.url}/v1/rerank`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY_A}` },
    body: JSON.stringify({ model: "reranker", query: QUERY, documents: DOCS }),
  });
  await res.arrayBuffer();
  return res.status;
}

const shadowCalls = (f: FakeServer) => f.log.filter((l) => l.method === "POST").length;

describe("SIGTERM waits for shadow copies within the drain budget", () => {
  it("copies still running when the callers are done are waited for: none cut off", async () => {
    const { gw, shadow } = await gatewayWithSlowShadow(1500, {});
    expect(await rerank(gw)).toBe(200);
    expect(await rerank(gw)).toBe(200);
    await expect.poll(() => shadowCalls(shadow), { timeout: 5000 }).toBe(2);
    const started = Date.now();
    expect(await gw.stop("SIGTERM")).toBe(0);
    // Before: the process exited at once and the pools closed under the copies. Now it waits for their answers.
    expect(Date.now() - started).toBeGreaterThan(900);
    expect(gw.stderr()).toMatch(/drained 2 shadow copies, 0 cut off at the end of the drain/);
  }, 60_000);

  it("a copy that starts late in the drain and outlives it is cut off and counted; the exit stays on time", async () => {
    // drainSeconds 1 (the config wants drain >= upstream timeout x attempts, so those are 1 s and 1). A caller's
    // call takes 0.8 s and is in flight at SIGTERM; its copy starts when it is answered and needs 0.9 s more:
    // past the end of the drain.
    const { gw, shadow } = await gatewayWithSlowShadow(
      900,
      { drainSeconds: 1, upstreamTimeoutSeconds: 1, attempts: 1 },
      800,
    );
    const call = rerank(gw);
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    const exit = gw.stop("SIGTERM");
    expect(await call).toBe(200);
    expect(await exit).toBe(0);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(shadowCalls(shadow)).toBe(1);
    expect(gw.stderr()).toMatch(/drained 1 shadow copies, 1 cut off at the end of the drain/);
  }, 60_000);
});

describe("the mirror's drain against a slow engine over HTTP", () => {
  const metrics = () => ({
    calls: new Counter("c", "", ["alias", "shadow", "outcome"]),
    compared: new Counter("k", "", ["alias", "shadow"]),
    agreementSum: new Counter("a", "", ["alias", "shadow", "measure"]),
  });
  /** The shadow's scores from a real HTTP call to a fake vLLM whose answer takes `ms`. */
  const sendVia = (url: string) => async (model: string, query: string, documents: readonly string[]) => {
    const res = await fetch(`${url}/v1/rerank`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, query, documents }),
    });
    const body = (await res.json()) as { results: { index: number; relevance_score: number }[] };
    return body.results.map((r) => ({ index: r.index, score: r.relevance_score }));
  };
  const primary = DOCS.map((_, i) => ({ index: i, score: 1 - i / 10 }));
  const config = { reranker: { model: "rr-slow", sampleRate: 1, maxInFlight: 4, timeoutMs: 10_000 } };

  it("within the budget: waited for and compared; past it: cut_off counted once, the late answer ignored", async () => {
    const quick = await fake({ dialect: "vllm", servedModel: "rr-slow", fault: "slow", slowMs: 300 });
    const m1 = metrics();
    const mirror = new ShadowMirror(config, sendVia(quick.url), m1);
    mirror.offer("reranker", "rr-main", QUERY, DOCS, primary);
    expect(await mirror.drain(5000)).toEqual({ waited: 1, cutOff: 0 });
    expect(m1.calls.get({ alias: "reranker", shadow: "rr-slow", outcome: "compared" })).toBe(1);

    const slow = await fake({ dialect: "vllm", servedModel: "rr-slow", fault: "slow", slowMs: 1500 });
    const m2 = metrics();
    const late = new ShadowMirror(config, sendVia(slow.url), m2);
    late.offer("reranker", "rr-main", QUERY, DOCS, primary);
    late.offer("reranker", "rr-main", QUERY, DOCS, primary);
    const started = performance.now();
    expect(await late.drain(200)).toEqual({ waited: 2, cutOff: 2 });
    expect(performance.now() - started).toBeLessThan(1200);
    expect(m2.calls.get({ alias: "reranker", shadow: "rr-slow", outcome: "cut_off" })).toBe(2);
    await late.idle(); // the engine answers later: nothing more is counted
    expect(m2.calls.get({ alias: "reranker", shadow: "rr-slow", outcome: "compared" })).toBe(0);
    expect(m2.compared.get({ alias: "reranker", shadow: "rr-slow" })).toBe(0);
    expect(late.busy).toBe(0);
  }, 30_000);
});
