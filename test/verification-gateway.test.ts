import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { verifyAll, verifyTarget } from "../images/verifier/src/verify";
import { formatReport, type TargetReport } from "../images/verifier/src/report";
import type { VerifyOptions, VerifyTargetInput } from "../components/contracts/verify-target";
import { startFakeGateway, type FakeGateway, type FakeGatewayOptions } from "./fixtures/fake-gateway";
import { ROOT, run } from "./run-cli";

// ---------------------------------------------------------------------------------------------------------
// Gateway targets (issue 11): every model of a stack through the one base URL, in the OpenAI/Cohere shapes,
// with the gateway's key; plus the official openai client's defaults (base64) and the Cohere v2 rerank answer.
// ---------------------------------------------------------------------------------------------------------

const KEY = "gw-key-0123456789abcdef";
const OPTIONS: VerifyOptions = {
  requests: 8,
  concurrency: 2,
  timeoutSeconds: 15,
  requestTimeoutSeconds: 3,
  maxRetries: 1,
  quality: { enabled: false, minMrrAt10: 0.75 },
  retry: { baseBackoffMs: 10, maxBackoffMs: 50 },
  gatewayApiKey: KEY,
};
const MODELS: FakeGatewayOptions["models"] = {
  "bge-large-zh": { task: "embed", dims: 1024 },
  "qwen3-reranker": { task: "rerank" },
};

const gateways: FakeGateway[] = [];
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((g) => g.close()));
});
async function gateway(options: Partial<FakeGatewayOptions> = {}) {
  const g = await startFakeGateway({ models: MODELS, apiKey: KEY, ...options });
  gateways.push(g);
  return g;
}

const targetsOf = (url: string): VerifyTargetInput[] => [
  {
    name: "bge-large-zh via gateway",
    kind: "gateway",
    url,
    dialect: "openai",
    task: "embed",
    servedModel: "bge-large-zh",
    modelId: "BAAI/bge-large-zh-v1.5",
    dims: 1024,
    normalized: true,
    sloP99Ms: 2000,
  },
  {
    name: "qwen3-reranker via gateway",
    kind: "gateway",
    url,
    dialect: "openai",
    task: "rerank",
    servedModel: "qwen3-reranker",
    sloP99Ms: 2000,
  },
];

function row(report: TargetReport, check: string) {
  const r = report.checks.find((c) => c.check === check);
  if (!r) throw new Error(`no row ${check}\n${formatReport({ pass: false, startedAt: "", ms: 0, targets: [report] })}`);
  return r;
}

describe("gateway targets", () => {
  it("every model passes through the one URL, with the gateway key, in the OpenAI/Cohere shapes", async () => {
    const g = await gateway();
    const report = await verifyAll(targetsOf(g.url), { ...OPTIONS, apiKey: "engine-key-not-for-the-gateway" });
    expect(report.pass, formatReport(report)).toBe(true);
    const [embed, rerank] = report.targets;
    for (const check of ["health", "model.served", "embed.dims", "embed.norm", "gateway.openai-client", "latency.p99"])
      expect(row(embed!, check).status).toBe("pass");
    for (const check of ["model.served", "rerank.best-first", "rerank.top_n", "gateway.rerank-shape"])
      expect(row(rerank!, check).status).toBe("pass");
    expect(row(embed!, "gateway.openai-client").got).toMatch(
      /^2 vectors of 1024 numbers, cosine to the float answer ≥ 1\.0000\d*$/,
    );
    // One base URL, the gateway's key on every request, the public paths only.
    expect(new Set(g.log.map((l) => l.auth))).toEqual(new Set([`Bearer ${KEY}`]));
    expect(new Set(g.log.map((l) => `${l.method} ${l.path}`))).toEqual(
      new Set(["GET /v1/models", "POST /v1/embeddings", "POST /v1/rerank"]),
    );
    // The official client's default: base64 on the wire.
    expect(g.log.some((l) => l.body?.encoding_format === "base64")).toBe(true);
  });

  it("floats answered to a base64 request fail the official-client check (vectors of a quarter of the length)", async () => {
    const g = await gateway({ fault: "floats-for-base64" });
    const report = await verifyTarget(targetsOf(g.url)[0]!, OPTIONS);
    expect(row(report, "embed.dims").status).toBe("pass"); // float requests are fine
    const client = row(report, "gateway.openai-client");
    expect(client.status).toBe("fail");
    expect(client.got).toBe(
      "vectors of 256/1024, 256/1024 numbers (client/float): base64 not float32, or floats sent to a base64 request",
    );
    expect(report.pass).toBe(false);
  });

  it("rerank documents that are not the caller's text at their index fail the shape check", async () => {
    const g = await gateway({ fault: "wrong-documents" });
    const report = await verifyTarget(targetsOf(g.url)[1]!, OPTIONS);
    expect(row(report, "rerank.best-first").status).toBe("pass");
    expect(row(report, "gateway.rerank-shape")).toMatchObject({
      status: "fail",
      got: expect.stringMatching(/results\[0\]\.document\.text is not document 1's text/),
    });
  });

  it("a wrong key: the gateway's 401 in the health row, nothing else attempted", async () => {
    const g = await gateway();
    const report = await verifyTarget(targetsOf(g.url)[0]!, { ...OPTIONS, gatewayApiKey: "wrong" });
    expect(row(report, "health").got).toBe('HTTP 401 Unauthorized from /v1/models: "Invalid API key."');
    expect(report.checks).toHaveLength(1);
  });

  it("a model the gateway does not serve: model.served lists what it does", async () => {
    const g = await gateway({ models: { "bge-large-zh": { task: "embed", dims: 1024 } } });
    const report = await verifyTarget(targetsOf(g.url)[1]!, OPTIONS);
    expect(row(report, "model.served")).toMatchObject({ status: "fail", got: "[bge-large-zh]" });
  });

  it("a gateway target in another dialect is refused", async () => {
    const report = await verifyTarget({ ...targetsOf("http://127.0.0.1:1")[0]!, dialect: "tei" }, OPTIONS);
    expect(row(report, "target").got).toBe('dialect "tei" (the gateway speaks OpenAI/Cohere shapes only)');
  });

  it("the CLI: verify --gateway <url> --model <name> --task <t> --api-key <key>", async () => {
    const g = await gateway();
    const r = await run(
      path.join(ROOT, "node_modules", ".bin", "tsx"),
      [
        path.join(ROOT, "images", "verifier", "src", "cli.ts"),
        "verify",
        "--gateway",
        g.url,
        "--model",
        "qwen3-reranker",
        "--task",
        "rerank",
        "--api-key",
        KEY,
        "--requests",
        "8",
        "--concurrency",
        "2",
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^qwen3-reranker \(qwen3-reranker, rerank, openai dialect\) at http:\/\/127\.0\.0\.1:\d+: PASS/m,
    );
    expect(r.stdout).toMatch(/^gateway\.rerank-shape +\|/m);
  });
});
