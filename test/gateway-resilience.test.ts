import { afterEach, describe, expect, it } from "vitest";
import { closedPortUrl, startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { gatewayStack } from "./gateway-stack";

/**
 * Resilience, with the gateway as its own process: retry on another replica, the circuit breaker opening and
 * closing, and draining in-flight requests on SIGTERM.
 */
const running: { stop(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

async function fake(options: Parameters<typeof startFakeServer>[0]): Promise<FakeServer> {
  const f = await startFakeServer(options);
  running.push({ stop: () => f.close() });
  return f;
}

async function gateway(gatewayConfig: Record<string, unknown>, upstreams: string[]): Promise<GatewayProcess> {
  const stack = writeStack(tempDir(), gatewayStack({ upstreamTimeoutSeconds: 5, ...gatewayConfig }));
  const g = await startGateway(["--stack", stack, ...upstreams.map((u) => `--upstream=${u}`)]);
  running.push(g);
  return g;
}

const embed = (g: GatewayProcess) =>
  fetch(`${g.url}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: "emb-tei", input: "hello", encoding_format: "float" }),
  });

describe("gateway resilience", () => {
  it("retries on the second replica when the first refuses connections or answers 503", async () => {
    const dead = await closedPortUrl();
    const busy = await fake({ dialect: "tei", servedModel: "emb-tei", dims: 512, fault: "5xx" });
    const good = await fake({ dialect: "tei", servedModel: "emb-tei", dims: 512 });
    const g = await gateway({ attempts: 2 }, [`emb-tei=${dead}`, `emb-tei=${good.url}`]);
    for (let i = 0; i < 4; i++) expect((await embed(g)).status).toBe(200);
    const g2 = await gateway({ attempts: 2 }, [`emb-tei=${busy.url}`, `emb-tei=${good.url}`]);
    for (let i = 0; i < 4; i++) expect((await embed(g2)).status).toBe(200);
    expect(busy.log.length).toBeGreaterThan(0);
    for (let i = 0; i < 50 && g2.audit().length < 4; i++) await new Promise((r) => setTimeout(r, 100));
    expect(g2.audit().some((l) => l.attempts === 2)).toBe(true);
  });

  it("the breaker opens after consecutive failures, refuses at once, half-opens after the cool-down and closes", async () => {
    const broken = await fake({ dialect: "tei", servedModel: "emb-tei", dims: 512, fault: "5xx" });
    const g = await gateway({ attempts: 1, breaker: { failures: 3, cooldownSeconds: 1 } }, [`emb-tei=${broken.url}`]);
    for (let i = 0; i < 3; i++) expect((await embed(g)).status).toBe(503);
    const calls = broken.log.length;
    const refused = await embed(g);
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as any).error.code).toBe("circuit_open");
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(broken.log.length).toBe(calls); // the open breaker did not call the engine
    let metrics = await (await fetch(`${g.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/retrieval_gateway_breaker_state\{model="emb-tei"\} 2/);

    // The engine recovers on the same address; after the cool-down one trial goes through and closes the breaker.
    const port = Number(new URL(broken.url).port);
    await broken.close();
    await fake({ dialect: "tei", servedModel: "emb-tei", dims: 512, port });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await embed(g)).status).toBe(200);
    expect((await embed(g)).status).toBe(200);
    metrics = await (await fetch(`${g.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/retrieval_gateway_breaker_state\{model="emb-tei"\} 0/);
  }, 30_000);

  it("SIGTERM drains: the in-flight request completes, then the process exits 0 and takes no more", async () => {
    const slow = await fake({ dialect: "tei", servedModel: "emb-tei", dims: 512, fault: "slow", slowMs: 1500 });
    const g = await gateway({}, [`emb-tei=${slow.url}`]);
    const inFlight = embed(g);
    await new Promise((r) => setTimeout(r, 300));
    const exit = g.stop("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).data[0].embedding).toHaveLength(512);
    expect(await exit).toBe(0);
    await expect(embed(g)).rejects.toThrow();
    expect(g.stderr()).toMatch(/draining in-flight/);
  }, 30_000);

  it("the drain time is the config's drainSeconds: a request within the upstream timeout survives SIGTERM, past the drain it is cut", async () => {
    // Default drain: upstreamTimeoutSeconds (5) x attempts (2) + 10 s; a 4 s call (within its timeout) completes.
    const slow = await fake({ dialect: "tei", servedModel: "emb-tei", dims: 512, fault: "slow", slowMs: 4000 });
    const g = await gateway({}, [`emb-tei=${slow.url}`]);
    const inFlight = embed(g);
    await new Promise((r) => setTimeout(r, 300));
    const exit = g.stop("SIGTERM");
    expect((await inFlight).status).toBe(200);
    expect(await exit).toBe(0);
    // drainSeconds 1 (config refuses a drain shorter than timeout x attempts, so the call's own timeout is 1 s too):
    // the process exits after about a second, and the 4 s call is never served as a 200.
    const short = await gateway({ drainSeconds: 1, upstreamTimeoutSeconds: 1, attempts: 1 }, [`emb-tei=${slow.url}`]);
    const cut = embed(short).then(
      (r) => r.status,
      () => "cut",
    );
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    expect(await short.stop("SIGTERM")).toBe(0);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(["cut", 504]).toContain(await cut);
  }, 30_000);
});
