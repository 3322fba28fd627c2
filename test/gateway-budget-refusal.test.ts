/**
 * The opt-in refusal (cost.refuseOverBudget) through the real gateway over 127.0.0.1: a key whose monthly GPU
 * budget is spent (here from a mounted file; in the cluster from the cost rules in Prometheus, see
 * gateway-budget.test.ts) gets a 429 budget_exhausted with Retry-After, before any engine call; other keys are
 * served.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RuntimeConfigSchema } from "../components/gateway/runtime-config";
import { gatewayRuntimeConfig } from "../components/gateway/runtime-config-from-stack";
import { parsePlatformConfig } from "../components/validation/parse";
import { Gateway } from "../images/gateway/src/server";
import { startFakeServer, type FakeServer } from "./fixtures/engine-server";
import { gatewayStack } from "./gateway-stack";

const sha = (k: string) => createHash("sha256").update(k).digest("hex");
const SPENT = "spent-key-0123456789abcdef";
const FINE = "fine-key-0123456789abcdef";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gateway-budget-refusal-"));
let tei: FakeServer;
let gateway: Gateway;
let base: string;

beforeAll(async () => {
  tei = await startFakeServer({ dialect: "tei", servedModel: "emb-tei", dims: 512 });
  const config = parsePlatformConfig(
    {
      ...gatewayStack({ keys: { "team-spent": { sha256: [sha(SPENT)] }, "team-fine": { sha256: [sha(FINE)] } } }),
      observability: { canary: { enabled: false } },
      cost: { budgets: { "team-spent": 10, "team-fine": 10 }, refuseOverBudget: true },
    },
    { secretKeys: new Set() },
  );
  const file = path.join(dir, "spent.json");
  fs.writeFileSync(file, JSON.stringify({ spent: ["team-spent"] }));
  const runtime = gatewayRuntimeConfig(config, "models", {
    upstreams: { "emb-tei": [tei.url] },
    playground: false,
    budgets: { file },
  });
  gateway = new Gateway({ config: RuntimeConfigSchema.parse({ ...runtime, metricsPort: 0 }), audit: () => {} });
  base = `http://127.0.0.1:${await gateway.listen(0)}`;
});
afterAll(async () => {
  await gateway?.shutdown();
  await tei?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const embed = (key: string) =>
  fetch(`${base}/v1/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model: "emb-tei", input: "hello" }),
  });

describe("a key whose monthly budget is spent", () => {
  it("gets 429 budget_exhausted with Retry-After; another key is served", async () => {
    const calls = tei.log.length;
    const r = await embed(SPENT);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await r.json()) as { error: { type: string; code: string; message: string } };
    expect(body.error).toMatchObject({ type: "rate_limit_error", code: "budget_exhausted" });
    expect(body.error.message).toMatch(/team-spent has spent its monthly GPU budget/);
    expect(tei.log.length).toBe(calls);
    expect((await embed(FINE)).status).toBe(200);
  });
});
