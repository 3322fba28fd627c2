/**
 * The quality canary as the stack wires it when it has a gateway: its targets are what QualityCanary renders
 * (canaryTargetsOf with the gateway's URL), it calls the real gateway process (`npm run gateway`) with its own key,
 * and the gateway calls the fake engines. Its calls are counted under the canary's key name, never a customer's,
 * and a scale-to-zero model outside its active hours gets no call at all (so nothing wakes it).
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ModelConfigSchema } from "../components/config";
import { CanaryConfigSchema } from "../components/canary/config";
import { startCanary, type Canary } from "../components/canary/main";
import { canaryTargetsOf } from "../components/observability/quality-canary";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { startGateway, tempDir, writeStack, type GatewayProcess } from "./fixtures/gateway-process";
import { GATEWAY_MODELS, gatewayStack, KEY_A } from "./gateway-stack";
import { freePort } from "./free-port";

const CANARY_KEY = "canary-key-0123456789abcdef";
const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const NAMES = ["emb-tei", "rr-vllm"] as const;
// Half an hour, twelve hours from now: a scale-to-zero model with this window must not be called during the test.
const far = (new Date().getUTCHours() + 12) % 24;
const CLOSED_NOW = { timezone: "UTC", start: `0 ${far} * * *`, end: `30 ${far} * * *` };

const dir = tempDir();
const fakes: Record<string, FakeServer> = {};
let gw: GatewayProcess | undefined;
let canary: Canary | undefined;

beforeAll(async () => {
  fakes["emb-tei"] = await startFakeServer({ dialect: "tei", dims: 512 });
  fakes["rr-vllm"] = await startFakeServer({ dialect: "vllm", servedModel: "rr-vllm" });
  fakes["emb-night"] = await startFakeServer({ dialect: "tei", dims: 512 });
  const models = [
    ...GATEWAY_MODELS.filter((m) => (NAMES as readonly string[]).includes(m.name)),
    {
      ...GATEWAY_MODELS.find((m) => m.name === "emb-tei")!,
      name: "emb-night",
      replicas: { min: 0, max: 1 },
      autoscaling: { activeHours: CLOSED_NOW },
    },
  ];
  const stack = {
    ...gatewayStack({
      keys: { "team-a": { sha256: [sha(KEY_A)] }, canary: { sha256: [sha(CANARY_KEY)] } },
      dialects: {},
    }),
    models,
  };
  gw = await startGateway([
    "--stack",
    writeStack(dir, stack),
    ...Object.entries(fakes).map(([m, f]) => `--upstream=${m}=${f.url}`),
  ]);
  const targets = canaryTargetsOf(
    models.map((m) => ({ model: ModelConfigSchema.parse(m), url: "http://unused.invalid" })),
    gw.url,
  );
  let runs = 0;
  canary = await startCanary(
    CanaryConfigSchema.parse({
      intervalSeconds: 3600,
      jitterSeconds: 0,
      requestTimeoutSeconds: 5,
      host: "127.0.0.1",
      port: await freePort(),
      targets,
    }),
    { CANARY_API_KEY: CANARY_KEY },
    () => runs++,
  );
  // The first run starts at once: wait until every model has a last-run timestamp.
  const deadline = Date.now() + 60_000;
  while (
    Date.now() < deadline &&
    !NAMES.every((n) => canary!.registry.expose().includes(`last_run_timestamp_seconds{model="${n}"}`))
  )
    await new Promise((r) => setTimeout(r, 200));
}, 120_000);

afterAll(async () => {
  await canary?.stop();
  await gw?.stop();
  await Promise.all(Object.values(fakes).map((f) => f.close()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Value of one series of a Prometheus text exposition, by metric name and exact label values. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const body = line.slice(name.length + 1, line.lastIndexOf("}"));
    const got = Object.fromEntries([...body.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("the quality canary through the gateway", () => {
  it("passes health and sanity for every model and measures the reranker's quality through the one API", () => {
    const m = canary!.registry.expose();
    for (const model of NAMES) {
      expect(sample(m, "retrieval_stack_canary_check_success", { model, check: "health" }), model).toBe(1);
      expect(sample(m, "retrieval_stack_canary_check_success", { model, check: "sanity" }), model).toBe(1);
    }
    expect(sample(m, "retrieval_stack_canary_mrr_at_10", { model: "rr-vllm", set: "bundled" })).toBeGreaterThan(0.75);
  });

  it("is counted under its own key name at the gateway, never under a customer's", async () => {
    const audit = gw!.audit();
    expect(audit.length).toBeGreaterThan(0);
    expect(new Set(audit.map((a) => a.key))).toEqual(new Set(["canary"]));
    expect(new Set(audit.map((a) => a.model))).toEqual(new Set(NAMES));
    const metrics = await (await fetch(`${gw!.metricsUrl}/metrics`)).text();
    const calls = (key: string, model: string) =>
      sample(metrics, "retrieval_gateway_requests_total", { key, model, route: "/v1/rerank", status: "200" });
    expect(calls("canary", "rr-vllm")).toBeGreaterThan(0);
    expect(calls("team-a", "rr-vllm")).toBeUndefined();
  });

  it("never calls a scale-to-zero model outside its active hours, so the gateway never wakes it", () => {
    expect(fakes["emb-night"]!.log).toEqual([]);
    expect(gw!.audit().filter((a) => a.model === "emb-night")).toEqual([]);
    const m = canary!.registry.expose();
    expect(sample(m, "retrieval_stack_canary_skipped", { model: "emb-night" })).toBe(1);
    expect(sample(m, "retrieval_stack_canary_skipped", { model: "rr-vllm" })).toBe(0);
  });
});
