import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeServer, type Fault, type FakeServer } from "./fixtures/engine-server";
import { startHostileServer, type HostileServer } from "./fixtures/hostile-server";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { gatewayStack, KEY_A, teiEmbed } from "./gateway-stack";

/**
 * Engine answers are checked before they are served, and the breaker counts the engine, never the caller: one
 * gateway process in front of fake engines that each misbehave in one way (test/fixtures/engine-server.ts,
 * hostile-server.ts), over real sockets on 127.0.0.1.
 */
const gpu = { replicas: { min: 1, max: 1 }, gpu: { nodeGroup: "l4" }, slo: { p99LatencyMs: 1000 } };
const vllmEmbed = (name: string) => ({
  name,
  model: "Qwen/Qwen3-Embedding-0.6B",
  engine: "vllm",
  task: "embed",
  ...gpu,
});
const vllmRerank = (name: string) => ({
  name,
  model: "BAAI/bge-reranker-base",
  engine: "vllm",
  task: "rerank",
  ...gpu,
});

/** Model -> (dialect, fault, dims): TEI embeddings are 512-dim, vLLM's Qwen3 1024-dim. */
const BAD: Record<string, { dialect: "tei" | "vllm"; fault: Fault; dims?: number; reason: string }> = {
  "e-short": { dialect: "tei", fault: "short-dims", reason: "dims" },
  "e-wide": { dialect: "tei", fault: "none", dims: 1024, reason: "dims" },
  "e-ragged": { dialect: "tei", fault: "ragged", reason: "dims" },
  "e-missing": { dialect: "tei", fault: "missing-vector", reason: "count" },
  "e-inf": { dialect: "tei", fault: "inf", reason: "not_finite" },
  "e-dup": { dialect: "vllm", fault: "dup-index", dims: 1024, reason: "shape" },
  "r-missing": { dialect: "vllm", fault: "missing-score", reason: "count" },
  "r-empty": { dialect: "vllm", fault: "empty", reason: "count" },
  "r-dup": { dialect: "vllm", fault: "dup-index", reason: "index" },
  "r-range": { dialect: "vllm", fault: "out-of-range-index", reason: "index" },
};
const DOCS = ["alpha", "beta", "gamma"];

let gw: GatewayProcess;
const fakes: Record<string, FakeServer> = {};
let huge: HostileServer;
let drip: HostileServer;

beforeAll(async () => {
  const specs: [string, Parameters<typeof startFakeServer>[0]][] = [
    ...Object.entries(BAD).map(
      ([name, b]) =>
        [name, { dialect: b.dialect, servedModel: name, fault: b.fault, dims: b.dims ?? 512 }] as [
          string,
          Parameters<typeof startFakeServer>[0],
        ],
    ),
    ["e-401", { dialect: "tei", servedModel: "e-401", fault: "401" }],
    ["e-400", { dialect: "tei", servedModel: "e-400", fault: "400-internal" }],
  ];
  await Promise.all(specs.map(async ([name, o]) => (fakes[name] = await startFakeServer(o))));
  huge = await startHostileServer("huge", { bytes: 300 * 1024 * 1024 });
  drip = await startHostileServer("drip");
  const models = [
    ...Object.entries(BAD).map(([name, b]) =>
      name.startsWith("r-") ? vllmRerank(name) : b.dialect === "vllm" ? vllmEmbed(name) : teiEmbed(name),
    ),
    teiEmbed("e-401"),
    teiEmbed("e-400"),
    teiEmbed("e-huge"),
    teiEmbed("e-drip"),
  ];
  const stack = writeStack(tempDir(), {
    ...gatewayStack(
      {
        keys: { "team-a": { sha256: [createHash("sha256").update(KEY_A).digest("hex")] } },
        upstreamTimeoutSeconds: 2,
        attempts: 1,
        breaker: { failures: 2, cooldownSeconds: 1 },
      },
      models,
    ),
    gpuNodeGroups: { l4: { instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 32, diskSizeGiB: 200 } },
  });
  gw = await startGateway([
    "--stack",
    stack,
    ...Object.entries(fakes).map(([n, f]) => `--upstream=${n}=${f.url}`),
    `--upstream=e-huge=${huge.url}`,
    `--upstream=e-drip=${drip.url}`,
  ]);
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await Promise.all([...Object.values(fakes).map((f) => f.close()), huge?.close(), drip?.close()]);
});

async function call(model: string, extra: Record<string, unknown> = {}) {
  const rerank = model.startsWith("r-");
  const res = await fetch(`${gw.url}${rerank ? "/v1/rerank" : "/v1/embeddings"}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${KEY_A}` },
    body: JSON.stringify(
      rerank ? { model, query: "q", documents: DOCS, ...extra } : { model, input: ["one", "two", "three"], ...extra },
    ),
  });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as any, headers: res.headers };
}
const metrics = async () => (await fetch(`${gw.metricsUrl}/metrics`)).text();

describe("engine answers are checked before they are served", () => {
  it.each(Object.entries(BAD))("%s: a wrong answer is a 502 upstream_invalid, counted per model", async (model, b) => {
    const r = await call(model);
    expect(r.status, r.text).toBe(502);
    expect(r.json.error.code).toBe("upstream_invalid");
    expect(await metrics()).toContain(
      `retrieval_gateway_upstream_invalid_total{model="${model}",reason="${b.reason}"} 1`,
    );
  });

  it("wrong answers count for the breaker: the second opens it and the engine is not called again", async () => {
    expect((await call("e-short")).status).toBe(502); // the second failure in a row (the first was above)
    const calls = fakes["e-short"]!.log.length;
    const refused = await call("e-short");
    expect(refused.json.error.code).toBe("circuit_open");
    expect(fakes["e-short"]!.log.length).toBe(calls);
  });

  it("a 300 MB answer is cut at the answer's size bound: 502, and the gateway stays up", async () => {
    const started = Date.now();
    const r = await call("e-huge");
    expect(r.status).toBe(502);
    expect(r.json.error.code).toBe("upstream_invalid");
    expect(huge.written()).toBeLessThan(64 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });

  it("an engine that trickles bytes is cut at the upstream timeout (2 s), not at the client's patience", async () => {
    const started = Date.now();
    const r = await call("e-drip");
    const took = Date.now() - started;
    expect(r.status).toBe(504);
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(4000);
  });
});

describe("the breaker counts the engine, never the caller", () => {
  it("an engine's 400 is the caller's (400, its text never passed on) and never opens the breaker", async () => {
    for (let i = 0; i < 4; i++) {
      const r = await call("e-400");
      expect(r.status).toBe(400);
      expect(r.json.error.code).toBe("upstream_rejected");
      expect(r.text).not.toMatch(/gpu-node|internal/);
    }
    expect(fakes["e-400"]!.log.length).toBe(4); // every call reached the engine: the breaker stayed closed
    expect(gw.stderr()).toMatch(/gpu-node-17\.internal\.example/); // the operator has the engine's words
  });

  it("an engine refusing the gateway itself (401) is a 502, counted: two open the breaker", async () => {
    const a = await call("e-401");
    expect(a.status).toBe(502);
    expect(a.text).not.toMatch(/svc\.cluster\.local|tenant/);
    expect((await call("e-401")).status).toBe(502);
    expect((await call("e-401")).json.error.code).toBe("circuit_open");
  });

  it("a caller's 400 during half-open gives the trial back: healthy calls go through right after", async () => {
    // e-401's breaker was opened by the test above; after its 1 s cool-down it half-opens (one trial).
    await new Promise((r) => setTimeout(r, 1100));
    const bad = await call("e-401", { dimensions: 3 }); // the caller's mistake: refused before the engine
    expect(bad.status).toBe(400);
    const trial = await call("e-401"); // the trial is free again: it reaches the engine (and fails there)
    expect(trial.status).toBe(502);
    expect(trial.json.error.code).toBe("upstream_error");
  });
});
