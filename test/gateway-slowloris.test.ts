import { createHash } from "node:crypto";
import * as http from "node:http";
import * as net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RuntimeConfigSchema, type RuntimeConfigInput } from "../components/gateway/runtime-config";
import { Gateway } from "../images/gateway/src/server";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";

/**
 * Slow clients (issue #21, "Connections"): the header and request timeouts close slowloris and slow-body
 * connections, the per-client and total connection caps drop the excess (counted), and a real client is served
 * within a bound meanwhile. A gateway in this process with short timeouts (1.5 s headers, 3 s request) so that the
 * closes happen within the test; attackers on 127.0.0.10-15, the real client on 127.0.0.2.
 */
const KEY = "slowloris-test-key-0123456789";
let engine: FakeServer;
const gateways: Gateway[] = [];
let sockets: net.Socket[] = [];

beforeAll(async () => {
  engine = await startFakeServer({ dialect: "tei", servedModel: "emb", dims: 8 });
});
afterEach(() => {
  for (const s of sockets) s.destroy();
  sockets = [];
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.shutdown()));
  await engine?.close();
});

async function gateway(connections: RuntimeConfigInput["connections"]) {
  const g = new Gateway({
    config: RuntimeConfigSchema.parse({
      models: [
        {
          name: "emb",
          task: "embed",
          dialect: "tei",
          upstreams: [engine.url],
          dims: 8,
          maxTokens: 512,
          ownedBy: "tei",
        },
      ],
      keys: [{ name: "team-a", sha256: [createHash("sha256").update(KEY).digest("hex")] }],
      limits: { requestsPerSecond: 10000, burst: 10000 },
      redis: { onDown: "fail-open" },
      maxBodyBytes: 1 << 20,
      maxInputs: 16,
      maxDocuments: 16,
      upstreamTimeoutMs: 5000,
      attempts: 1,
      breaker: { failures: 50, cooldownMs: 1000 },
      metricsPort: 0,
      connections,
    }),
    audit: () => {},
    log: () => {},
    kubeApi: false,
  });
  gateways.push(g);
  const port = await g.listen(0);
  return { port, refused: () => g.metrics.refused.get({ reason: "connections" }) };
}

/** A connection that sends a request line and then one header byte every `everyMs`, never finishing its headers. */
function slowloris(
  port: number,
  from: string,
  everyMs = 400,
): { closed: () => boolean; openMs: () => number; answer: () => string } {
  const s = net.connect({ host: "127.0.0.1", port, localAddress: from });
  const opened = Date.now();
  let closedAt = 0;
  let answer = "";
  s.on("error", () => {});
  s.on("data", (d) => (answer += d.toString()));
  s.on("close", () => {
    closedAt = Date.now();
    clearInterval(timer);
  });
  s.write("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  const timer = setInterval(() => s.writable && s.write("a"), everyMs);
  timer.unref();
  sockets.push(s);
  return { closed: () => closedAt > 0, openMs: () => (closedAt || Date.now()) - opened, answer: () => answer };
}

function embed(port: number): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/embeddings",
        method: "POST",
        localAddress: "127.0.0.2",
        agent: false,
        headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify({ model: "emb", input: "hello" }));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean, maxMs: number): Promise<number> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > maxMs) throw new Error(`not within ${maxMs} ms`);
    await sleep(50);
  }
  return Date.now() - t0;
}

describe("slow clients", () => {
  it("300 slowloris connections: real requests served within 2 s; the header timeout closes them all (408); the per-client cap drops the excess", async () => {
    const { port, refused } = await gateway({
      headersTimeoutMs: 1500,
      requestTimeoutMs: 3000,
      keepAliveTimeoutMs: 1000,
      maxConnections: 1000,
      maxPerClient: 60,
    });
    const slow = ["127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"].flatMap((from) =>
      Array.from({ length: 60 }, () => slowloris(port, from)),
    );
    // One address over its cap: 40 of its 100 are dropped at once and counted.
    const over = Array.from({ length: 100 }, () => slowloris(port, "127.0.0.15"));
    const started = Date.now();
    await until(() => over.filter((c) => c.closed()).length >= 40, 3000);
    expect(refused()).toBeGreaterThanOrEqual(40);
    const served = await Promise.all(Array.from({ length: 10 }, () => embed(port)));
    expect(served.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(Math.max(...served.map((r) => r.ms))).toBeLessThan(2000);
    // The header timeout (1.5 s, checked every second) closes every one of them, whatever they still send, and
    // none before it.
    await until(() => slow.every((c) => c.closed()), 6000);
    expect(Date.now() - started).toBeLessThan(6000);
    expect(Math.min(...slow.map((c) => c.openMs()))).toBeGreaterThanOrEqual(1400);
    expect(slow.filter((c) => c.answer().startsWith("HTTP/1.1 408")).length).toBeGreaterThan(250);
  }, 20_000);

  it("a slow body is cut at the request timeout; a full server drops new connections (counted) until timeouts free it", async () => {
    const { port, refused } = await gateway({
      headersTimeoutMs: 1500,
      requestTimeoutMs: 3000,
      keepAliveTimeoutMs: 1000,
      maxConnections: 50,
      maxPerClient: 40,
    });
    // Slow body: complete headers with a valid key, then one body byte every 300 ms of a declared 10,000.
    const body = net.connect({ host: "127.0.0.1", port, localAddress: "127.0.0.10" });
    sockets.push(body);
    let bodyClosedAt = 0;
    let bodyAnswer = "";
    body.on("error", () => {});
    body.on("data", (d) => (bodyAnswer += d.toString()));
    body.on("close", () => (bodyClosedAt = Date.now()));
    const bodyStart = Date.now();
    body.write(
      `POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{`,
    );
    const drip = setInterval(() => body.writable && body.write(" "), 300);
    try {
      // Fill the server: 40 + 40 slowloris connections against a total cap of 50.
      const slow = ["127.0.0.11", "127.0.0.12"].flatMap((from) =>
        Array.from({ length: 40 }, () => slowloris(port, from)),
      );
      await until(() => refused() >= 25, 3000);
      await until(() => bodyClosedAt > 0, 8000);
      // Cut at the request timeout (3 s, checked every second), with an answer (408) or a reset.
      expect(bodyClosedAt - bodyStart).toBeGreaterThanOrEqual(2500);
      expect(bodyClosedAt - bodyStart).toBeLessThan(6000);
      expect(bodyAnswer === "" || bodyAnswer.startsWith("HTTP/1.1 408")).toBe(true);
      // Once the header timeout closed the slow ones, a real client gets in.
      await until(() => slow.every((c) => c.closed()), 6000);
      expect((await embed(port)).status).toBe(200);
    } finally {
      clearInterval(drip);
    }
  }, 25_000);
});
