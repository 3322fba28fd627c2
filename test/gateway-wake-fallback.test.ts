import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import { Gateway } from "../images/gateway/src/server";
import { startCapacityEngine, type CapacityEngine } from "./fixtures/capacity-engine";
import { startFakeKubeApi, type FakeKubeApi } from "./fixtures/fake-kube-api";
import { freePort } from "./free-port";

/**
 * Waking a model while EndpointSlice discovery is unavailable (issue #22): the gateway falls back to the model's
 * Service, learns by probing it whether a pod is behind it, and holds the requests of a model with none in the
 * bounded wake queue (the waiting gauge that wakes it through KEDA stays exported) instead of failing them. The
 * "Service" is a loopback address (127.0.0.6, 127.0.0.7) where a fake engine starts listening after N seconds, as
 * kube-proxy refuses connections to a Service until a pod behind it is ready.
 */
let api: FakeKubeApi;
let port: number;
const engines: CapacityEngine[] = [];
const gateways: Gateway[] = [];

beforeAll(async () => {
  api = await startFakeKubeApi();
  port = await freePort();
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.shutdown()));
  await Promise.all(engines.map((e) => e.close()));
  await api?.close();
});

const serviceOf = (host: string) => `http://${host}:${port}`;

async function gateway(host: string, wake: { queueSize: number; maxWaitMs: number }) {
  const g = new Gateway({
    config: RuntimeConfigSchema.parse({
      models: [
        {
          name: "rr",
          task: "rerank",
          dialect: "tei",
          upstreams: [serviceOf(host)],
          maxTokens: 512,
          ownedBy: "tei",
          discovery: { namespace: "retrieval", service: "rr", portName: "http" },
          wake,
        },
      ],
      limits: { requestsPerSecond: 10000, burst: 10000 },
      redis: { onDown: "fail-open" },
      maxBodyBytes: 1 << 20,
      maxInputs: 64,
      maxDocuments: 64,
      upstreamTimeoutMs: 10_000,
      attempts: 2,
      breaker: { failures: 3, cooldownMs: 60_000 },
      allowAnonymous: true,
      metricsPort: 0,
    }),
    audit: () => {},
    log: () => {},
    // A token the API refuses: discovery is unavailable for the whole test.
    kubeApi: { url: api.url, token: () => "not-the-token" },
  });
  gateways.push(g);
  const url = `http://127.0.0.1:${await g.listen(0)}`;
  const metrics = async () => (await fetch(`http://127.0.0.1:${g.metricsPort}/metrics`)).text();
  const metric = async (series: string) =>
    Number(new RegExp(`^${series.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(await metrics())?.[1]);
  return { url, metric };
}

const rerank = async (url: string, headers: Record<string, string> = {}) => {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/rerank`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ model: "rr", query: "q", documents: ["a b c", "d e f"] }),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return {
    status: res.status,
    code: body.error?.code,
    retryAfter: res.headers.get("retry-after"),
    ms: performance.now() - t0,
  };
};

async function until(check: () => Promise<boolean>, maxMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > maxMs) throw new Error(`not within ${maxMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("discovery unavailable: the Service is probed and a model with no pod holds its requests", () => {
  it("holds every request until the engine is ready after 2 s (none fails), overflow and no-wait answer at once", async () => {
    const host = "127.0.0.6";
    const { url, metric } = await gateway(host, { queueSize: 4, maxWaitMs: 8000 });
    await until(async () => (await metric('retrieval_gateway_ready_pods{model="rr"}')) === -1);
    const held = Array.from({ length: 4 }, () => rerank(url));
    // The waiting count is exported (the model's ScaledObject wakes it on this gauge).
    await until(async () => (await metric('retrieval_gateway_waiting_requests{model="rr"}')) === 4);
    const overflow = await rerank(url);
    expect(overflow).toMatchObject({ status: 503, code: "wake_queue_full" });
    expect(Number(overflow.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(overflow.ms).toBeLessThan(1000);
    const noWait = await rerank(url, { prefer: "wait=0" });
    expect(noWait).toMatchObject({ status: 503, code: "model_waking" });
    expect(noWait.ms).toBeLessThan(1000);

    const readyAfterMs = 2000;
    await new Promise((r) => setTimeout(r, readyAfterMs));
    engines.push(await startCapacityEngine({ host, port, capacity: 4, msPerToken: 0.1 }));
    const done = await Promise.all(held);
    expect(done.map((d) => d.status)).toEqual([200, 200, 200, 200]);
    for (const d of done) {
      expect(d.ms).toBeGreaterThanOrEqual(readyAfterMs);
      // Released by the next probe (every 500 ms while empty), well within the wait.
      expect(d.ms).toBeLessThan(readyAfterMs + 3000);
    }
    expect(await metric('retrieval_gateway_waiting_requests{model="rr"}')).toBe(0);
    expect(await metric('retrieval_gateway_breaker_state{model="rr"}')).toBe(0);
  }, 30_000);

  it("a model scaled to zero while being served: the refused call waits for the next pod instead of failing", async () => {
    const host = "127.0.0.7";
    const first = await startCapacityEngine({ host, port, capacity: 4, msPerToken: 0.1 });
    const { url, metric } = await gateway(host, { queueSize: 8, maxWaitMs: 8000 });
    await until(async () => (await metric('retrieval_gateway_ready_pods{model="rr"}')) === -1);
    expect((await rerank(url)).status).toBe(200);
    await first.close(); // scaled to zero: the Service refuses
    const during = rerank(url);
    await new Promise((r) => setTimeout(r, 1500));
    engines.push(await startCapacityEngine({ host, port, capacity: 4, msPerToken: 0.1 }));
    const r = await during;
    expect(r.status).toBe(200);
    expect(r.ms).toBeGreaterThanOrEqual(1400);
    // Waiting for a pod is not a failing engine: the breaker never counted it.
    expect(await metric('retrieval_gateway_breaker_state{model="rr"}')).toBe(0);
  }, 30_000);

  it("past the wait: 503 model_waking with Retry-After, after the wait and not before", async () => {
    const { url } = await gateway("127.0.0.8", { queueSize: 4, maxWaitMs: 1000 });
    await new Promise((r) => setTimeout(r, 200));
    const r = await rerank(url);
    expect(r).toMatchObject({ status: 503, code: "model_waking" });
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(r.ms).toBeGreaterThanOrEqual(900);
    expect(r.ms).toBeLessThan(4000);
  }, 20_000);
});
